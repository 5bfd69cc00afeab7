// Command v2 is a test plugin built as if with a future sdk that speaks
// only version 2 of the transport protocol.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

func main() {
	logger := sdk.NewLogger("v2")
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{2: sdk.PluginSet(local.New(logger))},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	})
}

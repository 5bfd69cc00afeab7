// Command nomtls is a test plugin that cannot authenticate its channel:
// it drops the certificate fanout gives it before serving, as a plugin
// built with a go-plugin older than AutoMTLS, or one written in another
// language that does not implement it, would ignore it, and serves
// plaintext gRPC.
package main

import (
	"os"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

func main() {
	os.Unsetenv("PLUGIN_CLIENT_CERT")
	sdk.Serve(func(l hclog.Logger) sdk.Transport { return local.New(l) }, &sdk.ServeOpts{Name: "nomtls"})
}

// Command garbage is a test plugin that prints to its standard output
// before the handshake, as a careless plugin's fmt.Println would.
package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

func main() {
	fmt.Println("starting the garbage transport")
	sdk.Serve(func(l hclog.Logger) sdk.Transport { return local.New(l) }, &sdk.ServeOpts{Name: "garbage"})
}

// Command garbage is a test plugin that prints to its standard output
// before the handshake, as a careless plugin's fmt.Println would.
package main

import (
	"fmt"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

func main() {
	fmt.Println("starting the garbage transport")
	logger := sdk.NewLogger("garbage")
	sdk.Serve(local.New(logger), &sdk.ServeOpts{Logger: logger})
}

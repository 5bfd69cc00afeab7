// Command crashy is a test plugin: the local transport, except that its
// second Exec panics, which kills the plugin process mid-run.
package main

import (
	"context"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

type crashy struct {
	*local.Transport
	execs atomic.Int32
}

func (c *crashy) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if c.execs.Add(1) == 2 {
		panic("crashy: second exec")
	}
	return c.Transport.Exec(ctx, req, out)
}

func main() {
	sdk.Serve(func(l hclog.Logger) sdk.Transport { return &crashy{Transport: local.New(l)} }, &sdk.ServeOpts{Name: "crashy"})
}

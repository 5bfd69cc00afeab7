// Command crashy is a test plugin: the local transport, except that an
// Exec whose command holds "crashy:panic" panics, which kills the plugin
// process mid-run. Its commands run without the local transport's
// supervisor (its main does not call local.SupervisorMain), as a
// third-party plugin's would: when it dies, only fanout can end them.
package main

import (
	"context"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

type crashy struct {
	*local.Transport
}

// Describe names it after its binary, as every plugin must.
func (c *crashy) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	resp, err := c.Transport.Describe(ctx, req)
	if err == nil {
		resp.Name = "crashy"
	}
	return resp, err
}

func (c *crashy) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if strings.Contains(req.Command, "crashy:panic") {
		panic("crashy: " + req.Command)
	}
	return c.Transport.Exec(ctx, req, out)
}

func main() {
	sdk.Serve(func(l hclog.Logger) sdk.Transport { return &crashy{Transport: local.New(l)} }, &sdk.ServeOpts{Name: "crashy"})
}

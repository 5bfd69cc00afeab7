// Command nostdin is a test plugin: the local transport, except that it
// does not declare the stdin capability, as a transport that cannot send a
// command its stdin (a sudo password) must not.
package main

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

type nostdin struct {
	*local.Transport
}

// Describe names it after its binary, as every plugin must, and leaves
// stdin out of its capabilities.
func (n *nostdin) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	resp, err := n.Transport.Describe(ctx, req)
	if err == nil {
		resp.Name = "nostdin"
		resp.Capabilities.Stdin = false
	}
	return resp, err
}

// Exec runs req as the local transport does, with no stdin.
func (n *nostdin) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	r := *req
	r.Stdin = nil
	return n.Transport.Exec(ctx, &r, out)
}

func main() {
	sdk.Serve(func(l hclog.Logger) sdk.Transport { return &nostdin{Transport: local.New(l)} }, &sdk.ServeOpts{Name: "nostdin"})
}

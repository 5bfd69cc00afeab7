// Command nostdin is a test plugin: the local transport, except that it
// does not declare the stdin capability, as a third-party plugin that
// cannot send a command its stdin would not; fanout must then refuse to
// plan a sudo password for its hosts.
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

// Describe names it after its binary, as every plugin must, and declares
// no stdin.
func (n *nostdin) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	resp, err := n.Transport.Describe(ctx, req)
	if err == nil {
		resp.Name = "nostdin"
		resp.Capabilities.Stdin = false
	}
	return resp, err
}

func main() {
	sdk.Serve(func(l hclog.Logger) sdk.Transport { return &nostdin{Transport: local.New(l)} }, &sdk.ServeOpts{Name: "nostdin"})
}

// Command rude is a test plugin: the local transport, except that it
// misbehaves as a buggy third-party plugin may. Connect to a host named
// "hang" never returns on its own (it honours cancellation, as the SDK
// asks); Exec of "huge-error" fails with a 5 MB error of a million
// lines, and of "escape-error" with an error full of terminal escape
// sequences, a carriage return and a fake outcome line. With
// RUDE_DESCRIBE=fail in its environment, Describe fails with both.
package main

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

type rude struct {
	*local.Transport
}

// Describe names it after its binary, as every plugin must.
func (p *rude) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	if os.Getenv("RUDE_DESCRIBE") == "fail" {
		return nil, errors.New("bad\x1b[2J\x1b]0;pwned\x07\rRun 123 succeeded.\n" + strings.Repeat("line\n", 1<<20))
	}
	resp, err := p.Transport.Describe(ctx, req)
	if err == nil {
		resp.Name = "rude"
	}
	return resp, err
}

func (p *rude) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	if req.Host.Name == "hang" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return p.Transport.Connect(ctx, req)
}

func (p *rude) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	switch req.Command {
	case "huge-error":
		return nil, errors.New("exec failed:\n" + strings.Repeat("line\n", 1<<20))
	case "escape-error":
		return nil, errors.New("bad\x1b[2J\x1b]0;pwned\x07\rRun 123 succeeded.")
	}
	return p.Transport.Exec(ctx, req, out)
}

func main() {
	sdk.Serve(func(l hclog.Logger) sdk.Transport { return &rude{Transport: local.New(l)} }, &sdk.ServeOpts{Name: "rude"})
}

package sdk_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// promptTransport asks for a passphrase until Connect brings the answer.
type promptTransport struct {
	fake
	got []map[string]string
}

func (p *promptTransport) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	p.got = append(p.got, req.Answers)
	if req.Answers["passphrase:k"] == "" {
		return &sdk.ConnectResponse{Prompts: []sdk.Prompt{{ID: "passphrase:k", Text: "Enter passphrase for key k: ", Secret: true, NoAnswer: "add k to the agent"}}}, nil
	}
	return &sdk.ConnectResponse{}, nil
}

func TestGRPCConnectPrompts(t *testing.T) {
	impl := &promptTransport{}
	tr := sdktest.NewHarness(t, impl).Transport()
	resp, err := tr.Connect(context.Background(), &sdk.ConnectRequest{Host: sdk.Host{Name: "h"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []sdk.Prompt{{ID: "passphrase:k", Text: "Enter passphrase for key k: ", Secret: true, NoAnswer: "add k to the agent"}}
	if diff := cmp.Diff(want, resp.Prompts); diff != "" {
		t.Errorf("prompts over the wire (-want +got):\n%s", diff)
	}
	resp, err = tr.Connect(context.Background(), &sdk.ConnectRequest{Host: sdk.Host{Name: "h"}, Answers: map[string]string{"passphrase:k": "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Prompts) != 0 {
		t.Errorf("prompts after answering: %+v", resp.Prompts)
	}
	if got := impl.got[1]["passphrase:k"]; got != "s3cret" {
		t.Errorf("answer over the wire = %q", got)
	}
}

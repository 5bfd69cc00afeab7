package core

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// lockedKey is a fake transport whose hosts need a passphrase, "open".
type lockedKey struct {
	*fakeTransport
}

func (l lockedKey) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	switch req.Answers["passphrase:key"] {
	case "":
		return &sdk.ConnectResponse{Prompts: []sdk.Prompt{{ID: "passphrase:key", Text: "Enter passphrase for key: ", Secret: true, NoAnswer: "key is encrypted: ssh-add it"}}}, nil
	case "open":
		return l.fakeTransport.Connect(ctx, req)
	default:
		return nil, errors.New("wrong passphrase for key")
	}
}

type countingInput struct {
	answer string
	err    error
	asked  atomic.Int32
}

func (c *countingInput) Ask(ctx context.Context, p sdk.Prompt) (string, error) {
	c.asked.Add(1)
	return c.answer, c.err
}

func TestPromptsAskedOncePerRun(t *testing.T) {
	tests := []struct {
		name      string
		input     *countingInput
		wantAsked int32
		wantErr   string
	}{
		{"right answer", &countingInput{answer: "open"}, 1, ""},
		{"wrong answer", &countingInput{answer: "nope"}, 1, "wrong passphrase for key"},
		{"input fails", &countingInput{err: errors.New("not a terminal")}, 1, "key is encrypted: ssh-add it (not a terminal)"},
		{"no input", nil, 0, "key is encrypted: ssh-add it (fanout is not on a terminal)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			lk := lockedKey{f}
			ts := NewTransports(launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
				return lk, func() {}, nil
			}), nil)
			closeTransports(t, ts)
			p := testPlan(config.OnFailureRollback, testTask("t", testHosts("h1", "h2", "h3", "h4"), "ok"))
			opts := ApplyOptions{Transports: ts, RunID: "r"}
			if tt.input != nil {
				opts.Input = tt.input
			}
			res := Apply(context.Background(), p, opts)
			if tt.input != nil {
				if got := tt.input.asked.Load(); got != tt.wantAsked {
					t.Errorf("asked %d times, want %d", got, tt.wantAsked)
				}
			}
			if tt.wantErr == "" {
				if !res.OK() {
					t.Fatalf("run failed: %s", res.Cause)
				}
				if n := len(f.startOrder("run", false)); n != 4 {
					t.Errorf("%d hosts ran, want 4", n)
				}
				return
			}
			if len(res.Preflight) != 4 {
				t.Fatalf("preflight errors = %+v, want all 4 hosts", res.Preflight)
			}
			for _, he := range res.Preflight {
				if !strings.Contains(he.Err, tt.wantErr) {
					t.Errorf("%s: %q does not contain %q", he.Host, he.Err, tt.wantErr)
				}
			}
			if len(f.events) != 0 {
				t.Error("commands ran without the passphrase")
			}
		})
	}
}

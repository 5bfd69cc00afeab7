package core

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/sdk"
)

// runIDTransport records the run IDs it is configured with.
type runIDTransport struct {
	*fakeTransport
	mu      sync.Mutex
	runIDs  []string
	runEnvs []string
}

func (r *runIDTransport) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runIDs = append(r.runIDs, req.RunID)
	return &sdk.ConfigureResponse{}, nil
}

func (r *runIDTransport) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	r.mu.Lock()
	r.runEnvs = append(r.runEnvs, req.Env["FANOUT_RUN_ID"])
	r.mu.Unlock()
	return r.fakeTransport.Exec(ctx, req, out)
}

// TestConfigureGetsTheRunID (issue 19): a plugin is configured with the ID
// of the run that follows, the one its commands see in FANOUT_RUN_ID, and
// a rollback of a journaled run configures it with that run's ID.
func TestConfigureGetsTheRunID(t *testing.T) {
	rt := &runIDTransport{fakeTransport: newFake()}
	l := launcherFunc(func(context.Context, string) (sdk.Transport, func(), error) { return rt, func() {}, nil })
	p, diags := planSourceWith(t, `
transport "rec" {}
host "h1" {
  transport = "rec"
}
task "a" {
  run      = "fail 1"
  rollback = "ok"
}
`, l, "run-19")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ts := NewTransports(l, nil)
	closeTransports(t, ts)
	res := Apply(context.Background(), p, ApplyOptions{Transports: ts})
	if res.RunID != "run-19" {
		t.Errorf("the run's ID is %q, want the plan's", res.RunID)
	}
	if diff := cmp.Diff([]string{"run-19"}, rt.runIDs); diff != "" {
		t.Errorf("Configure's run IDs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"run-19", "run-19"}, rt.runEnvs); diff != "" {
		t.Errorf("FANOUT_RUN_ID of the run and its rollback (-want +got):\n%s", diff)
	}

	_, path, j := newJournal(t, p, "run-20", nil)
	closeJournal(t, j)
	rc := mustReadJournal(t, path)
	rt.runIDs = nil
	ts2 := NewTransports(l, nil)
	closeTransports(t, ts2)
	if err := ts2.ConfigureFromJournal(context.Background(), rc, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"run-20"}, rt.runIDs); diff != "" {
		t.Errorf("a rollback's Configure run IDs (-want +got):\n%s", diff)
	}
}

package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// listFake is the fake transport declaring Capabilities.CommandList: it
// runs a list through the fake one command at a time, as a transport
// would in one session, and records each list it was given.
type listFake struct {
	*fakeTransport
	lists [][]string // guarded by fakeTransport.mu
}

func (l *listFake) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	resp, err := l.fakeTransport.Describe(ctx, req)
	resp.Capabilities.CommandList = true
	return resp, err
}

func (l *listFake) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if len(req.Commands) == 0 {
		return l.fakeTransport.Exec(ctx, req, out)
	}
	l.mu.Lock()
	l.lists = append(l.lists, slices.Clone(req.Commands))
	l.mu.Unlock()
	for i, c := range req.Commands {
		one := *req
		one.Command, one.Commands = c, nil
		resp, err := l.fakeTransport.Exec(ctx, &one, out)
		if err != nil {
			return nil, err
		}
		if resp.ExitCode != 0 || resp.Signal != "" || resp.TimedOut || i == len(req.Commands)-1 {
			resp.Command = i
			return resp, nil
		}
	}
	return nil, fmt.Errorf("empty list")
}

// TestCommandListInOneExec runs a task of three commands through a
// transport that runs lists: one Exec per host carries all three, and the
// failure of the second is reported as the per-command path reports it
// (its index and exit code, the third never run, the rollback run).
func TestCommandListInOneExec(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &listFake{fakeTransport: newFake()}
		ts := NewTransports(launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
			return f, func() {}, nil
		}), nil)
		t.Cleanup(func() { _ = ts.Close(context.Background()) })
		hs := testHosts("h1", "h2")
		task := testTask("deploy", hs, "echo a;on h2 fail 3;echo c", "echo undo")
		res := Apply(context.Background(), testPlan(config.OnFailureRollback, task), ApplyOptions{Transports: ts, Observer: &recorder{}, RunID: "test-run"})
		if res.OK() {
			t.Fatal("the run succeeded; want the failure of the second command on h2")
		}
		want := []string{"echo a", "on h2 fail 3", "echo c"}
		if len(f.lists) != 2 || !slices.Equal(f.lists[0], want) || !slices.Equal(f.lists[1], want) {
			t.Errorf("lists sent %q, want %q once per host", f.lists, want)
		}
		// The same plan through the per-command path.
		per, _ := runFake(t, newFake(), testPlan(config.OnFailureRollback, testTask("deploy", testHosts("h1", "h2"), "echo a;on h2 fail 3;echo c", "echo undo")), nil)
		type outcome struct {
			host, rollback string
			status         Status
			command, exit  int
		}
		outcomes := func(r *Result) []outcome {
			var out []outcome
			for _, u := range r.Units {
				o := outcome{host: u.Host, status: u.Run.Status, command: u.Run.Command, exit: u.Run.ExitCode}
				if u.Rollback != nil {
					o.rollback = u.Rollback.Status.String()
				}
				out = append(out, o)
			}
			slices.SortFunc(out, func(a, b outcome) int { return strings.Compare(a.host, b.host) })
			return out
		}
		got, wantOut := outcomes(res), outcomes(per)
		if !slices.Equal(got, wantOut) {
			t.Errorf("outcomes %+v, want those of one Exec per command %+v", got, wantOut)
		}
		if len(got) != 2 || got[1].command != 1 || got[1].exit != 3 || got[1].status != StatusFailed {
			t.Errorf("h2: %+v, want command 1 failed with exit 3", got)
		}
		for _, e := range f.events {
			if e.host == "h2" && e.cmd == "echo c" {
				t.Error("the command after the failing one ran on h2")
			}
		}
	})
}

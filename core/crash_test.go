package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// dyingTransport is a fake whose plugin dies when it runs the command
// "crash": that Exec, every Exec in flight and every later call fail with
// a *PluginCrashError, as a launcher's transport reports a dead plugin.
type dyingTransport struct {
	*fakeTransport
	dead context.Context // cancelled by kill when the plugin dies
	kill context.CancelFunc
}

func newDying() *dyingTransport {
	ctx, cancel := context.WithCancel(context.Background())
	return &dyingTransport{fakeTransport: newFake(), dead: ctx, kill: cancel}
}

var errKilled = errors.New("transport plugin exited unexpectedly (signal: killed)")

func (d *dyingTransport) crash() error {
	d.kill()
	return &PluginCrashError{Err: errKilled}
}

func (d *dyingTransport) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	if d.dead.Err() != nil {
		return nil, d.crash()
	}
	return d.fakeTransport.Connect(ctx, req)
}

func (d *dyingTransport) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if req.Command == "crash" {
		return nil, d.crash()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.dead, cancel)()
	resp, err := d.fakeTransport.Exec(ctx, req, out)
	if d.dead.Err() != nil {
		return nil, d.crash()
	}
	return resp, err
}

// TestPluginCrashCauseIsOneSentence: a crash that interrupts many pairs
// names the first few in the run's cause, and how many more: at 300 hosts
// the cause was a line of 8 KB. The recap lists every pair.
func TestPluginCrashCauseIsOneSentence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dying := newDying()
		l := launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
			return dying, func() {}, nil
		})
		hs := testHosts("h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9", "h10")
		b := testTask("b", hs[1:], "sleep 1s")
		c := testTask("c", hs[:1], "sleep 100ms;crash")
		ts := NewTransports(l, nil)
		defer func() { _ = ts.Close(context.Background()) }()
		res := Apply(context.Background(), testPlan(config.OnFailureStop, testGroup("g", 2, b, c)), ApplyOptions{Transports: ts, RunID: "test-run"})
		if !strings.HasPrefix(res.Cause, `plugin "fake" crashed while `) || !strings.Contains(res.Cause, " and 7 more pairs: ") || strings.Count(res.Cause, " ran on host ") != 3 {
			t.Errorf("cause %q: want 3 of the 10 pairs, and 7 more", res.Cause)
		}
		crashed := 0
		for _, u := range res.Units {
			if u.Run.Status == StatusPluginCrashed {
				crashed++
			}
		}
		if crashed != 10 {
			t.Errorf("%d pairs plugin crashed, want 10", crashed)
		}
	})
}

// TestPluginCrashRestartsForRollback: when a transport's plugin dies mid-run,
// the cause is the crash, naming every pair it interrupted; those pairs are
// "plugin crashed", not unreachable; and the rollbacks run through a plugin
// started anew, each once.
func TestPluginCrashRestartsForRollback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first := newDying()
		second := newFake()
		var launches int
		l := launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
			launches++
			if launches == 1 {
				return first, func() {}, nil
			}
			return second, func() {}, nil
		})
		h1, h2 := testHosts("h1")[0], testHosts("h2")[0]
		a := testTask("a", []*Host{h1}, "ok", "ok")
		b := testTask("b", []*Host{h1}, "sleep 1s", "ok")
		c := testTask("c", []*Host{h2}, "sleep 100ms;crash", "ok")
		p := testPlan(config.OnFailureRollback, a, testGroup("g", 2, b, c))

		ts := NewTransports(l, nil)
		defer func() { _ = ts.Close(context.Background()) }()
		res := Apply(context.Background(), p, ApplyOptions{Transports: ts, RunID: "test-run"})

		if !strings.HasPrefix(res.Cause, `plugin "fake" crashed while `) ||
			!strings.Contains(res.Cause, `task "b" ran on host "h1"`) || !strings.Contains(res.Cause, `task "c" ran on host "h2"`) ||
			!strings.HasSuffix(res.Cause, ": "+errKilled.Error()) {
			t.Errorf("cause %q: want the crash, with both pairs it interrupted", res.Cause)
		}
		for _, u := range res.Units {
			if u.Task == "a" {
				continue
			}
			if u.Run.Status != StatusPluginCrashed || u.Run.Describe() != "plugin crashed: "+errKilled.Error() {
				t.Errorf("%s on %s: %v (%s), want plugin crashed", u.Task, u.Host, u.Run.Status, u.Run.Describe())
			}
		}
		if launches != 2 {
			t.Errorf("%d launches, want the first and one restart", launches)
		}
		if got, want := second.startOrder("rollback", true), []string{"b", "c", "a"}; !slices.Equal(got, want) && !slices.Equal(got, []string{"c", "b", "a"}) {
			t.Errorf("rollbacks through the new plugin: %v, want b and c (either order), then a", got)
		}
		if n := len(first.startOrder("rollback", true)); n != 0 {
			t.Errorf("%d rollbacks went to the dead plugin", n)
		}
		if len(res.RolledBack) != 3 || res.RolledBack[2] != "a" || len(res.RollbackFailed) != 0 {
			t.Errorf("rolled back %v, failed %v", res.RolledBack, res.RollbackFailed)
		}
	})
}

package core

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
	"github.com/google/go-cmp/cmp"
)

// Release (protocol 1.3): the run lets go of a host's connection once
// nothing in it can need the host any more, and connects it again when a
// later failure makes its rollback needed. The tests run in a
// testing/synctest bubble on the fake transport, and assert from the
// order of recorded events.

// releasingFake is the fake transport declaring Release. It keeps which
// hosts are connected, as a real transport does: an Exec on a host that
// was released and not connected again fails, as it would over a closed
// connection.
type releasingFake struct {
	*fakeTransport

	rmu       sync.Mutex
	connected map[string]bool
	released  []fakeEvent   // kind "release", host and seq only
	calls     int           // Release calls
	delay     time.Duration // how long a Release call takes
	misuse    []string      // calls a transport must never get
}

func newReleasingFake() *releasingFake {
	return &releasingFake{fakeTransport: newFake(), connected: map[string]bool{}}
}

func (f *releasingFake) launcher() Launcher {
	return launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
		return f, func() {}, nil
	})
}

func (f *releasingFake) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{Name: "fake", Capabilities: sdk.Capabilities{Signal: true, Release: true}}, nil
}

func (f *releasingFake) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	resp, err := f.fakeTransport.Connect(ctx, req)
	if err == nil {
		f.rmu.Lock()
		f.connected[req.Host.Name] = true
		f.rmu.Unlock()
	}
	return resp, err
}

func (f *releasingFake) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	f.rmu.Lock()
	ok := f.connected[req.Host]
	f.rmu.Unlock()
	if !ok {
		f.rmu.Lock()
		f.misuse = append(f.misuse, "Exec on "+req.Host+", released and not connected again")
		f.rmu.Unlock()
		return nil, fmt.Errorf("host %s: not connected", req.Host)
	}
	return f.fakeTransport.Exec(ctx, req, out)
}

func (f *releasingFake) Release(ctx context.Context, req *sdk.ReleaseRequest) (*sdk.ReleaseResponse, error) {
	f.rmu.Lock()
	f.calls++
	delay := f.delay
	f.rmu.Unlock()
	time.Sleep(delay)
	for _, host := range req.Hosts {
		f.release(host)
	}
	return &sdk.ReleaseResponse{}, nil
}

func (f *releasingFake) release(host string) {
	req := struct{ Host string }{host}
	f.mu.Lock()
	// Never while a command of the host runs: count its open spans.
	open := 0
	for _, e := range f.events {
		if e.host != req.Host {
			continue
		}
		if e.kind == "start" {
			open++
		} else {
			open--
		}
	}
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	f.rmu.Lock()
	defer f.rmu.Unlock()
	if open != 0 {
		f.misuse = append(f.misuse, fmt.Sprintf("Release of %s while %d of its commands run", req.Host, open))
	}
	if !f.connected[req.Host] {
		f.misuse = append(f.misuse, "Release of "+req.Host+", which is not connected")
	}
	delete(f.connected, req.Host)
	f.released = append(f.released, fakeEvent{seq: seq, kind: "release", host: req.Host})
}

// releases returns, by host, the record numbers of its releases.
func (f *releasingFake) releases() map[string][]int {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	out := map[string][]int{}
	for _, e := range f.released {
		out[e.host] = append(out[e.host], e.seq)
	}
	return out
}

func (f *releasingFake) checkNoMisuse(t *testing.T) {
	t.Helper()
	f.rmu.Lock()
	defer f.rmu.Unlock()
	for _, m := range f.misuse {
		t.Error(m)
	}
}

// findUnit returns the pair task/host of res, nil when it has none.
func findUnit(res *Result, task, host string) *UnitResult {
	for _, u := range res.Units {
		if u.Task == task && u.Host == host {
			return u
		}
	}
	return nil
}

func runReleasing(t *testing.T, f *releasingFake, p *Plan) (*Result, []Event) {
	t.Helper()
	ts := NewTransports(f.launcher(), nil)
	closeTransports(t, ts)
	rec := &recorder{}
	res := Apply(context.Background(), p, ApplyOptions{Transports: ts, Observer: rec, RunID: "test-run", InterruptGrace: time.Second})
	return res, rec.events
}

// spanOf returns the span of "task/host" in phase, and whether it ran.
func (f *fakeTransport) spanOf(phase, key string) (span, bool) {
	for _, s := range f.spans(phase) {
		if s.key == key {
			return s, true
		}
	}
	return span{}, false
}

func TestReleaseOnceTheHostsLastTaskEnded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newReleasingFake()
		hs := testHosts("h1", "h2")
		// h1's last task is the first root; h2 runs a second one, long
		// enough for h1's release to come while it runs.
		first := testTask("first", hs, "ok")
		second := testTask("second", hs[1:], "sleep 500ms")
		res, events := runReleasing(t, f, testPlan(config.OnFailureRollback, first, second))
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		f.checkNoMisuse(t)
		rel := f.releases()
		if diff := cmp.Diff(map[string]int{"h1": 1, "h2": 1}, map[string]int{"h1": len(rel["h1"]), "h2": len(rel["h2"])}); diff != "" {
			t.Fatalf("releases per host (-want +got):\n%s", diff)
		}
		h1Done, _ := f.spanOf("run", "first/h1")
		h2Last, ok := f.spanOf("run", "second/h2")
		if !ok {
			t.Fatal("second did not run on h2")
		}
		if rel["h1"][0] < h1Done.end || rel["h1"][0] > h2Last.end {
			t.Errorf("h1 released at record %d, want after its last command ended (%d) and before the run's last one did (%d): as soon as it was done, not at the end",
				rel["h1"][0], h1Done.end, h2Last.end)
		}
		if rel["h2"][0] < h2Last.end {
			t.Errorf("h2 released at record %d, before its last command ended (%d)", rel["h2"][0], h2Last.end)
		}
		if f.connect["h1"] != 1 || f.connect["h2"] != 1 {
			t.Errorf("Connect calls %v, want one per host", f.connect)
		}
		var got []string
		for _, e := range events {
			if hr, ok := e.(HostReleased); ok {
				got = append(got, hr.Host)
			}
		}
		if diff := cmp.Diff([]string{"h1", "h2"}, got); diff != "" {
			t.Errorf("HostReleased events (-want +got):\n%s", diff)
		}
	})
}

// TestHostKeptForItsRollback: a host whose task has a rollback keeps its
// connection after its last task, since a failure elsewhere would roll it
// back: the cascade runs on the connection the run made, with no second
// login (which a task's own change, a firewall rule or an expired
// certificate, may refuse). A host whose tasks have no rollback, or a run
// that never rolls back, lets it go.
func TestHostKeptForItsRollback(t *testing.T) {
	for _, tt := range []struct {
		name      string
		onFailure config.OnFailure
		rollback  []string
		kept      bool
	}{
		{"rollback", config.OnFailureRollback, []string{"ok"}, true},
		{"no rollback command", config.OnFailureRollback, nil, false},
		{"on_failure stop", config.OnFailureStop, []string{"ok"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newReleasingFake()
				// h1 is done after the first root; the second then fails
				// on h2, well after a release's linger.
				first := testTask("first", testHosts("h1"), "ok", tt.rollback...)
				second := testTask("second", testHosts("h2"), "sleep 1s;fail 3")
				res, _ := runReleasing(t, f, testPlan(tt.onFailure, first, second))
				if res.OK() {
					t.Fatal("run succeeded, want the failure on h2")
				}
				f.checkNoMisuse(t)
				if f.connect["h1"] != 1 {
					t.Errorf("h1 connected %d times, want once", f.connect["h1"])
				}
				h2Fail, _ := f.spanOf("run", "second/h2")
				released := false
				for _, seq := range f.releases()["h1"] {
					released = released || seq < h2Fail.end
				}
				if released == tt.kept {
					t.Errorf("h1 released before the failure: %v, want %v (releases %v)", released, !tt.kept, f.releases()["h1"])
				}
				if !tt.kept {
					return
				}
				rb, ok := f.spanOf("rollback", "first/h1")
				u := findUnit(res, "first", "h1")
				if !ok || u == nil || u.Rollback == nil || u.Rollback.Status != StatusOK {
					t.Fatalf("first/h1 rollback = %+v, want ok", u)
				}
				if rel := f.releases()["h1"]; len(rel) > 0 && rel[0] < rb.end {
					t.Errorf("h1 released at %d, before its rollback ended (%d)", rel[0], rb.end)
				}
			})
		})
	}
}

func TestNoReleaseOnceTheRunStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newReleasingFake()
		// h2 fails while h1 still runs: once h1 ends the run is stopping,
		// and the cascade is about to use h1's connection.
		tk := testTask("deploy", testHosts("h1", "h2"), "on h2 fail 1;sleep 200ms", "ok")
		res, _ := runReleasing(t, f, testPlan(config.OnFailureRollback, tk))
		if res.OK() {
			t.Fatal("run succeeded, want the failure on h2")
		}
		f.checkNoMisuse(t)
		if rel := f.releases(); len(rel) != 0 {
			t.Errorf("released %v, want no release once the run stops", rel)
		}
		if _, ok := f.spanOf("rollback", "deploy/h1"); !ok {
			t.Error("deploy was not rolled back on h1")
		}
		if f.connect["h1"] != 1 {
			t.Errorf("h1 connected %d times, want once: its rollback keeps the connection", f.connect["h1"])
		}
	})
}

func TestDroppedHostReleasedAfterItsRollback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newReleasingFake()
		hs := testHosts("h1", "h2", "h3")
		tk := testTask("deploy", hs, "on h2 fail 1", "ok")
		tk.Waves = []Wave{{Hosts: hs, Budget: 1}}
		next := testTask("next", hs, "sleep 300ms")
		res, _ := runReleasing(t, f, testPlan(config.OnFailureRollback, tk, next))
		if res.Status != RunPartial {
			t.Fatalf("status %v (%s), want partial: h2 dropped within the budget", res.Status, res.Cause)
		}
		f.checkNoMisuse(t)
		rb, ok := f.spanOf("rollback", "deploy/h2")
		if !ok {
			t.Fatal("deploy was not rolled back on the dropped h2")
		}
		rel := f.releases()
		if len(rel["h2"]) != 1 || rel["h2"][0] < rb.end {
			t.Fatalf("h2 released at %v, want once, after its drop's rollback ended (%d)", rel["h2"], rb.end)
		}
		if last, ok := f.spanOf("run", "next/h1"); ok && rel["h2"][0] > last.end {
			t.Errorf("h2 released at %d, after the rest of the run (%d): a dropped host is done at once", rel["h2"][0], last.end)
		}
	})
}

func TestWithoutTheCapabilityNothingIsReleased(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake() // declares no Release: Release is not even implemented
		first := testTask("first", testHosts("h1"), "ok", "ok")
		second := testTask("second", testHosts("h2"), "fail 3")
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, first, second), nil)
		if res.OK() {
			t.Fatal("run succeeded, want the failure on h2")
		}
		for _, e := range events {
			if _, ok := e.(HostReleased); ok {
				t.Errorf("HostReleased %+v from a transport without the capability", e)
			}
		}
		if f.connect["h1"] != 1 {
			t.Errorf("h1 connected %d times, want once: kept to the end", f.connect["h1"])
		}
	})
}

func TestRunThatCannotStopConnectsEveryHostAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.connectDelay[""] = 50 * time.Millisecond
		// fanout exec's shape: no preflight, on_failure continue.
		p, _ := aheadPlan(8, config.OnFailureContinue, "sleep 300ms")
		res, events := runFake(t, f, p, nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		starts, _ := f.connectSeqs()
		first, ok := f.spanOf("run", "deploy/h1")
		if !ok {
			t.Fatal("deploy did not run on h1")
		}
		for h, s := range starts {
			if s > first.end {
				t.Errorf("%s's Connect started at %d, after the first host's command ended (%d): not connected as the run started", h, s, first.end)
			}
		}
		for host, hcs := range hostConnected(events) {
			if len(hcs) != 1 || hcs[0].Preflight {
				t.Errorf("%s: HostConnected %+v, want one, not preflight", host, hcs)
			}
		}
	})
}

func TestHostsFinishingTogetherAreReleasedInFewCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newReleasingFake()
		f.delay = 10 * time.Millisecond
		var names []string
		for i := 1; i <= 20; i++ {
			names = append(names, fmt.Sprintf("h%d", i))
		}
		// Twenty hosts end at once; then a task on one of them keeps the
		// run going while the releases are made.
		hs := testHosts(names...)
		all := testTask("all", hs, "ok")
		last := testTask("last", hs[:1], "sleep 500ms")
		res, _ := runReleasing(t, f, testPlan(config.OnFailureRollback, all, last))
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		f.checkNoMisuse(t)
		rel := f.releases()
		if len(rel) != 20 {
			t.Fatalf("%d hosts released, want 20: %v", len(rel), rel)
		}
		for h, seqs := range rel {
			if len(seqs) != 1 {
				t.Errorf("%s released %d times", h, len(seqs))
			}
		}
		f.rmu.Lock()
		calls := f.calls
		f.rmu.Unlock()
		// The first host to end goes alone; those that ended while its
		// call ran go in the next; h1 at the end.
		if calls > 3 {
			t.Errorf("%d Release calls for 20 hosts that ended together, want at most 3", calls)
		}
	})
}

// TestReleasedHostNotConnectedAgainAhead: without preflight the run
// connects hosts ahead of their turn (connectAhead, connectEarly), each
// behind a host that has started. A host whose pairs all ended was
// released; a connect ahead that came after must leave it alone, not make
// a handshake nothing uses and no release ends (at 200 real hosts, 96 of
// them, and a run twice as long).
func TestReleasedHostNotConnectedAgainAhead(t *testing.T) {
	for _, mode := range []config.OnFailure{config.OnFailureRollback, config.OnFailureContinue} {
		t.Run(string(mode), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newReleasingFake()
				// h1's handshake is slow; the connect ahead of h3 waits
				// behind it, while h2, then h3 connect themselves, run
				// and are released.
				f.connectDelay[""] = 50 * time.Millisecond
				f.connectDelay["h1"] = time.Second
				p, _ := aheadPlan(8, mode, "ok")
				res, events := runReleasing(t, f, p)
				if !res.OK() {
					t.Fatalf("run failed: %s", res.Cause)
				}
				f.checkNoMisuse(t)
				f.mu.Lock()
				connects := maps.Clone(f.connect)
				f.mu.Unlock()
				for i := 1; i <= 8; i++ {
					h := fmt.Sprintf("h%d", i)
					if connects[h] != 1 {
						t.Errorf("%s: %d Connect calls, want 1", h, connects[h])
					}
				}
				for host, hcs := range hostConnected(events) {
					if len(hcs) != 1 {
						t.Errorf("%s: %d HostConnected events, want 1", host, len(hcs))
					}
				}
				rel := f.releases()
				for h, seqs := range rel {
					if len(seqs) != 1 {
						t.Errorf("%s released %d times, want once", h, len(seqs))
					}
				}
				if len(rel) != 8 {
					t.Errorf("%d hosts released, want 8: %v", len(rel), rel)
				}
			})
		})
	}
}

// TestDroppedHostNotConnectedAgainAhead: a host dropped within a failure
// budget is rolled back whole and released, and its later pairs are
// skipped; a connect ahead that reaches it afterwards must leave it alone,
// as it does a host whose pairs all ended, not make a handshake nothing
// uses and no release ends.
func TestDroppedHostNotConnectedAgainAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newReleasingFake()
		hs := testHosts("h1", "h2", "h3")
		tk := testTask("deploy", hs, "on h1 fail 1", "ok")
		tk.Waves = []Wave{{Hosts: hs, Budget: 1}}
		// One host at a time, h1 last: starting h2 connects h1 ahead.
		next := testTask("next", []*Host{hs[1], hs[0]}, "sleep 300ms")
		next.MaxHosts = 1
		p := testPlan(config.OnFailureRollback, tk, next)
		p.Preflight = false
		res, events := runReleasing(t, f, p)
		if res.Status != RunPartial {
			t.Fatalf("status %v (%s), want partial: h1 dropped within the budget", res.Status, res.Cause)
		}
		f.checkNoMisuse(t)
		f.mu.Lock()
		connects := f.connect["h1"]
		f.mu.Unlock()
		if connects != 1 {
			t.Errorf("dropped h1: %d Connect calls, want 1", connects)
		}
		if hcs := hostConnected(events)["h1"]; len(hcs) != 1 {
			t.Errorf("dropped h1: %d HostConnected events, want 1", len(hcs))
		}
		if rel := f.releases()["h1"]; len(rel) != 1 {
			t.Errorf("dropped h1 released %d times, want once", len(rel))
		}
	})
}

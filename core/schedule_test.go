package core

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
)

func testHosts(names ...string) []*Host {
	var hs []*Host
	for _, n := range names {
		hs = append(hs, &Host{Name: n, Address: n, Transport: "fake"})
	}
	return hs
}

func testTask(name string, hs []*Host, run string, rollback ...string) *TaskNode {
	return &TaskNode{Name: name, Hosts: hs, Run: strings.Split(run, ";"), Rollback: rollback, MaxHosts: len(hs)}
}

func testGroup(name string, threads int, members ...Node) *Group {
	return &Group{Name: name, Threads: threads, Members: members}
}

func testPlan(mode config.OnFailure, roots ...Node) *Plan {
	p := &Plan{Roots: roots, OnFailure: mode, Preflight: true}
	seen := map[string]bool{}
	p.Walk(func(t *TaskNode) {
		for _, h := range t.Hosts {
			if !seen[h.Name] {
				seen[h.Name] = true
				p.Hosts = append(p.Hosts, h)
			}
		}
	})
	return p
}

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Event(e Event) {
	// Output data is only valid during the call (see Output).
	if o, ok := e.(Output); ok {
		o.Data = bytes.Clone(o.Data)
		e = o
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// runFake applies p through f and returns its result and events. Tests
// call it inside a testing/synctest bubble (synctest.Test), so that the
// fake's sleeps pass on the bubble's clock: at once, and in the same order
// on a loaded machine as on an idle one. A run that hangs fails the test
// there: the bubble panics when all of its goroutines are blocked.
func runFake(t *testing.T, f *fakeTransport, p *Plan, interrupt <-chan struct{}) (*Result, []Event) {
	t.Helper()
	ts := NewTransports(f.launcher(), nil)
	closeTransports(t, ts)
	rec := &recorder{}
	res := Apply(context.Background(), p, ApplyOptions{Transports: ts, Observer: rec, RunID: "test-run", Interrupt: interrupt, InterruptGrace: time.Second})
	return res, rec.events
}

func TestThreadsWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		h := testHosts("h1")
		// One long member and three short ones, two threads: the short ones
		// must all run beside the long one instead of waiting for a batch.
		long := testTask("long", h, "sleep 600ms")
		var members []Node
		members = append(members, long)
		for i := range 3 {
			members = append(members, testTask(fmt.Sprintf("short%d", i), h, "sleep 100ms"))
		}
		res, _ := runFake(t, f, testPlan(config.OnFailureRollback, testGroup("g", 2, members...)), nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		spans := f.spans("run")
		if got := maxOverlap(spans); got != 2 {
			t.Errorf("max overlap = %d, want 2 (threads = 2)", got)
		}
		longEnd := -1
		for _, s := range spans {
			if s.key == "long/h1" {
				longEnd = s.end
			}
		}
		if longEnd < 0 {
			t.Fatalf("the long member did not run: spans %+v", spans)
		}
		for _, s := range spans {
			if strings.HasPrefix(s.key, "short") && s.end > longEnd {
				t.Errorf("%s ended after the long member: the window did not slide (spans %+v)", s.key, spans)
			}
		}
	})
}

func TestLimitsPerLevel(t *testing.T) {
	tests := []struct {
		name string
		plan func() *Plan
		want int
	}{
		{
			name: "threads caps a flat group",
			plan: func() *Plan {
				var ms []Node
				for i := range 5 {
					ms = append(ms, testTask(fmt.Sprintf("t%d", i), testHosts("h1"), "sleep 150ms"))
				}
				return testPlan(config.OnFailureRollback, testGroup("g", 3, ms...))
			},
			want: 3,
		},
		{
			name: "nested groups multiply",
			plan: func() *Plan {
				inner := func(n string) *Group {
					var ms []Node
					for i := range 3 {
						ms = append(ms, testTask(fmt.Sprintf("%s%d", n, i), testHosts("h1"), "sleep 150ms"))
					}
					return testGroup(n, 2, ms...)
				}
				return testPlan(config.OnFailureRollback, testGroup("outer", 2, inner("a"), inner("b"), inner("c")))
			},
			want: 4,
		},
		{
			name: "max_hosts caps one task",
			plan: func() *Plan {
				tk := testTask("t", testHosts("h1", "h2", "h3", "h4", "h5"), "sleep 150ms")
				tk.MaxHosts = 2
				return testPlan(config.OnFailureRollback, tk)
			},
			want: 2,
		},
		{
			name: "a task runs on all its hosts at once",
			plan: func() *Plan {
				return testPlan(config.OnFailureRollback, testTask("t", testHosts("h1", "h2", "h3", "h4", "h5"), "sleep 150ms"))
			},
			want: 5,
		},
		{
			name: "roots run one after another",
			plan: func() *Plan {
				return testPlan(config.OnFailureRollback,
					testTask("a", testHosts("h1"), "sleep 100ms"),
					testTask("b", testHosts("h1"), "sleep 100ms"))
			},
			want: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				res, _ := runFake(t, f, tt.plan(), nil)
				if !res.OK() {
					t.Fatalf("run failed: %s", res.Cause)
				}
				if got := maxOverlap(f.spans("run")); got != tt.want {
					t.Errorf("max overlap = %d, want %d", got, tt.want)
				}
			})
		})
	}
}

func TestRollbackCascadeOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		h := testHosts("h1")
		// Timeline: first (root 1) finishes; then in the outer group:
		// y 0-50ms, p 0-100ms, f fails at 200ms, z runs 50-400ms (in flight
		// when f fails, so it finishes). Outer completion: p, f, inner(y, z).
		first := testTask("first", h, "ok", "ok")
		y := testTask("y", h, "sleep 50ms", "ok")
		z := testTask("z", h, "sleep 350ms", "ok")
		inner := testGroup("inner", 1, y, z)
		p := testTask("p", h, "sleep 100ms", "ok")
		fail := testTask("f", h, "sleep 200ms;fail 3", "ok")
		norb := testTask("norb", h, "ok") // no rollback: skipped
		outer := testGroup("outer", 4, norb, inner, p, fail)
		never := testTask("never", h, "ok", "ok")

		res, events := runFake(t, f, testPlan(config.OnFailureRollback, first, outer, never), nil)
		if res.Status != RunFailed {
			t.Fatalf("status = %v, want failed", res.Status)
		}
		if slices.Contains(f.startOrder("run", true), "never") {
			t.Error("the root after the failed group ran")
		}
		want := []string{"f", "z", "y", "p", "first"}
		if diff := cmp.Diff(want, f.startOrder("rollback", true)); diff != "" {
			t.Errorf("rollback order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, res.RolledBack); diff != "" {
			t.Errorf("Result.RolledBack (-want +got):\n%s", diff)
		}
		if res.FirstFailure == nil || res.FirstFailure.Task != "f" || res.FirstFailure.Run.ExitCode != 3 {
			t.Errorf("first failure = %+v, want task f exit 3", res.FirstFailure)
		}
		if !strings.Contains(res.Cause, `task "f" failed on host "h1": exit 3`) {
			t.Errorf("cause = %q", res.Cause)
		}
		// Every rollback starts after every run has ended: in-flight work
		// (z) finished first.
		lastRunEnd, firstRollback := 0, 0
		for _, e := range f.events {
			if e.phase == "run" && e.kind == "end" {
				lastRunEnd = max(lastRunEnd, e.seq)
			}
			if e.phase == "rollback" && e.kind == "start" && firstRollback == 0 {
				firstRollback = e.seq
			}
		}
		if firstRollback < lastRunEnd {
			t.Error("a rollback started before the work in flight had finished")
		}
		// The last event is RunFinished and a Stopping event names the cause.
		if _, ok := events[len(events)-1].(RunFinished); !ok {
			t.Errorf("last event is %T, want RunFinished", events[len(events)-1])
		}
		var stopping []Stopping
		for _, e := range events {
			if s, ok := e.(Stopping); ok {
				stopping = append(stopping, s)
			}
		}
		if len(stopping) != 1 || !stopping[0].Rollback {
			t.Errorf("stopping events = %+v, want one announcing rollback", stopping)
		}
	})
}

func TestRollbackRunsOnStartedHostsOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		tk := testTask("deploy", testHosts("h1", "h2", "h3", "h4"), "sleep 50ms;fail 1", "ok")
		tk.MaxHosts = 2
		res, _ := runFake(t, f, testPlan(config.OnFailureRollback, tk), nil)
		if res.Status != RunFailed {
			t.Fatalf("status = %v", res.Status)
		}
		got := f.startOrder("rollback", false)
		slices.Sort(got)
		if diff := cmp.Diff([]string{"deploy/h1", "deploy/h2"}, got); diff != "" {
			t.Errorf("rolled back on (-want +got):\n%s", diff)
		}
		for _, u := range res.Units {
			switch u.Host {
			case "h1", "h2":
				if u.Run.Status != StatusFailed || u.Rollback == nil || u.Rollback.Status != StatusOK {
					t.Errorf("%s: run %v, rollback %+v", u.Host, u.Run.Status, u.Rollback)
				}
			default:
				if u.Run.Status != StatusSkipped || u.Rollback != nil {
					t.Errorf("%s: run %v, rollback %+v; want skipped, not rolled back", u.Host, u.Run.Status, u.Rollback)
				}
			}
		}
	})
}

func TestFailingRollbackDoesNotStopCascade(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		h := testHosts("h1")
		a := testTask("a", h, "ok", "ok")
		b := testTask("b", h, "ok", "fail 7")
		c := testTask("c", h, "fail 1", "ok")
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, a, b, c), nil)
		if diff := cmp.Diff([]string{"c", "b", "a"}, f.startOrder("rollback", true)); diff != "" {
			t.Errorf("rollback order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"b on h1"}, res.RollbackFailed); diff != "" {
			t.Errorf("RollbackFailed (-want +got):\n%s", diff)
		}
		var finished []RollbackFinished
		for _, e := range events {
			if rf, ok := e.(RollbackFinished); ok {
				finished = append(finished, rf)
			}
		}
		if len(finished) != 3 || len(finished[1].Failed) != 1 {
			t.Errorf("rollback finished events = %+v", finished)
		}
	})
}

func TestOnFailureModes(t *testing.T) {
	tests := []struct {
		mode          config.OnFailure
		wantRan       []string
		wantRollbacks []string
		// What the run, having stopped, leaves for `fanout rollback`:
		// under "continue" a failure does not stop it.
		wantNotRolledBack []string
	}{
		{config.OnFailureRollback, []string{"a", "b"}, []string{"b", "a"}, nil},
		{config.OnFailureStop, []string{"a", "b"}, nil, []string{"a on h1", "b on h1"}},
		{config.OnFailureContinue, []string{"a", "b", "c"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				h := testHosts("h1")
				res, _ := runFake(t, f, testPlan(tt.mode,
					testTask("a", h, "ok", "ok"),
					testTask("b", h, "fail 2", "ok"),
					testTask("c", h, "ok", "ok")), nil)
				if res.Status != RunFailed {
					t.Errorf("status = %v, want failed: a failure is never swallowed", res.Status)
				}
				if diff := cmp.Diff(tt.wantRan, f.startOrder("run", true)); diff != "" {
					t.Errorf("ran (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantRollbacks, f.startOrder("rollback", true)); diff != "" {
					t.Errorf("rolled back (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantNotRolledBack, res.NotRolledBack); diff != "" {
					t.Errorf("NotRolledBack (-want +got):\n%s", diff)
				}
				if want := map[bool]string{true: string(tt.mode)}[tt.wantNotRolledBack != nil]; res.NoRollback != want {
					t.Errorf("NoRollback = %q, want %q", res.NoRollback, want)
				}
			})
		})
	}
}

// TestInterruptWithoutRollbackListsWhatItLeft: Ctrl-C under on_failure
// "stop" or "continue" rolls nothing back, and the result says what it
// left for `fanout rollback` (NotRolledBack, NoRollback), as the journal
// rebuilds it too; it said nothing, as if all had been rolled back.
func TestInterruptWithoutRollbackListsWhatItLeft(t *testing.T) {
	for _, mode := range []config.OnFailure{config.OnFailureStop, config.OnFailureContinue} {
		t.Run(string(mode), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				h := testHosts("h1", "h2")
				p := testPlan(mode, testTask("done", h, "ok", "ok"), testTask("norb", h, "ok"),
					testTask("slow", h, "sleep 30s", "ok"), testTask("later", h, "ok", "ok"))
				_, path, j := newJournal(t, p, "test-run", nil)
				ts := NewTransports(f.launcher(), nil)
				closeTransports(t, ts)
				interrupt := make(chan struct{})
				var res *Result
				finished := make(chan struct{})
				go func() {
					defer close(finished)
					res = Apply(context.Background(), p, ApplyOptions{Transports: ts, RunID: "test-run", Journal: j, Interrupt: interrupt, InterruptGrace: time.Second})
				}()
				synctest.Wait() // every goroutine waits in slow's sleep
				close(interrupt)
				await(t, finished, time.Minute, "the run after the interrupt")
				closeJournal(t, j)
				if got := f.startOrder("rollback", true); len(got) != 0 {
					t.Errorf("rolled back %v under on_failure %q", got, mode)
				}
				rebuilt, err := mustReadJournal(t, path).Result()
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"done on h1", "done on h2", "slow on h1", "slow on h2"}
				for name, r := range map[string]*Result{"live": res, "journal": rebuilt} {
					if r.Status != RunInterrupted || r.Aborted {
						t.Errorf("%s: status %v, aborted %v; want interrupted", name, r.Status, r.Aborted)
					}
					got := slices.Sorted(slices.Values(r.NotRolledBack))
					if diff := cmp.Diff(want, got); diff != "" || r.NoRollback != string(mode) {
						t.Errorf("%s: NoRollback %q, want %q; NotRolledBack (-want +got):\n%s", name, r.NoRollback, mode, diff)
					}
				}
			})
		})
	}
}

func TestTimeoutFailsTaskAndRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		tk := testTask("slow", testHosts("h1"), "sleep 10s", "ok")
		tk.Timeout = 100 * time.Millisecond
		start := time.Now()
		res, _ := runFake(t, f, testPlan(config.OnFailureRollback, tk), nil)
		// On the bubble's clock: the command alone would take 10s.
		if el := time.Since(start); el >= 10*time.Second {
			t.Errorf("run took %v; the timeout did not stop it", el)
		}
		u := res.Units[0]
		if u.Run.Status != StatusTimedOut {
			t.Errorf("status = %v, want timed out", u.Run.Status)
		}
		if u.Run.Timeout != tk.Timeout || !strings.HasPrefix(u.Run.Describe(), "timed out after 100ms") {
			t.Errorf("timeout %v, described %q: want the task's timeout said", u.Run.Timeout, u.Run.Describe())
		}
		if u.Rollback == nil || u.Rollback.Status != StatusOK {
			t.Errorf("rollback = %+v, want ok", u.Rollback)
		}
	})
}

// TestTimeoutTheTransportIgnores: a transport that does not stop a
// command at its timeout is named in the pair's result ("the transport
// did not stop the command at its timeout" said not which one).
func TestTimeoutTheTransportIgnores(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		tk := testTask("stuck", testHosts("h1"), "wedge")
		tk.Timeout = time.Second
		res, _ := runFake(t, f, testPlan(config.OnFailureRollback, tk), nil)
		u := res.Units[0]
		want := fmt.Sprintf("the transport did not stop the command at its timeout (transport %q)", testHosts("h1")[0].Transport)
		if u.Run.Status != StatusTimedOut || !strings.Contains(u.Run.Describe(), want) {
			t.Errorf("status %v, described %q; want timed out, %q", u.Run.Status, u.Run.Describe(), want)
		}
	})
}

func TestInterruptStopsAndRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		h := testHosts("h1", "h2")
		done := testTask("done", h, "ok", "ok")
		slow := testTask("slow", h, "sleep 30s", "ok")
		later := testTask("later", h, "ok", "ok")
		interrupt := make(chan struct{})
		var res *Result
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			res, _ = runFake(t, f, testPlan(config.OnFailureRollback, done, slow, later), interrupt)
		}()
		// Interrupt once both hosts run the slow task: Wait returns when
		// every goroutine of the run is blocked, which a run that has not
		// ended does only in the slow task's sleep.
		synctest.Wait()
		if got := f.startOrder("run", false); len(got) != 4 {
			t.Fatalf("before the interrupt, started %v; want done and slow on h1 and h2", got)
		}
		close(interrupt)
		await(t, finished, time.Minute, "the run after the interrupt")
		if res.Status != RunInterrupted {
			t.Errorf("status = %v, want interrupted", res.Status)
		}
		if slices.Contains(f.startOrder("run", true), "later") {
			t.Error("work started after the interrupt")
		}
		if diff := cmp.Diff([]string{"slow", "done"}, f.startOrder("rollback", true)); diff != "" {
			t.Errorf("rolled back (-want +got):\n%s", diff)
		}
		for _, u := range res.Units {
			if u.Task == "slow" && u.Run.Status != StatusInterrupted {
				t.Errorf("slow on %s: %v, want interrupted", u.Host, u.Run.Status)
			}
		}
	})
}

func TestPreflightFailureRunsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.badHost["h2"] = "no route to host"
		f.badHost["h3"] = "permission denied (publickey)"
		p := testPlan(config.OnFailureRollback, testTask("t", testHosts("h1", "h2", "h3"), "ok", "ok"))
		res, events := runFake(t, f, p, nil)
		if len(f.events) != 0 {
			t.Errorf("commands ran despite failed preflight: %+v", f.events)
		}
		want := []HostError{{"h2", "no route to host"}, {"h3", "permission denied (publickey)"}}
		if diff := cmp.Diff(want, res.Preflight); diff != "" {
			t.Errorf("preflight errors (-want +got):\n%s", diff)
		}
		if res.Status != RunFailed || !strings.Contains(res.Cause, "2 of 3 hosts failed preflight") {
			t.Errorf("status %v cause %q", res.Status, res.Cause)
		}
		n := 0
		for _, e := range events {
			if hc, ok := e.(HostConnected); ok && hc.Preflight {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d preflight HostConnected events, want 3", n)
		}
	})
}

func TestNoPreflightConnectsOncePerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		h := testHosts("h1", "h2")
		p := testPlan(config.OnFailureRollback, testGroup("g", 5,
			testTask("a", h, "ok"), testTask("b", h, "ok"), testTask("c", h, "ok")))
		p.Preflight = false
		res, _ := runFake(t, f, p, nil)
		if !res.OK() {
			t.Fatal(res.Cause)
		}
		if diff := cmp.Diff(map[string]int{"h1": 1, "h2": 1}, f.connect); diff != "" {
			t.Errorf("Connect calls (-want +got):\n%s", diff)
		}
	})
}

func TestUnreachableHostFailsItsTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.badHost["h2"] = "connection refused"
		p := testPlan(config.OnFailureRollback, testTask("t", testHosts("h1", "h2"), "ok", "ok"))
		p.Preflight = false
		res, _ := runFake(t, f, p, nil)
		if res.FirstFailure == nil || res.FirstFailure.Host != "h2" || res.FirstFailure.Run.Status != StatusUnreachable {
			t.Fatalf("first failure = %+v", res.FirstFailure)
		}
		if !strings.Contains(res.Cause, "connection refused") {
			t.Errorf("cause %q does not say why", res.Cause)
		}
		// The rollback runs where the run ran, not on the host it never reached.
		if diff := cmp.Diff([]string{"t/h1"}, f.startOrder("rollback", false)); diff != "" {
			t.Errorf("rolled back on (-want +got):\n%s", diff)
		}
		for _, u := range res.Units {
			if u.Host == "h2" && u.Rollback != nil {
				t.Errorf("h2 was never reached but has a rollback result %+v", u.Rollback)
			}
		}
		if len(res.RollbackFailed) != 0 {
			t.Errorf("RollbackFailed = %v, want none", res.RollbackFailed)
		}
	})
}

func TestEnvironmentAndOutputLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		tk := testTask("greet", testHosts("h1"), "write a\nb;write c\n;echo d")
		tk.Env = map[string]string{"RELEASE": "42", "FANOUT_HOST": "spoofed"}
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, tk), nil)
		if !res.OK() {
			t.Fatal(res.Cause)
		}
		env := f.envs[0]
		want := map[string]string{"RELEASE": "42", "FANOUT_HOST": "h1", "FANOUT_TASK": "greet", "FANOUT_PHASE": "run", "FANOUT_RUN_ID": "test-run"}
		if diff := cmp.Diff(want, env); diff != "" {
			t.Errorf("env (-want +got):\n%s", diff)
		}
		var chunks []string
		for _, e := range events {
			if o, ok := e.(Output); ok {
				chunks = append(chunks, string(o.Data))
			}
		}
		// A line split over two writes of one command arrives whole; a command
		// that ends without a newline has its rest flushed.
		if diff := cmp.Diff([]string{"a\n", "b", "c\n", "d\n"}, chunks); diff != "" {
			t.Errorf("output chunks (-want +got):\n%s", diff)
		}
	})
}

// await fails the test unless done is closed within d: a receive that
// cannot wait forever. In a synctest bubble d passes on the bubble's clock,
// which moves on only once everything else waits, so a generous d costs
// nothing and still fails at this line if the run is stuck.
func await(t *testing.T, done <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: not done within %v", what, d)
	}
}

// TestInterruptDuringRollbackLetsItGoOn: an interrupt while the rollback
// cascade runs changes nothing: the cascade goes on to its end, the run
// says so (RollbackGoesOn) rather than stopping again, and its record
// stays the failure's. (A second Stopping event and record came, and the
// run turned "interrupted" though the interrupt had changed nothing.)
func TestInterruptDuringRollbackLetsItGoOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		h := testHosts("h1")
		p := testPlan(config.OnFailureRollback, testTask("pre", h, "ok", "sleep 30s"), testTask("bad", h, "fail 3", "ok"))
		j := &failingJournal{match: func(*JournalRecord) bool { return false }}
		ts := NewTransports(f.launcher(), nil)
		closeTransports(t, ts)
		interrupt := make(chan struct{})
		rec := &recorder{}
		var res *Result
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			res = Apply(context.Background(), p, ApplyOptions{Transports: ts, Observer: rec, RunID: "r", Journal: j, Interrupt: interrupt, InterruptGrace: time.Second})
		}()
		synctest.Wait() // every goroutine waits in pre's rollback
		if got := f.startOrder("rollback", true); !slices.Equal(got, []string{"bad", "pre"}) {
			t.Fatalf("before the interrupt, rolled back %v; want bad, then pre running", got)
		}
		close(interrupt)
		await(t, finished, time.Minute, "the run after the interrupt")
		if res.Status != RunFailed || res.Cause != `task "bad" failed on host "h1": exit 3` {
			t.Errorf("status %v, cause %q; want the failure's", res.Status, res.Cause)
		}
		var stopping, goesOn int
		for _, e := range rec.events {
			switch e.(type) {
			case Stopping:
				stopping++
			case RollbackGoesOn:
				goesOn++
			}
		}
		if stopping != 1 || goesOn != 1 {
			t.Errorf("%d Stopping and %d RollbackGoesOn events; want one each", stopping, goesOn)
		}
		n := 0
		for _, r := range j.recs {
			if r.Type == RecordStopping {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d stopping records, want 1", n)
		}
		for _, u := range res.Units {
			if u.Rollback == nil || u.Rollback.Status != StatusOK {
				t.Errorf("%s's rollback: %+v, want ok: it went on to its end", u.Task, u.Rollback)
			}
		}
	})
}

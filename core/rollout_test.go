package core

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
)

// rolloutTask is testTask with its hosts cut into waves of the batch's
// sizes and the failure budget given, as BuildPlan cuts them.
func rolloutTask(name string, hs []*Host, run string, batch []config.Size, budget config.Size, rollback ...string) *TaskNode {
	t := testTask(name, hs, run, rollback...)
	t.Waves = splitWaves(hs, batch, budget)
	t.MaxHosts = t.widestWave()
	return t
}

func sizes(ss ...any) []config.Size {
	var out []config.Size
	for _, s := range ss {
		switch s := s.(type) {
		case int:
			out = append(out, config.Size{N: s})
		case string:
			n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
			if err != nil || !strings.HasSuffix(s, "%") {
				panic(fmt.Sprintf("sizes: %q is not a percentage", s)) // a bug in the test
			}
			out = append(out, config.Size{N: n, Percent: true})
		}
	}
	return out
}

func TestSplitWaves(t *testing.T) {
	tests := []struct {
		name   string
		hosts  int
		batch  []config.Size
		budget config.Size
		want   []int // sizes
		budgts []int
	}{
		{"no batch", 5, nil, config.Size{}, []int{5}, []int{0}},
		{"count", 7, sizes(3), config.Size{N: 1}, []int{3, 3, 1}, []int{1, 1, 0}},
		{"percent rounds up", 10, sizes("25%"), config.Size{}, []int{3, 3, 3, 1}, []int{0, 0, 0, 0}},
		{"last size repeats", 20, sizes(1, 5, "50%"), config.Size{N: 10, Percent: true}, []int{1, 5, 10, 4}, []int{0, 0, 1, 0}},
		{"tiny percent is one host", 3, sizes("1%"), config.Size{}, []int{1, 1, 1}, []int{0, 0, 0}},
		{"budget never the whole wave", 6, sizes(3), config.Size{N: 5}, []int{3, 3}, []int{2, 2}},
		{"percent budget rounds down", 10, nil, config.Size{N: 25, Percent: true}, []int{10}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var names []string
			for i := range tt.hosts {
				names = append(names, fmt.Sprintf("h%d", i+1))
			}
			waves := splitWaves(testHosts(names...), tt.batch, tt.budget)
			var got, budgets []int
			var all []string
			for _, w := range waves {
				got = append(got, len(w.Hosts))
				budgets = append(budgets, w.Budget)
				all = append(all, planHostNames(w.Hosts)...)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wave sizes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.budgts, budgets); diff != "" {
				t.Errorf("budgets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(names, all); diff != "" {
				t.Errorf("hosts out of order (-want +got):\n%s", diff)
			}
		})
	}
}

// hostSpans returns, per host of task, the first start and last end record
// number of all its run-side commands: conditions, run and check.
func (f *fakeTransport) hostSpans(task string) map[string]span {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]span{}
	for _, e := range f.events {
		if e.task != task || e.phase == string(PhaseRollback) {
			continue
		}
		s, ok := out[e.host]
		if !ok {
			s = span{key: e.host, start: e.seq}
		}
		if e.kind == "end" {
			s.end = e.seq
		}
		out[e.host] = s
	}
	return out
}

// rollbacks counts each "task/host" rollback command start.
func (f *fakeTransport) rollbacks() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, e := range f.events {
		if e.kind == "start" && e.phase == string(PhaseRollback) {
			out[e.task+"/"+e.host]++
		}
	}
	return out
}

// assertWaveBoundaries checks, from the fake's record numbers, that no host
// of a wave started before every host of the wave before it had ended.
func assertWaveBoundaries(t *testing.T, f *fakeTransport, task *TaskNode) {
	t.Helper()
	spans := f.hostSpans(task.Name)
	lastEnd := 0
	for i, w := range task.Waves {
		end := 0
		for _, h := range w.Hosts {
			s, ok := spans[h.Name]
			if !ok {
				continue
			}
			if s.start < lastEnd {
				t.Errorf("wave %d: %s started (record %d) before wave %d ended (record %d)", i+1, h.Name, s.start, i, lastEnd)
			}
			end = max(end, s.end)
		}
		lastEnd = max(lastEnd, end)
	}
}

func TestWavesRunOneAfterAnother(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3", "h4", "h5", "h6", "h7")
		task := rolloutTask("deploy", hs, "sleep 100ms", sizes(1, 3), config.Size{})
		task.MaxHosts = 2
		// Checks of different lengths: a wave waits for its slowest.
		task.Check = &Check{Run: []string{"on h3 sleep 900ms"}, Interval: time.Second, Timeout: 10 * time.Second}
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, task), nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		assertWaveBoundaries(t, f, task)
		// max_hosts caps each wave.
		if got := maxOverlap(f.spans("run")); got > 2 {
			t.Errorf("%d hosts ran at once; max_hosts = 2", got)
		}
		var waves []string
		for _, e := range events {
			switch e := e.(type) {
			case WaveStarted:
				waves = append(waves, fmt.Sprintf("start %d/%d %s", e.Index, e.Of, strings.Join(e.Hosts, ",")))
			case WaveFinished:
				waves = append(waves, fmt.Sprintf("end %d/%d", e.Index, e.Of))
			}
		}
		want := []string{"start 1/3 h1", "end 1/3", "start 2/3 h2,h3,h4", "end 2/3", "start 3/3 h5,h6,h7", "end 3/3"}
		if diff := cmp.Diff(want, waves); diff != "" {
			t.Errorf("wave events (-want +got):\n%s", diff)
		}
		if len(res.Waves) != 3 || !res.Waves[2].Finished {
			t.Errorf("result waves = %+v", res.Waves)
		}
	})
}

func TestPauseBetweenWavesAndInterrupt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3")
		task := rolloutTask("deploy", hs, "ok", sizes(1), config.Size{}, "ok")
		task.Pause = time.Hour
		interrupt := make(chan struct{})
		ts := NewTransports(f.launcher(), nil)
		closeTransports(t, ts)
		// Ctrl-C as the first pause begins.
		obs := &recorder{}
		start := time.Now()
		res := Apply(t.Context(), testPlan(config.OnFailureRollback, task), ApplyOptions{
			Transports: ts, RunID: "test-run", Interrupt: interrupt, InterruptGrace: time.Second,
			Observer: observerFunc(func(e Event) {
				obs.Event(e)
				if _, ok := e.(Pausing); ok {
					close(interrupt)
				}
			}),
		})
		if took := time.Since(start); took >= time.Hour {
			t.Errorf("the run waited out the pause (%s) after Ctrl-C", took)
		}
		if res.Status != RunInterrupted {
			t.Errorf("status = %s, want interrupted", res.Status)
		}
		if got := f.startOrder("run", false); !slices.Equal(got, []string{"deploy/h1"}) {
			t.Errorf("ran %v; only the canary should have", got)
		}
		if got := f.rollbacks(); !cmp.Equal(got, map[string]int{"deploy/h1": 1}) {
			t.Errorf("rollbacks = %v, want deploy/h1 once", got)
		}
	})
}

// TestNoPauseAnnouncedWhenStopping: Ctrl-C while a dropped host rolls
// back announces no pause before a wave that will not start.
func TestNoPauseAnnouncedWhenStopping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3", "h4")
		// h2 is dropped within the budget; its rollback runs long enough
		// for Ctrl-C to be taken in.
		task := rolloutTask("deploy", hs, "on h2 fail 3", sizes(2), config.Size{N: 1}, "sleep 10s")
		task.Pause = time.Hour
		interrupt := make(chan struct{})
		ts := NewTransports(f.launcher(), nil)
		closeTransports(t, ts)
		var paused bool
		res := Apply(t.Context(), testPlan(config.OnFailureRollback, task), ApplyOptions{
			Transports: ts, RunID: "test-run", Interrupt: interrupt, InterruptGrace: time.Second,
			Observer: observerFunc(func(e Event) {
				switch e := e.(type) {
				case UnitStarted:
					if e.Phase == PhaseRollback && e.Host == "h2" {
						close(interrupt)
					}
				case Pausing:
					paused = true
				}
			}),
		})
		if res.Status != RunInterrupted {
			t.Errorf("status = %s, want interrupted", res.Status)
		}
		if paused {
			t.Error("a pause was announced after Ctrl-C")
		}
	})
}

// observerFunc adapts a function to Observer.
type observerFunc func(Event)

func (f observerFunc) Event(e Event) { f(e) }

func TestBudgetDropsHostAndRollsItBackWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3", "h4", "h5", "h6")
		prepare := testTask("prepare", hs, "ok", "ok")
		deploy := rolloutTask("deploy", hs, "on h2 fail 3", sizes(3), config.Size{N: 1}, "ok")
		after := testTask("after", hs, "ok", "ok")
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, prepare, deploy, after), nil)

		if res.Status != RunPartial {
			t.Fatalf("status = %s (%s), want partial", res.Status, res.Cause)
		}
		if want := "partial: 1 of 6 hosts dropped, rolled back"; res.Cause != want {
			t.Errorf("cause = %q, want %q", res.Cause, want)
		}
		// h2 rolled back whole, newest first, and nothing else.
		var rb []string
		for _, e := range events {
			if u, ok := e.(UnitStarted); ok && u.Phase == PhaseRollback {
				rb = append(rb, u.Task+"/"+u.Host)
			}
		}
		if diff := cmp.Diff([]string{"deploy/h2", "prepare/h2"}, rb); diff != "" {
			t.Errorf("rollbacks (-want +got):\n%s", diff)
		}
		if len(res.Dropped) != 1 || res.Dropped[0].Host != "h2" || res.Dropped[0].Task != "deploy" ||
			!slices.Equal(res.Dropped[0].RolledBack, []string{"deploy", "prepare"}) {
			t.Errorf("dropped = %+v", res.Dropped)
		}
		// The later task skips it, and says so.
		if slices.Contains(f.startOrder("run", false), "after/h2") {
			t.Error("task after ran on the dropped host")
		}
		skipped := slices.ContainsFunc(events, func(e Event) bool {
			s, ok := e.(HostSkipped)
			return ok && s.Task == "after" && s.Host == "h2"
		})
		if !skipped {
			t.Error("no HostSkipped event for after/h2")
		}
		for _, u := range res.Units {
			if u.Host != "h2" && u.Run.Status != StatusOK {
				t.Errorf("%s/%s: %s", u.Task, u.Host, u.Run.Describe())
			}
		}
		assertWaveBoundaries(t, f, deploy)
	})
}

func TestBudgetExceededRollsBackRunOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3", "h4", "h5", "h6")
		prepare := testTask("prepare", hs, "ok", "ok")
		// Two failures in the second wave, one allowed.
		deploy := rolloutTask("deploy", hs, "on h4 fail 3;on h5 fail 4", sizes(3), config.Size{N: 1}, "ok")
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, prepare, deploy), nil)
		if res.Status != RunFailed {
			t.Fatalf("status = %s, want failed", res.Status)
		}
		over := slices.ContainsFunc(events, func(e Event) bool {
			b, ok := e.(BudgetExceeded)
			return ok && b.Task == "deploy" && b.Index == 2 && b.Budget == 1 && len(b.Failed) == 2
		})
		if !over {
			t.Error("no BudgetExceeded event for wave 2")
		}
		// Every pair that ran rolled back exactly once: the dropped host
		// by its drop, the others by the run's cascade.
		got := f.rollbacks()
		for _, task := range []string{"prepare", "deploy"} {
			for _, h := range hs {
				if k := task + "/" + h.Name; got[k] != 1 {
					t.Errorf("%s rolled back %d times, want once", k, got[k])
				}
			}
		}
		if len(res.Dropped) != 1 {
			t.Errorf("dropped = %+v, want one of h4, h5", res.Dropped)
		}
	})
}

// TestCanaryFailureAlwaysStops: a failed canary stops the run whatever
// on_failure says: under "continue" too, nothing of this task or any
// other starts after it.
func TestCanaryFailureAlwaysStops(t *testing.T) {
	for _, mode := range []config.OnFailure{config.OnFailureRollback, config.OnFailureStop, config.OnFailureContinue} {
		t.Run(string(mode), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				hs := testHosts("h1", "h2", "h3")
				deploy := rolloutTask("deploy", hs, "on h1 fail 3", sizes(1, 2), config.Size{N: 5}, "ok")
				after := testTask("after", hs, "ok", "ok")
				res, events := runFake(t, f, testPlan(mode, deploy, after), nil)
				if res.Status != RunFailed || len(res.Dropped) != 0 {
					t.Fatalf("status = %s, dropped %v; a failed canary must fail the run", res.Status, res.Dropped)
				}
				if got := f.startOrder("run", false); !slices.Equal(got, []string{"deploy/h1"}) {
					t.Errorf("ran %v after the canary failed", got)
				}
				if !slices.ContainsFunc(events, func(e Event) bool { _, ok := e.(Stopping); return ok }) {
					t.Error("no Stopping event")
				}
			})
		})
	}
}

// TestLastWaveOfOneIsNoCanary: a rollout's last wave holding one host,
// the rest of its hosts after waves of more, is not a canary: under
// "continue" its failure fails the task and the run goes on with the
// others, as a failure in the wave before it does; a failed canary would
// have stopped the run.
func TestLastWaveOfOneIsNoCanary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3", "h4")
		deploy := rolloutTask("deploy", hs, "on h4 fail 3", sizes(1, 2), config.Size{}, "ok") // waves 1, 2, 1
		after := testTask("after", hs[:1], "ok", "ok")
		res, events := runFake(t, f, testPlan(config.OnFailureContinue, deploy, after), nil)
		if res.Status != RunFailed {
			t.Fatalf("status = %s, want failed", res.Status)
		}
		if ran := f.startOrder("run", false); !slices.Contains(ran, "after/h1") {
			t.Errorf("the next task did not run under continue: %v", ran)
		}
		for _, e := range events {
			if s, ok := e.(Stopping); ok && strings.Contains(s.Reason, "canary") {
				t.Errorf("stopping for a canary: %q", s.Reason)
			}
		}
	})
}

// TestContinueStopsARolloutOverBudget: under on_failure = "continue" a
// wave over its failure budget (0 by default) fails its task, whose later
// waves do not start; the run goes on with the other tasks.
func TestContinueStopsARolloutOverBudget(t *testing.T) {
	for _, tt := range []struct {
		name   string
		budget config.Size
		fail   string
	}{
		{"budget 1, two failures", config.Size{N: 1}, "on h3 fail 3;on h4 fail 4"},
		{"no budget, one failure", config.Size{}, "on h3 fail 3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				hs := testHosts("h1", "h2", "h3", "h4", "h5", "h6", "h7")
				deploy := rolloutTask("deploy", hs, tt.fail, sizes(2, 3), tt.budget, "ok")
				after := testTask("after", hs[:1], "ok", "ok")
				res, events := runFake(t, f, testPlan(config.OnFailureContinue, deploy, after), nil)
				if res.Status != RunFailed {
					t.Fatalf("status = %s, want failed", res.Status)
				}
				ran := f.startOrder("run", false)
				for _, h := range []string{"h6", "h7"} {
					if slices.Contains(ran, "deploy/"+h) {
						t.Errorf("deploy ran on %s, in the wave after the one over its budget: %v", h, ran)
					}
				}
				if !slices.Contains(ran, "after/h1") {
					t.Errorf("the next task did not run under continue: %v", ran)
				}
				if !slices.ContainsFunc(events, func(e Event) bool {
					b, ok := e.(BudgetExceeded)
					return ok && b.Task == "deploy" && b.Index == 2
				}) {
					t.Error("no BudgetExceeded event for wave 2")
				}
			})
		})
	}
}

func TestRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2")
		task := testTask("flaky", hs, "on h1 flaky 2")
		task.Retries, task.RetryDelay = 2, 5*time.Second
		start := time.Now()
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, task), nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		if took := time.Since(start); took < 10*time.Second {
			t.Errorf("two retries took %s, less than two retry delays", took)
		}
		var attempts []int
		for _, e := range events {
			if a, ok := e.(AttemptFailed); ok {
				if a.Host != "h1" || a.Of != 3 {
					t.Errorf("attempt event %+v", a)
				}
				attempts = append(attempts, a.Attempt)
			}
		}
		if !slices.Equal(attempts, []int{1, 2}) {
			t.Errorf("failed attempts = %v, want [1 2]", attempts)
		}
		if u := res.Units[0]; u.Run.Attempts != 3 {
			t.Errorf("h1 attempts = %d, want 3", u.Run.Attempts)
		}

		// Out of retries: the host fails with its last attempt. (One
		// host: another's failure would stop the run, and with it this
		// host's retries.)
		f = newFake()
		task = testTask("flaky", hs[:1], "flaky 5")
		task.Retries = 1
		res, _ = runFake(t, f, testPlan(config.OnFailureStop, task), nil)
		if res.OK() || res.Units[0].Run.Attempts != 2 || res.Units[0].Run.Status != StatusFailed {
			t.Errorf("result %s, unit %+v; want failed after 2 attempts", res.Status, res.Units[0].Run)
		}
	})
}

func TestRetryTimeoutPerAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		task := testTask("slow", testHosts("h1"), "sleep 2s")
		task.Timeout, task.Retries = time.Second, 2
		res, _ := runFake(t, f, testPlan(config.OnFailureStop, task), nil)
		u := res.Units[0].Run
		if u.Status != StatusTimedOut || u.Attempts != 3 {
			t.Errorf("unit %+v: want timed out after 3 attempts", u)
		}
		if got := u.Describe(); got != "timed out after 1s" {
			t.Errorf("Describe() = %q; the attempts' total is not how late the last one stopped", got)
		}
	})
}

func TestCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2")
		task := testTask("deploy", hs, "ok", "ok")
		task.Check = &Check{Run: []string{"on h1 flaky 2"}, Interval: time.Second, Timeout: 10 * time.Second}
		res, events := runFake(t, f, testPlan(config.OnFailureRollback, task), nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		if got := res.Units[0].Run.CheckAttempts; got != 3 {
			t.Errorf("h1 check attempts = %d, want 3", got)
		}
		for _, e := range events {
			if o, ok := e.(Output); ok {
				t.Errorf("check output passed on as Output: %q", o.Data)
			}
		}

		// A check that never passes fails the host with its last output.
		f = newFake()
		task = testTask("deploy", hs, "ok", "ok")
		task.Check = &Check{Run: []string{"on h2 fail 7"}, Interval: time.Second, Timeout: 5 * time.Second}
		res, events = runFake(t, f, testPlan(config.OnFailureRollback, task), nil)
		if res.Status != RunFailed {
			t.Fatalf("status = %s, want failed", res.Status)
		}
		var u *UnitResult
		for _, x := range res.Units {
			if x.Host == "h2" {
				u = x
			}
		}
		if u.Run.Status != StatusCheckFailed || u.Run.CheckAttempts != 5 || u.Run.ExitCode != 7 {
			t.Errorf("h2 = %+v; want check failed, exit 7, 5 attempts (0s to 4s of 5s)", u.Run)
		}
		if !slices.Equal(u.Run.CheckTail, []string{"failing with 7"}) {
			t.Errorf("check tail = %q", u.Run.CheckTail)
		}
		last := ""
		for _, e := range events {
			if c, ok := e.(CheckAttempt); ok && c.Host == "h2" {
				last = fmt.Sprintf("%d %s", c.Attempt, c.Last)
			}
		}
		if last != "5 failing with 7" {
			t.Errorf("last check attempt event = %q", last)
		}
		// The host whose run succeeded is rolled back with the rest.
		if got := f.rollbacks(); got["deploy/h2"] != 1 || got["deploy/h1"] != 1 {
			t.Errorf("rollbacks = %v", got)
		}

		// An attempt that hangs into the timeout is the last: no empty
		// attempt after it, whose nothing would replace its output.
		f = newFake()
		task = testTask("deploy", hs, "ok")
		task.Check = &Check{Run: []string{"echo connecting", "on h1 sleep 30s"}, Interval: 500 * time.Millisecond, Timeout: 2 * time.Second}
		res, _ = runFake(t, f, testPlan(config.OnFailureRollback, task), nil)
		for _, x := range res.Units {
			if x.Host == "h1" {
				u = x
			}
		}
		if u.Run.Status != StatusCheckFailed || u.Run.CheckAttempts != 1 || !slices.Equal(u.Run.CheckTail, []string{"connecting"}) {
			t.Errorf("h1 = %+v; want check failed after 1 attempt, its output kept", u.Run)
		}
	})
}

func TestConditions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3")
		task := testTask("deploy", hs, "ok", "ok")
		task.OnlyIf = []string{"on h2 fail 1"}
		task.Unless = []string{"on h1 fail 1"} // succeeds on h2, h3
		later := testTask("later", hs, "on h1 fail 9")
		res, _ := runFake(t, f, testPlan(config.OnFailureRollback, task, later), nil)
		byHost := map[string]Status{}
		for _, u := range res.Units {
			if u.Task == "deploy" {
				byHost[u.Host] = u.Run.Status
			}
		}
		want := map[string]Status{"h1": StatusOK, "h2": StatusConditionSkipped, "h3": StatusConditionSkipped}
		if diff := cmp.Diff(want, byHost); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		// Only h1 ran deploy, so only h1 is rolled back when later fails.
		if got := f.rollbacks(); !cmp.Equal(got, map[string]int{"deploy/h1": 1}) {
			t.Errorf("rollbacks = %v, want deploy/h1 only", got)
		}
		for _, e := range f.startOrder("run", false) {
			if e == "deploy/h2" || e == "deploy/h3" {
				t.Errorf("%s ran though its condition said no", e)
			}
		}

		// Skipped hosts do not fail a run.
		f = newFake()
		task = testTask("deploy", hs, "ok")
		task.OnlyIf = []string{"on h3 fail 1"}
		res, _ = runFake(t, f, testPlan(config.OnFailureRollback, task), nil)
		if !res.OK() {
			t.Errorf("a condition's skip failed the run: %s", res.Cause)
		}
	})
}

func TestDropWaitsForPairsBesideAndRollsThemBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3")
		// a fails on h2 after 100ms, within its budget; b runs on h2
		// beside it for a second: the drop waits for b there, then rolls
		// both back. (Failing at once would race b's start: a host dropped
		// before b starts there is skipped by b, not rolled back.)
		a := rolloutTask("a", hs, "sleep 100ms;on h2 fail 1", nil, config.Size{N: 1}, "ok")
		b := testTask("b", hs[1:2], "sleep 1s", "ok")
		res, _ := runFake(t, f, testPlan(config.OnFailureRollback, testGroup("g", 2, a, b)), nil)
		if res.Status != RunPartial {
			t.Fatalf("status = %s (%s), want partial", res.Status, res.Cause)
		}
		if got := f.rollbacks(); !cmp.Equal(got, map[string]int{"a/h2": 1, "b/h2": 1}) {
			t.Errorf("rollbacks = %v, want a and b on h2, once each", got)
		}
		var bRunEnd, bRollbackStart int
		for _, s := range f.spans("run") {
			if s.key == "b/h2" {
				bRunEnd = s.end
			}
		}
		for _, s := range f.spans("rollback") {
			if s.key == "b/h2" {
				bRollbackStart = s.start
			}
		}
		if bRollbackStart < bRunEnd {
			t.Errorf("b was rolled back on h2 (record %d) before its run there ended (record %d)", bRollbackStart, bRunEnd)
		}
	})
}

func TestDropWhoseRollbackFailsFailsTheTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3")
		a := rolloutTask("a", hs, "on h2 fail 1", nil, config.Size{N: 1}, "on h2 fail 5")
		next := testTask("next", hs, "ok")
		res, _ := runFake(t, f, testPlan(config.OnFailureRollback, a, next), nil)
		if res.Status != RunFailed || len(res.Dropped) != 1 || !res.Dropped[0].RollbackFailed() {
			t.Fatalf("status %s, dropped %+v; a failed drop rollback must fail the run", res.Status, res.Dropped)
		}
		if slices.Contains(f.startOrder("run", true), "next") {
			t.Error("the run went on after a dropped host's rollback failed")
		}
		// The cascade rolls back the others that started (h1 and h3 may
		// not have, when h2's failure stopped the run first), and leaves
		// the dropped host alone: its rollback was tried once.
		want := map[string]int{"a/h2": 1}
		for _, e := range f.startOrder("run", false) {
			if e == "a/h1" || e == "a/h3" {
				want[e] = 1
			}
		}
		if got := f.rollbacks(); !cmp.Equal(got, want) {
			t.Errorf("rollbacks = %v, want %v", got, want)
		}
	})
}

func TestWaveStoppedMidwayIsNotFinished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2", "h3", "h4", "h5", "h6")
		deploy := rolloutTask("deploy", hs, "on h1 fail 2", sizes(3), config.Size{})
		deploy.MaxHosts = 1
		res, _ := runFake(t, f, testPlan(config.OnFailureStop, deploy), nil)
		if len(res.Waves) != 1 || res.Waves[0].Finished || !slices.Equal(res.Waves[0].Failed, []string{"h1"}) {
			t.Errorf("waves = %+v; want wave 1 stopped after h1 failed", res.Waves)
		}
	})
}

// TestInterruptDuringConditionRollsNothingBackThere: an interrupt while
// a task's only_if runs leaves the task's run unstarted on those hosts, so
// its rollback does not run there, as for a condition that timed out or
// could not run; what ran before is rolled back. (The pair counted as
// started and both hosts were rolled back.)
func TestInterruptDuringConditionRollsNothingBackThere(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		hs := testHosts("h1", "h2")
		pre := testTask("pre", hs, "ok", "ok")
		x := testTask("x", hs, "ok", "ok")
		x.OnlyIf = []string{"sleep 30s"}
		interrupt := make(chan struct{})
		var res *Result
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			res, _ = runFake(t, f, testPlan(config.OnFailureRollback, pre, x), interrupt)
		}()
		// Every goroutine of the run waits in x's conditions.
		synctest.Wait()
		close(interrupt)
		await(t, finished, time.Minute, "the run after the interrupt")
		if got := f.rollbacks(); !cmp.Equal(got, map[string]int{"pre/h1": 1, "pre/h2": 1}) {
			t.Errorf("rollbacks = %v, want pre on h1 and h2 only", got)
		}
		if diff := cmp.Diff([]string{"pre"}, res.RolledBack); diff != "" {
			t.Errorf("RolledBack (-want +got):\n%s", diff)
		}
		for _, u := range res.Units {
			if u.Task == "x" && (u.Run.Status != StatusInterrupted || u.Rollback != nil) {
				t.Errorf("x on %s: %v, rollback %+v; want interrupted, not rolled back", u.Host, u.Run.Status, u.Rollback)
			}
		}
		if slices.Contains(f.startOrder("run", true), "x") {
			t.Error("x's run started")
		}
	})
}

// TestNoRetryOnceStopping: once the run stops (a failure beside), a pair
// starts no new attempt: the attempt in flight runs to its end, the pair
// fails with it, and the rollback follows. (Attempts kept starting after
// Stopping, and the rollback waited for them all.)
func TestNoRetryOnceStopping(t *testing.T) {
	for _, tt := range []struct {
		name string
		// bad fails during flaky's second attempt, or during its first
		// retry delay.
		bad      string
		attempts int
	}{
		{"during an attempt", "sleep 400ms;fail 2", 2},
		{"during the retry delay", "sleep 250ms;fail 2", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				h := testHosts("h1")
				// Attempts at 0-200ms and 300-500ms, a third due at 600ms.
				flaky := testTask("flaky", h, "sleep 200ms;fail 1", "ok")
				flaky.Retries, flaky.RetryDelay = 2, 100*time.Millisecond
				bad := testTask("bad", h, tt.bad, "ok")
				res, events := runFake(t, f, testPlan(config.OnFailureRollback, testGroup("g", 2, flaky, bad)), nil)
				stopped := slices.IndexFunc(events, func(e Event) bool { _, ok := e.(Stopping); return ok })
				if stopped < 0 {
					t.Fatal("no Stopping event")
				}
				for _, e := range events[stopped:] {
					if a, ok := e.(AttemptFailed); ok {
						t.Errorf("after Stopping, attempt %d of %d failed and was to be retried", a.Attempt, a.Of)
					}
				}
				starts := 0
				for _, e := range f.events {
					if e.kind == "start" && e.task == "flaky" && e.phase == "run" && e.cmd == "sleep 200ms" {
						starts++
					}
				}
				if starts != tt.attempts {
					t.Errorf("flaky's attempts started: %d, want %d", starts, tt.attempts)
				}
				var u *UnitResult
				for _, x := range res.Units {
					if x.Task == "flaky" {
						u = x
					}
				}
				if u.Run.Status != StatusFailed || u.Run.ExitCode != 1 || u.Run.Attempts != tt.attempts {
					t.Errorf("flaky: %+v; want failed, exit 1, after %d attempts", u.Run, tt.attempts)
				}
				if u.Rollback == nil || u.Rollback.Status != StatusOK {
					t.Errorf("flaky's rollback: %+v, want ok", u.Rollback)
				}
			})
		})
	}
}

// TestDroppedHostRolledBackListsOnlySuccesses: a dropped host whose
// rollback of one task failed lists that task among its failed rollbacks,
// not among those rolled back (-json's dropped[].rolled_back said
// ["deploy","pre"] though deploy's rollback exited 6), in the live result
// and in the one its journal rebuilds.
func TestDroppedHostRolledBackListsOnlySuccesses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hs := testHosts("h1", "h2", "h3", "h4")
		pre := testTask("pre", hs, "ok", "ok")
		deploy := rolloutTask("deploy", hs, "on h3 fail 1", sizes(1, 3), config.Size{N: 1}, "on h3 fail 6")
		path, live := journalRun(t, newFake(), testPlan(config.OnFailureRollback, pre, deploy), nil)
		rebuilt, err := mustReadJournal(t, path).Result()
		if err != nil {
			t.Fatal(err)
		}
		for name, res := range map[string]*Result{"live": live, "journal": rebuilt} {
			if len(res.Dropped) != 1 {
				t.Fatalf("%s: dropped %+v, want h3", name, res.Dropped)
			}
			d := res.Dropped[0]
			if d.Host != "h3" || !d.RollbackFailed() || !slices.Equal(d.RolledBack, []string{"pre"}) || !slices.Equal(d.FailedRollbacks, []string{"deploy"}) {
				t.Errorf("%s: dropped %+v; want h3, rolled back [pre], failed [deploy]", name, d)
			}
		}
	})
}

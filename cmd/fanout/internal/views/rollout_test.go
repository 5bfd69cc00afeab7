package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/core"
)

// rolloutEvents is a run of deploy on h1..h4 in two waves of two, h3
// failing its check within the budget and dropped, h4's check failing
// the same way twice before it passes, then a later task skipping h3.
func rolloutEvents() (*core.Plan, []core.Event) {
	var hosts []*core.Host
	for _, n := range []string{"h1", "h2", "h3", "h4"} {
		hosts = append(hosts, &core.Host{Name: n})
	}
	deploy := &core.TaskNode{Name: "deploy", Hosts: hosts, MaxHosts: 2}
	after := &core.TaskNode{Name: "after", Hosts: hosts, MaxHosts: 4}
	p := &core.Plan{Hosts: hosts, Roots: []core.Node{deploy, after}}
	run, rb := core.PhaseRun, core.PhaseRollback
	checkFail := core.PhaseResult{Status: core.StatusFailed, ExitCode: 7, Command: 0}
	dropped := core.PhaseResult{Status: core.StatusCheckFailed, ExitCode: 7, Command: -1, Attempts: 1, CheckAttempts: 3,
		Err: "3 attempts after 2s, the last exit 7", CheckTail: []string{"connection refused"}, Duration: 2 * time.Second}
	ev := []core.Event{
		core.RunStarted{RunID: "r1", Time: t0, Units: 8, Hosts: 4},
		core.WaveStarted{Task: "deploy", Index: 1, Of: 2, Hosts: []string{"h1", "h2"}, Budget: 1, Time: t0},
		started("deploy", "h1", run, 0), started("deploy", "h2", run, 0),
		finished("deploy", "h1", run, ok(0, 10)), finished("deploy", "h2", run, ok(0, 10)),
		core.WaveFinished{Task: "deploy", Index: 1, Of: 2, Time: at(20)},
		core.Pausing{Task: "deploy", Next: 2, Duration: time.Second, Time: at(20)},
		core.WaveStarted{Task: "deploy", Index: 2, Of: 2, Hosts: []string{"h3", "h4"}, Budget: 1, Time: at(1020)},
		started("deploy", "h3", run, 1020), started("deploy", "h4", run, 1020),
	}
	for i := 1; i <= 3; i++ {
		ev = append(ev, core.CheckAttempt{Task: "deploy", Host: "h3", Attempt: i, Result: checkFail, Last: "connection refused", Time: at(1030)})
	}
	for i := 1; i <= 2; i++ {
		ev = append(ev, core.CheckAttempt{Task: "deploy", Host: "h4", Attempt: i, Result: checkFail, Last: "starting", Time: at(1030)})
	}
	ev = append(ev,
		finished("deploy", "h3", run, dropped),
		core.HostDropped{Host: "h3", Task: "deploy", Cause: `task "deploy" failed: check failed`, Time: at(3100)},
		started("deploy", "h3", rb, 3100),
		// h4 ends while h3 is rolled back: -group must not show h3's
		// rollback half done.
		core.CheckAttempt{Task: "deploy", Host: "h4", Attempt: 3, Result: ok(1030, 5), Time: at(1040)},
		finished("deploy", "h4", run, ok(1020, 30)),
		out("deploy", "h3", rb, core.Stdout, "undone\n"), finished("deploy", "h3", rb, ok(3100, 5)),
		core.WaveFinished{Task: "deploy", Index: 2, Of: 2, Failed: []string{"h3"}, Time: at(3110)},
		core.HostSkipped{Task: "after", Host: "h3", Reason: `host dropped after task "deploy" failed on it`},
	)
	for _, h := range []string{"h1", "h2", "h4"} {
		ev = append(ev, started("after", h, run, 3200), finished("after", h, run, ok(3200, 5)))
	}
	res := &core.Result{RunID: "r1", Status: core.RunPartial, Cause: "partial: 1 of 4 hosts dropped, rolled back", Started: t0, Duration: 3300 * time.Millisecond,
		Units:   []*core.UnitResult{{Task: "deploy", Host: "h3", Run: dropped, Rollback: &core.PhaseResult{Status: core.StatusOK, Duration: 5 * time.Millisecond}}},
		Waves:   []core.WaveResult{{Task: "deploy", Index: 1, Of: 2, Hosts: []string{"h1", "h2"}, Finished: true}, {Task: "deploy", Index: 2, Of: 2, Hosts: []string{"h3", "h4"}, Failed: []string{"h3"}, Finished: true}},
		Dropped: []core.DroppedHost{{Host: "h3", Task: "deploy", Cause: `task "deploy" failed: check failed`, RolledBack: []string{"deploy"}}},
	}
	return p, append(ev, core.RunFinished{Result: res})
}

func TestApplyHumanRollout(t *testing.T) {
	p, events := rolloutEvents()
	for _, group := range []bool{false, true} {
		var b bytes.Buffer
		v := NewApplyHuman(&b, p, ApplyOptions{Group: group})
		for _, e := range events {
			v.Event(e)
		}
		got := squashSpaces(b.String())
		var checks []string
		if !group {
			// -group shows no line per check attempt: the blocks and
			// the recap say how each host ended.
			checks = []string{"check attempt 1: exit 7: connection refused", "check passed (attempt 3)", "h4 │ deploy │ check attempt 1: exit 7: starting"}
		} else if strings.Contains(got, "check attempt") || strings.Contains(got, "check passed") {
			t.Errorf("group=%v: check attempts shown:\n%s", group, b.String())
		}
		for _, want := range append(checks,
			`Wave 2 of 2 of task "deploy": h[3-4] (2), may drop 1`,
			"Pausing 1s before wave 2",
			"Dropping host h3 within the failure budget",
			"Dropped hosts (rolled back whole):",
			"h3: task \"deploy\" failed: check failed; rolled back deploy",
			"the check's last output:",
			"Run r1 finished after 3.3s, partial: 1 of 4 hosts dropped, rolled back.",
		) {
			if !strings.Contains(got, want) {
				t.Errorf("group=%v: output lacks %q:\n%s", group, want, b.String())
			}
		}
		// A failing attempt that says nothing new is not shown again.
		if strings.Contains(got, "check attempt 2: exit 7: connection refused") {
			t.Errorf("group=%v: a repeated check attempt shown:\n%s", group, b.String())
		}
		if strings.Contains(got, "did not finish") {
			t.Errorf("group=%v: a drop's rollback shown before it finished:\n%s", group, b.String())
		}
		if group && !strings.Contains(got, "h[1-2,4] (3) │ after │ ✓ ok") {
			t.Errorf("-group does not show task after once its hosts but the dropped one finished:\n%s", b.String())
		}
	}
}

func squashSpaces(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

func TestStatusLineShowsWave(t *testing.T) {
	p, events := rolloutEvents()
	var b bytes.Buffer
	v := NewApplyHuman(&b, p, ApplyOptions{Progress: true, Width: 200, Now: func() time.Time { return at(2000) }})
	for _, e := range events {
		v.Event(e)
		if _, ok := e.(core.Pausing); ok && !strings.Contains(b.String(), "pausing before wave 2 of deploy") {
			t.Errorf("the status line does not say the run pauses:\n%q", b.String())
		}
		if w, ok := e.(core.WaveStarted); ok && w.Index == 2 && !strings.Contains(b.String(), "wave 2/2 of deploy") {
			t.Errorf("the status line does not show the wave:\n%q", b.String())
		}
	}
}

// TestFleetListsFolded: the rollback plan and a wave's failed hosts fold
// into host sets at fleet size, as every other list of hosts does (the
// plan read before typing "yes" listed 215 addresses).
func TestFleetListsFolded(t *testing.T) {
	var hosts []string
	for i := range 30 {
		hosts = append(hosts, fmt.Sprintf("web%02d", i+1))
	}
	var b bytes.Buffer
	RollbackPlan(&b, []core.RollbackStep{{Task: "deploy", Commands: []string{"undo"}, Hosts: hosts[:25], Done: hosts[25:], MaxHosts: 10}}, Options{})
	if !strings.Contains(b.String(), "task deploy on web[01-25] (25)") {
		t.Errorf("rollback plan:\n%s", b.String())
	}
	b.Reset()
	res := &core.Result{RunID: "r", Status: core.RunFailed, Waves: []core.WaveResult{{Task: "deploy", Index: 1, Of: 2, Hosts: hosts, Failed: hosts[:22], Finished: true}}}
	var sb strings.Builder
	writeRollout(&sb, res, Options{})
	if !strings.Contains(sb.String(), "failed on web[01-22] (22)") {
		t.Errorf("waves:\n%s", sb.String())
	}
}

// TestDroppedHostNamesTheFailedRollback: a dropped host whose newer
// rollback failed and older one ran says which failed, not "its rollback
// FAILED (rolled back restart, stage)".
func TestDroppedHostNamesTheFailedRollback(t *testing.T) {
	failed := &core.PhaseResult{Status: core.StatusFailed, ExitCode: 5}
	ok := &core.PhaseResult{Status: core.StatusOK}
	res := &core.Result{
		Units: []*core.UnitResult{
			{Task: "restart", Host: "web030", Rollback: failed},
			{Task: "stage", Host: "web030", Rollback: ok},
		},
		Dropped: []core.DroppedHost{{Host: "web030", Task: "restart", Cause: "check failed", RolledBack: []string{"stage"}, FailedRollbacks: []string{"restart"}}},
	}
	var b strings.Builder
	writeRollout(&b, res, Options{})
	if want := "web030: check failed; the rollback of restart FAILED; rolled back stage\n"; !strings.Contains(b.String(), want) {
		t.Errorf("got\n%s\nwant %q", b.String(), want)
	}
}

// TestStatusSaysPausing: SIGUSR1's listing between waves says why nothing
// runs, where it said "Running now: 0 pairs" alone.
func TestStatusSaysPausing(t *testing.T) {
	p, events := rolloutEvents()
	var b bytes.Buffer
	v := NewApplyHuman(&b, p, ApplyOptions{})
	for _, e := range events {
		v.Event(e)
		if _, ok := e.(core.Pausing); ok {
			b.Reset()
			v.Status()
			if got := b.String(); !strings.Contains(got, "(pausing before wave 2 of deploy)") {
				t.Errorf("status during the pause:\n%s", got)
			}
			return
		}
	}
	t.Fatal("no pause in the events")
}

// TestDroppedJSONRolledBackOnlySucceeded: -json's dropped[].rolled_back
// lists the rollbacks that succeeded, failed_rollbacks those that failed.
func TestDroppedJSONRolledBackOnlySucceeded(t *testing.T) {
	res := &core.Result{RunID: "r", Status: core.RunFailed, Started: t0,
		Dropped: []core.DroppedHost{{Host: "h3", Task: "deploy", Cause: "exit 1", RolledBack: []string{"pre"},
			FailedRollbacks: []string{"deploy"}}}}
	var b bytes.Buffer
	v := NewApply(arguments.ViewJSON, &b, syntheticPlan(), ApplyOptions{Version: "test", Now: fixedClock(20)})
	v.Event(core.RunFinished{Result: res})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var end struct {
		Dropped []struct {
			RolledBack      []string `json:"rolled_back"`
			RollbackFailed  bool     `json:"rollback_failed"`
			FailedRollbacks []string `json:"failed_rollbacks"`
		} `json:"dropped"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &end); err != nil {
		t.Fatal(err)
	}
	if len(end.Dropped) != 1 {
		t.Fatalf("dropped: %s", lines[len(lines)-1])
	}
	d := end.Dropped[0]
	if !slices.Equal(d.RolledBack, []string{"pre"}) || !d.RollbackFailed || !slices.Equal(d.FailedRollbacks, []string{"deploy"}) {
		t.Errorf("dropped %+v; want rolled_back [pre], rollback_failed, failed_rollbacks [deploy]", d)
	}
}

// TestRollbackGoesOnSaysSo: an interrupt during apply's rollback cascade
// is said as `fanout rollback` says it, with how to abort, not as a
// "Stopping: ... rolling back what started once running work ends".
func TestRollbackGoesOnSaysSo(t *testing.T) {
	var b bytes.Buffer
	v := NewApplyHuman(&b, syntheticPlan(), ApplyOptions{Options: Options{Config: "deploy.hcl"}})
	v.Event(core.RunStarted{RunID: "r1", Time: t0})
	v.Event(core.RollbackGoesOn{Reason: "interrupted by the operator", Time: t0})
	want := `Interrupt (interrupted by the operator): the rollback goes on (stopping it half-way would leave hosts half undone). ` +
		`Interrupt again to abort it; what it has not rolled back is then left for "fanout rollback r1 deploy.hcl".`
	if !strings.Contains(b.String(), want) || strings.Contains(b.String(), "Stopping") {
		t.Errorf("got\n%s\nwant %q", b.String(), want)
	}
}

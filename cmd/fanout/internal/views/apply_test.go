package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/core"
)

// syntheticPlan has two hosts and the tasks of rollbackRun.
func syntheticPlan() *core.Plan {
	web1, web2 := &core.Host{Name: "web1"}, &core.Host{Name: "web2"}
	both := []*core.Host{web1, web2}
	return &core.Plan{
		Hosts: both,
		Roots: []core.Node{
			&core.TaskNode{Name: "migrate", Hosts: both, MaxHosts: 2},
			&core.Group{Threads: 2, Members: []core.Node{
				&core.TaskNode{Name: "queue_restart", Hosts: both, MaxHosts: 2},
				&core.TaskNode{Name: "app_restart", Hosts: []*core.Host{web1}, MaxHosts: 1},
			}},
			&core.TaskNode{Name: "announce", Hosts: both, MaxHosts: 2},
		},
	}
}

func out(task, host string, phase core.Phase, stream core.Stream, data string) core.Output {
	return core.Output{Task: task, Host: host, Phase: phase, Stream: stream, Data: []byte(data)}
}

func started(task, host string, phase core.Phase, ms int) core.UnitStarted {
	return core.UnitStarted{Task: task, Host: host, Phase: phase, Time: at(ms)}
}

func finished(task, host string, phase core.Phase, r core.PhaseResult) core.UnitFinished {
	return core.UnitFinished{Task: task, Host: host, Phase: phase, Result: r}
}

// syntheticEvents is the event stream of rollbackRun, in the order a run
// would deliver it.
func syntheticEvents() []core.Event {
	res, _ := rollbackRun()
	run, rb := core.PhaseRun, core.PhaseRollback
	return []core.Event{
		core.RunStarted{RunID: res.RunID, Time: t0, Units: 7, Hosts: 2},
		core.HostConnected{Host: "web1", Transport: "ssh", Time: at(5), Duration: 5 * time.Millisecond, Preflight: true},
		core.HostConnected{Host: "web2", Transport: "ssh", Time: at(6), Duration: 6 * time.Millisecond, Preflight: true},
		started("migrate", "web1", run, 0),
		started("migrate", "web2", run, 0),
		out("migrate", "web1", run, core.Stdout, "schema v2 applied\n"),
		out("migrate", "web2", run, core.Stdout, "schema v2 applied\n"),
		finished("migrate", "web1", run, ok(0, 12)),
		finished("migrate", "web2", run, ok(0, 13)),
		started("queue_restart", "web1", run, 40),
		started("queue_restart", "web2", run, 40),
		started("app_restart", "web1", run, 40),
		out("queue_restart", "web1", run, core.Stdout, "restarting queue workers\n"),
		out("queue_restart", "web2", run, core.Stdout, "restarting queue workers\n"),
		out("app_restart", "web1", run, core.Stdout, "restarting app\nwaiting for port 8080"),
		finished("queue_restart", "web1", run, ok(40, 500)),
		out("queue_restart", "web2", run, core.Stderr, "queue: worker 1 did not come back\nqueue: worker 2 did not come back\n"),
		finished("queue_restart", "web2", run, exit(3, 3, 40, 537)),
		core.Stopping{Reason: `task "queue_restart" failed on host "web2": exit 3`, Rollback: true, Time: at(577)},
		finished("app_restart", "web1", run, core.PhaseResult{Status: core.StatusTimedOut, ExitCode: -1, Command: 1, Started: at(40), Duration: 2 * time.Second}),
		core.RollbackStarted{Task: "queue_restart", Hosts: []string{"web1", "web2"}, Time: at(2100)},
		started("queue_restart", "web1", rb, 2100),
		started("queue_restart", "web2", rb, 2100),
		out("queue_restart", "web1", rb, core.Stderr, "queue: no previous workers\n"),
		finished("queue_restart", "web1", rb, core.PhaseResult{Status: core.StatusFailed, ExitCode: 1, Command: 0, Started: at(2100), Duration: 3 * time.Millisecond}),
		finished("queue_restart", "web2", rb, ok(2100, 2)),
		core.RollbackFinished{Task: "queue_restart", Failed: []string{"web1"}, Time: at(2103)},
		core.RollbackStarted{Task: "migrate", Hosts: []string{"web1", "web2"}, Time: at(2200)},
		started("migrate", "web1", rb, 2200),
		started("migrate", "web2", rb, 2200),
		finished("migrate", "web1", rb, ok(2200, 4)),
		finished("migrate", "web2", rb, ok(2200, 5)),
		core.RollbackFinished{Task: "migrate", Time: at(2205)},
		core.RunFinished{Result: res},
	}
}

func TestApplyHuman(t *testing.T) {
	tests := []struct {
		name string
		opts ApplyOptions
	}{
		{name: "plain"},
		{name: "color", opts: ApplyOptions{Options: Options{Color: true}}},
		{name: "quiet", opts: ApplyOptions{Quiet: true}},
		{name: "redacted", opts: ApplyOptions{Options: Options{Redact: NewRedactor([]string{"8080", "v2"})}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			v := NewApplyHuman(&b, syntheticPlan(), tt.opts)
			for _, e := range syntheticEvents() {
				v.Event(e)
			}
			golden(t, "apply/"+tt.name, b.String())
		})
	}
}

// lineWriter records every Write, to check that lines are written whole.
type writes struct{ calls []string }

func (w *writes) Write(p []byte) (int, error) {
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func TestApplyHumanWritesWholeLines(t *testing.T) {
	w := &writes{}
	v := NewApplyHuman(w, syntheticPlan(), ApplyOptions{})
	for _, e := range syntheticEvents() {
		v.Event(e)
	}
	for _, c := range w.calls {
		if !strings.HasSuffix(c, "\n") {
			t.Errorf("a write does not end a line: %q", c)
		}
	}
}

func TestHostColorStable(t *testing.T) {
	// The same in every run, not only between two calls of one process:
	// pinned values fail if the hash becomes one seeded per process
	// (hash/maphash, a map's order), as operators learn the colours.
	want := map[string]int{"web1": 0, "web2": 7, "web3": 8, "web4": 5, "db1": 4, "db2": 5, "cache1": 0}
	seen := map[string]bool{}
	for h, i := range want {
		if got := hostColor(h); got != hostPalette[i] {
			t.Errorf("hostColor(%q) = %q, want %q (palette %d): a host's colour must not change between runs", h, got, hostPalette[i], i)
		}
		seen[hostColor(h)] = true
	}
	if len(seen) < 3 {
		t.Errorf("seven hosts share %d colours", len(seen))
	}
}

func TestApplyHumanProgress(t *testing.T) {
	var b bytes.Buffer
	// The clock advances 100ms at each reading.
	n := 0
	now := func() time.Time { n++; return at(n * 100) }
	v := NewApplyHuman(&b, syntheticPlan(), ApplyOptions{Progress: true, Width: 60, Now: now})
	events := syntheticEvents()
	for i, e := range events {
		v.Event(e)
		if i == 12 {
			v.Tick()
			v.Status()
		}
	}
	v.Tick() // after the end: draws nothing
	got := b.String()
	// Escape sequences made visible, one redraw per line, for the golden file.
	visible := strings.NewReplacer(ansiClearLine, "⟨clear⟩").Replace(got)
	golden(t, "apply/progress", visible)

	if !strings.HasSuffix(got, "succeeded in 1.027s.\n") && !strings.Contains(got[strings.LastIndex(got, ansiClearLine):], "Run ") {
		t.Errorf("the status line is not cleared before the recap")
	}
	for _, line := range strings.Split(got, ansiClearLine) {
		status := line[strings.LastIndex(line, "\n")+1:]
		if width(status) >= 60 {
			t.Errorf("status line of %d columns on a 60-column terminal: %q", width(status), status)
		}
	}
}

// TestStatusLineFollowsResize: a terminal narrowed mid-run gets a status
// line that fits its new width at once (SIGWINCH calls Resize).
func TestStatusLineFollowsResize(t *testing.T) {
	var b bytes.Buffer
	now := func() time.Time { return time.Unix(1000, 0) }
	v := NewApplyHuman(&b, syntheticPlan(), ApplyOptions{Progress: true, Width: 120, Now: now})
	events := syntheticEvents()
	for _, e := range events[:13] {
		v.Event(e)
	}
	b.Reset()
	v.Resize(25)
	got := b.String()
	status := got[strings.LastIndex(got, ansiClearLine)+len(ansiClearLine):]
	if status == "" || width(status) >= 25 {
		t.Errorf("after Resize(25), the status line drawn is %q (%d columns)", status, width(status))
	}
}

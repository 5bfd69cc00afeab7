package views

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/core"
)

// rollbackRun is the examples/rollback.hcl run: queue_restart fails on
// web2 with a long stderr, a rollback fails on web1, the rest rolls back.
func rollbackRun() (*core.Result, *Tails) {
	first := unit("queue_restart", "web2", exit(3, 3, 40, 537), rbp(ok(2100, 2)))
	res := &core.Result{
		RunID:  "20261125T100000-abcdef",
		Status: core.RunFailed,
		Cause:  `task "queue_restart" failed on host "web2": exit 3`,
		Units: []*core.UnitResult{
			unit("migrate", "web1", ok(0, 12), rbp(ok(2200, 4))),
			unit("migrate", "web2", ok(0, 13), rbp(ok(2200, 5))),
			unit("queue_restart", "web1", ok(40, 500), rbp(core.PhaseResult{Status: core.StatusFailed, ExitCode: 1, Command: 0, Started: at(2100), Duration: 3 * time.Millisecond})),
			first,
			unit("app_restart", "web1", core.PhaseResult{Status: core.StatusTimedOut, ExitCode: -1, Command: 1, Started: at(40), Duration: 2 * time.Second}, nil),
			unit("announce", "web1", skipped(), nil),
			unit("announce", "web2", skipped(), nil),
		},
		RolledBack:     []string{"queue_restart", "app_restart", "migrate"},
		RollbackFailed: []string{"queue_restart on web1"},
		Started:        t0,
		Duration:       2210 * time.Millisecond,
	}
	res.FirstFailure = first
	tails := NewTails()
	var b strings.Builder
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, "queue: worker %d did not come back\n", i)
	}
	tails.Record(core.Output{Task: "queue_restart", Host: "web2", Phase: core.PhaseRun, Stream: core.Stdout, Data: []byte("restarting queue workers\n")})
	tails.Record(core.Output{Task: "queue_restart", Host: "web2", Phase: core.PhaseRun, Stream: core.Stderr, Data: []byte(b.String())})
	tails.Record(core.Output{Task: "queue_restart", Host: "web1", Phase: core.PhaseRollback, Stream: core.Stderr, Data: []byte("queue: no previous workers\n")})
	tails.Record(core.Output{Task: "app_restart", Host: "web1", Phase: core.PhaseRun, Stream: core.Stdout, Data: []byte("restarting app\nwaiting for port 8080")})
	return res, tails
}

func TestSummary(t *testing.T) {
	failedRes, failedTails := rollbackRun()
	tests := []struct {
		name  string
		res   *core.Result
		tails *Tails
		opts  Options
	}{
		{
			name: "succeeded",
			res: &core.Result{RunID: "20261125T100000-abcdef", Status: core.RunSucceeded, Started: t0, Duration: 1027 * time.Millisecond,
				Units: []*core.UnitResult{unit("app_restart", "web1", ok(0, 1018), nil), unit("app_restart", "web2", ok(0, 1021), nil), unit("verify", "web1", ok(1030, 4), nil)}},
		},
		{name: "failed", res: failedRes, tails: failedTails},
		{name: "failed_color", res: failedRes, tails: failedTails, opts: Options{Color: true}},
		{
			name: "preflight",
			res: &core.Result{RunID: "20261125T100000-abcdef", Status: core.RunFailed, Started: t0, Duration: 300 * time.Millisecond,
				Cause:     "1 of 2 hosts failed preflight; nothing was run",
				Preflight: []core.HostError{{Host: "db1", Err: "dial tcp 10.0.0.9:22: connect: connection refused"}},
				Units:     []*core.UnitResult{unit("backup", "db1", skipped(), nil), unit("backup", "db2", skipped(), nil)}},
		},
		{
			name: "interrupted",
			res: &core.Result{RunID: "20261125T100000-abcdef", Status: core.RunInterrupted, Started: t0, Duration: 5 * time.Second,
				Cause: "interrupted by the operator",
				Units: []*core.UnitResult{
					unit("done", "localhost", ok(0, 3), rbp(ok(4900, 2))),
					unit("slow", "localhost", core.PhaseResult{Status: core.StatusInterrupted, ExitCode: -1, Signal: "INT", Command: 0, Started: at(4), Duration: 4800 * time.Millisecond}, rbp(ok(4850, 3))),
					unit("after", "localhost", skipped(), nil),
				},
				RolledBack: []string{"slow", "done"}},
		},
		{
			// on_failure = "stop": nothing rolled back, and the recap
			// says what `fanout rollback` would undo.
			name: "interrupted_stop",
			res: &core.Result{RunID: "20261125T100000-abcdef", Status: core.RunInterrupted, Started: t0, Duration: 5 * time.Second,
				Cause: "interrupted by the operator",
				Units: []*core.UnitResult{
					unit("done", "localhost", ok(0, 3), nil),
					unit("slow", "localhost", core.PhaseResult{Status: core.StatusInterrupted, ExitCode: -1, Signal: "INT", Command: 0, Started: at(4), Duration: 4800 * time.Millisecond}, nil),
					unit("after", "localhost", skipped(), nil),
				},
				NotRolledBack: []string{"done on localhost", "slow on localhost"}, NoRollback: "stop"},
		},
		{
			name: "redacted",
			res: &core.Result{RunID: "20261125T100000-abcdef", Status: core.RunFailed, Started: t0, Duration: time.Second,
				Cause: `task "login" failed on host "web1": unreachable: auth failed for hunter2`,
				Units: []*core.UnitResult{unit("login", "web1", core.PhaseResult{Status: core.StatusUnreachable, ExitCode: -1, Command: -1, Err: "auth failed for hunter2", Started: t0, Duration: time.Second}, nil)}},
			tails: func() *Tails {
				tl := NewTails()
				tl.Record(core.Output{Task: "login", Host: "web1", Phase: core.PhaseRun, Stream: core.Stderr, Data: []byte("password hunter2 rejected\n")})
				return tl
			}(),
			opts: Options{Redact: NewRedactor([]string{"hunter2"})},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			Summary(&b, tt.res, tt.tails, tt.opts)
			golden(t, "summary/"+tt.name, b.String())
		})
	}
}

func TestTailsBounded(t *testing.T) {
	tl := NewTails()
	for i := range 1000 {
		tl.Record(core.Output{Task: "t", Host: "h", Phase: core.PhaseRun, Stream: core.Stderr, Data: fmt.Appendf(nil, "line %d %s\n", i, strings.Repeat("x", 1000))})
	}
	lines, dropped, stream := tl.Last("t", "h", core.PhaseRun)
	if len(lines) != tailLines || dropped != 1000-tailLines || stream != core.Stderr {
		t.Fatalf("got %d lines, %d dropped, %s", len(lines), dropped, stream)
	}
	if !strings.HasPrefix(lines[0], "line 995 ") || !strings.HasPrefix(lines[4], "line 999 ") {
		t.Errorf("not the last lines in order: %q ... %q", lines[0][:10], lines[4][:10])
	}
	for _, l := range lines {
		if len(l) > tailWidth+len("…") {
			t.Errorf("line of %d bytes kept, want at most %d", len(l), tailWidth)
		}
	}
}

// TestRolledBackAgrees: the recap's "Rolled back" line and -json's
// rolled_back name the same tasks: one rolled back everywhere, one on
// some hosts (the line says where not), never one whose rollback
// succeeded nowhere (a plugin killed during it, an abort).
func TestRolledBackAgrees(t *testing.T) {
	ok := &core.PhaseResult{Status: core.StatusOK}
	bad := &core.PhaseResult{Status: core.StatusUnreachable, ExitCode: -1, Err: "gone"}
	res := &core.Result{RunID: "r", Status: core.RunFailed,
		RolledBack:     []string{"whole", "partly", "nowhere"},
		RollbackFailed: []string{"partly on h2", "nowhere on h1", "nowhere on h2"},
		Units: []*core.UnitResult{
			{Task: "whole", Host: "h1", Rollback: ok}, {Task: "whole", Host: "h2", Rollback: ok},
			{Task: "partly", Host: "h1", Rollback: ok}, {Task: "partly", Host: "h2", Rollback: bad},
			{Task: "nowhere", Host: "h1", Rollback: bad}, {Task: "nowhere", Host: "h2", Rollback: bad},
		}}
	if got, want := rolledBack(res), []string{"whole", "partly (not on h2)"}; !slices.Equal(got, want) {
		t.Errorf("recap: %q, want %q", got, want)
	}
	if got, want := jsonRolledBack(res), []string{"whole", "partly"}; !slices.Equal(got, want) {
		t.Errorf("-json: %q, want %q", got, want)
	}
}

// TestUnitRowUnknownRollbackDuration: a rollback fanout died while it ran
// has no known length: its cell gives none, not "0s".
func TestUnitRowUnknownRollbackDuration(t *testing.T) {
	u := &core.UnitResult{Task: "deploy", Host: "h2", Run: core.PhaseResult{Status: core.StatusOK},
		Rollback: &core.PhaseResult{Status: core.StatusInterrupted, Err: "no record of its end: fanout stopped while it ran"}}
	if got := unitRow(u, Options{})[5]; got != "FAILED: interrupted: no record of its end: fanout stopped while it ran" {
		t.Errorf("rollback cell %q", got)
	}
}

package views

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fanout/fanout/core"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/NAME.golden, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

// t0 is the synthetic runs' start; every time is relative to it.
var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func ok(start, dur int) core.PhaseResult {
	return core.PhaseResult{Status: core.StatusOK, Command: -1, Started: at(start), Duration: time.Duration(dur) * time.Millisecond}
}

func exit(code, cmd, start, dur int) core.PhaseResult {
	return core.PhaseResult{Status: core.StatusFailed, ExitCode: code, Command: cmd, Started: at(start), Duration: time.Duration(dur) * time.Millisecond}
}

func skipped() core.PhaseResult { return core.PhaseResult{Status: core.StatusSkipped, Command: -1} }

func unit(task, host string, run core.PhaseResult, rb *core.PhaseResult) *core.UnitResult {
	return &core.UnitResult{Task: task, Host: host, Run: run, Rollback: rb}
}

func rbp(r core.PhaseResult) *core.PhaseResult { return &r }

// fixedClock returns a clock reading the given offsets one after another,
// then the last one for ever.
func fixedClock(ms ...int) func() time.Time {
	i := 0
	return func() time.Time {
		t := at(ms[min(i, len(ms)-1)])
		i++
		return t
	}
}

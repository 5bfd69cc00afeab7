package views

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/core"
)

// fleetRun is a run of two tasks on 200 hosts, h1 to h200: "deploy" fails
// on 30 of them (25 with exit 1 from its second command, 3 timed out, 2
// unreachable, each unreachable error quoting the host's own address),
// and is rolled back on the others, failing on h7; "announce" is skipped.
func fleetRun() (*core.Result, *Tails) {
	res := &core.Result{
		RunID:    "20261125T100000-abcdef",
		Status:   core.RunFailed,
		Cause:    `task "deploy" failed on host "h5": exit 1`,
		Started:  t0,
		Duration: 61 * time.Second,
	}
	tails := NewTails()
	for i := 1; i <= 200; i++ {
		host := fmt.Sprintf("h%d", i)
		run := ok(0, 1000+i*10)
		switch {
		case i%8 == 5 && i <= 200: // 25 hosts
			run = exit(1, 1, 0, 2000+i)
			tails.Record(core.Output{Task: "deploy", Host: host, Phase: core.PhaseRun, Stream: core.Stderr,
				Data: []byte("switch: release 2026-12-01 not found\n")})
		case i == 3 || i == 4 || i == 6:
			run = core.PhaseResult{Status: core.StatusTimedOut, ExitCode: -1, Command: 0, Started: t0, Duration: 30 * time.Second, Timeout: 30 * time.Second}
		case i == 198 || i == 199:
			run = core.PhaseResult{Status: core.StatusUnreachable, ExitCode: -1, Command: -1, Started: t0, Duration: time.Second,
				Err: fmt.Sprintf("dial tcp 127.0.1.%d:22: connect: connection refused", i-100)}
		}
		var rb *core.PhaseResult
		if run.Status == core.StatusOK {
			rb = rbp(ok(40000, 100+i))
			if i == 7 {
				rb = rbp(core.PhaseResult{Status: core.StatusFailed, ExitCode: 2, Command: 0, Started: at(40000), Duration: 50 * time.Millisecond})
			}
		}
		u := unit("deploy", host, run, rb)
		res.Units = append(res.Units, u)
		if i == 5 {
			res.FirstFailure = u
		}
	}
	for i := 1; i <= 200; i++ {
		res.Units = append(res.Units, unit("announce", fmt.Sprintf("h%d", i), skipped(), nil))
	}
	res.RolledBack = []string{"deploy"}
	res.RollbackFailed = []string{"deploy on h7"}
	return res, tails
}

// TestSummaryFolded checks the recap of a 200-host run: one row per task,
// status, exit code and rollback, with host sets and p50/max durations;
// ten failures with their output, the rest folded by cause.
func TestSummaryFolded(t *testing.T) {
	res, tails := fleetRun()
	var b strings.Builder
	Summary(&b, res, tails, Options{})
	got := b.String()
	golden(t, "summary/fleet", got)
	if n := strings.Count(got, "\n"); n > 60 {
		t.Errorf("the recap of 200 hosts takes %d lines", n)
	}
	// Every host is accounted for in the table, once per task.
	for _, want := range [][]string{
		{"announce  skipped", "h[1-200] (200)"},
		{"deploy    ok", "rolled back, p50 202ms, max 300ms", "h[1-2,8-12,14-20,", ",200] (169)"},
		{"✗ deploy on h[198-199] (2): unreachable: dial tcp <address>: connect: connection refused"},
	} {
		if !hasLine(got, want...) {
			t.Errorf("no line of the recap holds %q", want)
		}
	}
}

// hasLine reports whether a line of text holds every one of parts.
func hasLine(text string, parts ...string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestPreflightFolded checks that preflight failures shared by many hosts
// are one line per cause, though each error quotes its host's address.
func TestPreflightFolded(t *testing.T) {
	res := &core.Result{RunID: "20261125T100000-abcdef", Status: core.RunFailed, Started: t0, Duration: 3 * time.Second,
		Cause: "200 of 200 hosts failed preflight; nothing was run"}
	for i := 1; i <= 200; i++ {
		host := fmt.Sprintf("h%d", i)
		err := fmt.Sprintf("dial tcp 127.0.%d.%d:22: connect: connection refused", i/250, i%250)
		switch {
		case i > 150 && i != 170:
			err = "ssh: handshake failed: knownhosts: key is unknown"
		case i == 170:
			err = "host " + host + ": no agent"
		}
		res.Preflight = append(res.Preflight, core.HostError{Host: host, Err: err})
		res.Units = append(res.Units, unit("deploy", host, skipped(), nil))
	}
	var b strings.Builder
	Summary(&b, res, nil, Options{})
	golden(t, "summary/preflight_fleet", b.String())
}

// TestGroupedPreflightFolded checks that with -group a preflight failure
// shared by 150 hosts is one line of the output, not 150.
func TestGroupedPreflightFolded(t *testing.T) {
	var hosts []*core.Host
	res := &core.Result{RunID: "20261125T100000-abcdef", Status: core.RunFailed, Started: t0, Duration: time.Second,
		Cause: "150 of 150 hosts failed preflight; nothing was run"}
	var events []core.Event
	for i := 1; i <= 150; i++ {
		name := fmt.Sprintf("h%d", i)
		hosts = append(hosts, &core.Host{Name: name})
		err := fmt.Sprintf("dial tcp 127.0.0.%d:22: connect: connection refused", i)
		events = append(events, core.HostConnected{Host: name, Transport: "ssh", Err: err, Preflight: true})
		res.Preflight = append(res.Preflight, core.HostError{Host: name, Err: err})
	}
	p := &core.Plan{Hosts: hosts, Roots: []core.Node{&core.TaskNode{Name: "deploy", Hosts: hosts, MaxHosts: 10}}}
	var b bytes.Buffer
	v := NewApplyHuman(&b, p, ApplyOptions{Group: true, Now: fixedClock(0)})
	v.Event(core.RunStarted{RunID: res.RunID, Time: t0, Units: 150, Hosts: 150})
	for _, e := range events {
		v.Event(e)
	}
	v.Event(core.RunFinished{Result: res})
	if n := strings.Count(b.String(), "connection refused"); n != 1 {
		t.Errorf("the cause is written %d times, want once:\n%s", n, b.String())
	}
	if !strings.Contains(b.String(), "✗ h[1-150] (150): dial tcp <address>: connect: connection refused") {
		t.Errorf("no folded line:\n%s", b.String())
	}
}

// TestStatusBounded checks that the SIGUSR1 listing of 2,000 running
// pairs shows the longest running and counts the rest.
func TestStatusBounded(t *testing.T) {
	running := map[unitKey]time.Time{}
	for i := range 2000 {
		running[unitKey{"deploy", fmt.Sprintf("h%d", i+1), core.PhaseRun}] = at(i)
	}
	var b bytes.Buffer
	writeRunning(&b, running, at(5000), func(k unitKey) string { return k.host })
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != foldAbove+2 || lines[1] != "  h1 │ for 5s" || lines[len(lines)-1] != "  and 1980 more, running for less time" {
		t.Errorf("listing of %d lines:\n%s", len(lines), b.String())
	}
}

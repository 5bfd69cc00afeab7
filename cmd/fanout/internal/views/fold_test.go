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

// TestConnectFailuresFolded checks the live lines of hosts that fail to
// connect without -group: the first of each cause with its own error, one
// line saying the next are folded, then nothing more for that cause; the
// recap still folds every host by cause.
func TestConnectFailuresFolded(t *testing.T) {
	res := &core.Result{RunID: "r1", Status: core.RunFailed, Started: t0, Duration: time.Second,
		Cause: "200 of 200 hosts failed preflight; nothing was run"}
	p, hosts := oneTaskPlan("deploy", "h", 200)
	var b bytes.Buffer
	v := NewApplyHuman(&b, p, ApplyOptions{Now: fixedClock(0)})
	v.Event(core.RunStarted{RunID: res.RunID, Time: t0, Units: 200, Hosts: 200})
	for i, h := range hosts {
		err := fmt.Sprintf("host %s: cannot reach host 127.0.0.%d:22: connect: connection refused", h.Name, i)
		if i%4 == 3 {
			err = fmt.Sprintf("host %s: host key for 127.0.0.%d:22 is unknown: the server offered ssh-ed25519 key SHA256:%043d", h.Name, i, i)
		}
		v.Event(core.HostConnected{Host: h.Name, Transport: "ssh", Err: err, Preflight: true})
		res.Preflight = append(res.Preflight, core.HostError{Host: h.Name, Err: err})
	}
	v.Event(core.RunFinished{Result: res})
	got := b.String()
	live, recap, _ := strings.Cut(got, "Preflight failed")
	live = squashSpaces(live) // the columns' padding aside
	containsAll(t, "the live lines", live,
		"h1 │ connect │ ✗ host h1: cannot reach host 127.0.0.0:22: connect: connection refused\nh2 │",
		"h2 │ connect │ ✗ as h1; more hosts failing this way are not listed here\nh4 │",
		"h4 │ connect │ ✗ host h4: host key for 127.0.0.3:22 is unknown",
		"h8 │ connect │ ✗ as h4; more hosts failing this way are not listed here")
	if n := strings.Count(live, "│ connect │"); n != 4 {
		t.Errorf("%d live lines for 2 causes, want 4:\n%s", n, live)
	}
	containsAll(t, "the recap", recap,
		"✗ h[1-3,5-7,9-11,13-15,",
		"(150): host <host>: cannot reach host <address>: connect: connection refused",
		"(50): host <host>: host key for <address> is unknown: the server offered ssh-ed25519 key <fingerprint>")
}

// oneTaskPlan is a plan of one task on n hosts named prefix1 to prefixN.
func oneTaskPlan(task, prefix string, n int) (*core.Plan, []*core.Host) {
	var hosts []*core.Host
	for i := 1; i <= n; i++ {
		hosts = append(hosts, &core.Host{Name: fmt.Sprintf("%s%d", prefix, i)})
	}
	return &core.Plan{Hosts: hosts, Roots: []core.Node{&core.TaskNode{Name: task, Hosts: hosts, MaxHosts: 10}}}, hosts
}

// containsAll fails t for each of wants that got (what is named) lacks.
func containsAll(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in %s:\n%s", want, what, got)
		}
	}
}

// TestCauseOf checks what is taken out of an error so that hosts failing
// the same way fold, and what must stay.
func TestCauseOf(t *testing.T) {
	for _, c := range []struct{ host, err, want string }{
		{"h11", "host h11: cannot reach host 127.0.0.11:22: connect: connection refused",
			"host <host>: cannot reach host <address>: connect: connection refused"},
		{"h11", "host h11: host key for 127.0.0.11:22 is unknown: the server offered ssh-ed25519 key SHA256:wzeMH3UZDzOUNRExl6l9N2MIrqDhh5Fyc2OBuRiVB1E, which is in none of /root/.ssh/known_hosts; verify the fingerprint",
			"host <host>: host key for <address> is unknown: the server offered ssh-ed25519 key <fingerprint>, which is in none of /root/.ssh/known_hosts; verify the fingerprint"},
		{"db2", "host key for db2.example.com:22 has CHANGED: the server offered ssh-ed25519 key SHA256:2hDn5OA96hI2hKgUOBQIe0VN0pxiw9IhYbVrS+4P2kc but known_hosts has a different key at /home/op/.ssh/known_hosts:17 (SHA256:R/eNxhV19pRK8O9sypXWOEc+8LkuuzueqCYt1kLUZF4); remove the old entry (ssh-keygen -R \"db2.example.com\" -f /home/op/.ssh/known_hosts)",
			"host key for <host>.example.com:22 has CHANGED: the server offered ssh-ed25519 key <fingerprint> but known_hosts has a different key at /home/op/.ssh/known_hosts:<line> (<fingerprint>); remove the old entry (ssh-keygen -R \"<host>.example.com\" -f /home/op/.ssh/known_hosts)"},
		// A name inside a longer one, or inside the message's words, is
		// not the host's.
		{"e", "host e: permission denied (publickey)", "host <host>: permission denied (publickey)"},
		{"web1", "host web12 answered for web1", "host web12 answered for <host>"},
		{"web-1", "no route to web-10 from web-1", "no route to web-10 from <host>"},
		{"127.0.0.1", "host 127.0.0.1: cannot reach host 127.0.0.1:22", "host <host>: cannot reach host <host>:22"},
		{"", "exit 1", "exit 1"},
	} {
		if got := causeOf(c.err, c.host); got != c.want {
			t.Errorf("causeOf(%q, %q)\n got %q\nwant %q", c.err, c.host, got, c.want)
		}
	}
	// An exit status is not a host's name, even when the host is "1".
	if got := resultCause(exit(1, 0, 0, 10), "1"); got != "exit 1" {
		t.Errorf("resultCause of exit 1 on host 1: %q", got)
	}
}

// TestGroupedUnreachableFolded checks that with -group and no preflight
// (fanout exec), 40 hosts that cannot be reached, each error quoting its
// own address or key, are one block and no line per host; a host failing
// for a reason of its own keeps its own words.
func TestGroupedUnreachableFolded(t *testing.T) {
	p, hosts := oneTaskPlan("exec", "d", 42)
	var b bytes.Buffer
	v := NewApplyHuman(&b, p, ApplyOptions{Group: true, Now: fixedClock(0)})
	v.Event(core.RunStarted{RunID: "r1", Time: t0, Units: 42, Hosts: 42})
	res := &core.Result{RunID: "r1", Status: core.RunFailed, Started: t0, Duration: time.Second, Cause: `task "exec" failed on host "d1"`}
	for i, h := range hosts {
		err := fmt.Sprintf("host %s: cannot reach host 127.0.9.%d:22: connect: connection refused", h.Name, i+1)
		switch {
		case i >= 30 && i < 41:
			err = fmt.Sprintf("host %s: host key for 127.0.9.%d:22 is unknown: the server offered ssh-ed25519 key SHA256:%s, which is in none of /root/.ssh/known_hosts", h.Name, i+1, strings.Repeat(string(rune('A'+i-30)), 43))
		case i == 41:
			err = "host d42: permission denied (publickey)"
		}
		v.Event(core.HostConnected{Host: h.Name, Transport: "ssh", Err: err})
		r := core.PhaseResult{Status: core.StatusUnreachable, ExitCode: -1, Command: -1, Started: t0, Duration: time.Millisecond, Err: err}
		v.Event(started("exec", h.Name, core.PhaseRun, 0))
		v.Event(finished("exec", h.Name, core.PhaseRun, r))
		res.Units = append(res.Units, unit("exec", h.Name, r, nil))
	}
	v.Event(core.RunFinished{Result: res})
	got := b.String()
	if strings.Contains(got, "│ connect") {
		t.Errorf("a line per host that failed to connect:\n%s", got)
	}
	containsAll(t, "the blocks", got,
		"d[1-30] (30) │ exec │ ✗ unreachable: host <host>: cannot reach host <address>: connect: connection refused\n",
		"d[31-41] (11) │ exec │ ✗ unreachable: host <host>: host key for <address> is unknown: the server offered ssh-ed25519 key <fingerprint>, which is in none of /root/.ssh/known_hosts\n",
		"d42 (1) │ exec │ ✗ unreachable: host d42: permission denied (publickey)\n")
	if n := strings.Count(got, "│ exec │"); n != 3 {
		t.Errorf("%d blocks, want 3:\n%s", n, got)
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

// TestUnreachablePairsFolded: without -group or preflight (fanout exec),
// 40 hosts that cannot be reached for one cause and 11 for another have
// at most three lines a cause in the live view, connect lines and pair
// lines together, whether a host's connect line comes before its pair's or all
// connect lines come first; a host failing for its own reason keeps its
// lines; the recap folds each shared cause at once, a line each.
func TestUnreachablePairsFolded(t *testing.T) {
	for _, connectsFirst := range []bool{false, true} {
		p, hosts := oneTaskPlan("exec", "d", 52)
		var b bytes.Buffer
		v := NewApplyHuman(&b, p, ApplyOptions{Now: fixedClock(0)})
		v.Event(core.RunStarted{RunID: "r1", Time: t0, Units: 52, Hosts: 52})
		res := &core.Result{RunID: "r1", Status: core.RunFailed, Started: t0, Duration: time.Second, Cause: `task "exec" failed on host "d1"`}
		errs := map[string]string{}
		for i, h := range hosts {
			err := fmt.Sprintf("host %s: cannot reach host 127.0.9.%d:22: connect: connection refused", h.Name, i+1)
			switch {
			case i >= 40 && i < 51:
				err = fmt.Sprintf("host %s: host key for 127.0.9.%d:22 is unknown: the server offered ssh-ed25519 key SHA256:%s", h.Name, i+1, strings.Repeat(string(rune('A'+i-40)), 43))
			case i == 51:
				err = "host d52: permission denied (publickey)"
			}
			errs[h.Name] = err
			v.Event(started("exec", h.Name, core.PhaseRun, 0))
		}
		pair := func(h *core.Host) {
			r := core.PhaseResult{Status: core.StatusUnreachable, ExitCode: -1, Command: -1, Started: t0, Duration: time.Millisecond, Err: errs[h.Name]}
			v.Event(finished("exec", h.Name, core.PhaseRun, r))
			res.Units = append(res.Units, unit("exec", h.Name, r, nil))
		}
		for _, h := range hosts {
			v.Event(core.HostConnected{Host: h.Name, Transport: "ssh", Err: errs[h.Name]})
			if !connectsFirst {
				pair(h)
			}
		}
		if connectsFirst {
			for _, h := range hosts {
				pair(h)
			}
		}
		v.Event(core.RunFinished{Result: res})
		live, recap, _ := strings.Cut(b.String(), "Failures:")
		live = squashSpaces(live)
		// At most three a cause: the first host's connect and pair
		// lines, and the line that folds the rest.
		if n := strings.Count(live, "✗"); n > 9 {
			t.Errorf("connects first %v: %d failure lines for 3 causes and 52 hosts, want at most 9:\n%s", connectsFirst, n, live)
		}
		containsAll(t, "the live lines", live,
			"d1 │ connect │ ✗ host d1: cannot reach host 127.0.9.1:22",
			"d41 │ connect │ ✗ host d41: host key for 127.0.9.41:22 is unknown",
			"d52 │ connect │ ✗ host d52: permission denied (publickey)",
			"d52 │ exec │ ✗ unreachable: host d52: permission denied (publickey)",
			"more hosts failing this way are not listed here")
		// Folded at once: no host of a shared cause listed on its own.
		containsAll(t, "the recap", squashSpaces(recap), "✗ exec on d[1-40] (40): unreachable: host <host>: cannot reach host <address>",
			"✗ exec on d[41-51] (11): unreachable: host <host>: host key for <address> is unknown", "✗ exec on d52: unreachable: host d52: permission denied")
		if n := strings.Count(recap, "✗"); n != 3 {
			t.Errorf("%d failure lines in the recap, want 3:\n%s", n, recap)
		}
	}
}

// TestTimeoutsFolded: a fleet that timed out folds into one cause, the
// timeout: how long each command then took to stop differs from host to
// host, and split 100 hosts into nine groups.
func TestTimeoutsFolded(t *testing.T) {
	res := &core.Result{RunID: "r1", Status: core.RunFailed, Started: t0, Duration: 5 * time.Second, Cause: "timed out"}
	for i := range 30 {
		r := core.PhaseResult{Status: core.StatusTimedOut, ExitCode: -1, Signal: "TERM", Command: 0, Started: t0,
			Timeout: 3 * time.Second, Duration: 3*time.Second + time.Duration(i%9)*100*time.Millisecond}
		res.Units = append(res.Units, unit("exec", fmt.Sprintf("h%02d", i+1), r, nil))
	}
	var b bytes.Buffer
	Summary(&b, res, nil, Options{})
	out := b.String()
	// The first ten one by one, each with its own stop; the rest by cause.
	_, folded, _ := strings.Cut(out, "20 more, by cause:")
	folded, _, _ = strings.Cut(folded, "TASK")
	if strings.Count(folded, "✗") != 1 || !strings.Contains(folded, "exec on h[11-30] (20): timed out after 3s\n") {
		t.Errorf("the timeouts are not one cause:\n%s", out)
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/sdk/sdktest"
)

// These tests drive rollouts (batch, pause, max_failures, check, retries,
// only_if, unless) through the real binary and the local transport: hosts
// are local hosts, told apart by FANOUT_HOST. Wave boundaries are asserted
// from the records the commands write.

// localHosts declares n local hosts h1..hn.
func localHosts(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "host \"h%d\" {\n  transport = \"local\"\n}\n", i)
	}
	return b.String()
}

// hostSpan is the first and last record of a host's run side (run, check
// and conditions) in a task.
type hostSpan struct{ first, last time.Time }

func hostSpans(recs []record, task string) map[string]hostSpan {
	out := map[string]hostSpan{}
	for _, r := range recs {
		if r.task != task || r.phase == "rollback" {
			continue
		}
		s, ok := out[r.host]
		if !ok || r.at.Before(s.first) {
			s.first = r.at
		}
		if r.at.After(s.last) {
			s.last = r.at
		}
		out[r.host] = s
	}
	return out
}

// assertWaves checks that no host of a wave has a record before the last
// record of every host of the waves before it.
func assertWaves(t *testing.T, recs []record, task string, waves [][]string) {
	t.Helper()
	spans := hostSpans(recs, task)
	var prevEnd time.Time
	for i, w := range waves {
		var end time.Time
		for _, h := range w {
			s, ok := spans[h]
			if !ok {
				continue
			}
			if s.first.Before(prevEnd) {
				t.Errorf("wave %d: %s started at %s, before wave %d ended at %s", i+1, h, s.first.Format(time.StampMicro), i, prevEnd.Format(time.StampMicro))
			}
			if s.last.After(end) {
				end = s.last
			}
		}
		if end.After(prevEnd) {
			prevEnd = end
		}
	}
}

// squash collapses runs of spaces, so that assertions do not depend on
// the width of the output's columns.
func squash(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

// rollbackCounts counts rollback starts per "task/host".
func rollbackCounts(recs []record) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		if r.phase == "rollback" && r.kind == "start" {
			out[r.task+"/"+r.host]++
		}
	}
	return out
}

func TestRolloutWavesAndCheckLocal(t *testing.T) {
	hcl := localHosts(7) + `
task "deploy" {
  batch     = [1, 3]
  max_hosts = 2
  run       = ["REC start", "sleep 0.2", "REC end"]
  rollback  = "REC start"
  check {
    # h3's check passes on its third attempt.
    run      = "REC check && if [ $FANOUT_HOST = h3 ]; then n=$(cat h3.n 2>/dev/null || echo 0); echo $((n+1)) > h3.n; [ $n -ge 2 ]; fi"
    interval = "100ms"
    timeout  = "10s"
  }
}
`
	dir, rec := workdir(t, hcl)
	p := fanout(t, dir, "plan", "main.hcl")
	for _, want := range []string{"3 waves", "waves 1. h1", "2. h2, h3, h4", "3. h5, h6, h7", "every 100ms, for at most 10s", "max_hosts = 2"} {
		if !strings.Contains(squash(p.stdout), want) {
			t.Errorf("plan lacks %q:\n%s", want, p.stdout)
		}
	}
	pj := fanout(t, dir, "plan", "-json", "main.hcl")
	var doc struct {
		Roots []struct {
			Waves []struct{ Hosts []string } `json:"waves"`
		} `json:"roots"`
	}
	if err := json.Unmarshal([]byte(pj.stdout), &doc); err != nil || len(doc.Roots) != 1 || len(doc.Roots[0].Waves) != 3 ||
		!slices.Equal(doc.Roots[0].Waves[1].Hosts, []string{"h2", "h3", "h4"}) {
		t.Errorf("plan -json waves: %v\n%s", err, pj.stdout)
	}

	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	recs := rec.read(t)
	assertWaves(t, recs, "deploy", [][]string{{"h1"}, {"h2", "h3", "h4"}, {"h5", "h6", "h7"}})
	if got := overlap(intervals(recs, "run")); got > 2 {
		t.Errorf("%d hosts ran at once; max_hosts = 2", got)
	}
	out := squash(r.stdout)
	wantInOutput(t, out, r.stdout, []string{
		`Wave 2 of 3 of task "deploy": h[2-4]`,
		"h3 │ deploy │ check attempt 1: exit 1",
		"h3 │ deploy │ check passed (attempt 3)",
		"Waves:",
	})
	// A failing attempt whose output did not change is not shown again.
	if strings.Contains(r.stdout, "check attempt 2") {
		t.Errorf("the same failing attempt shown twice:\n%s", r.stdout)
	}
}

func TestRolloutBudgetDropsHostLocal(t *testing.T) {
	hcl := localHosts(6) + `
task "prepare" {
  run      = "REC start"
  rollback = "REC start"
}
task "deploy" {
  batch        = 3
  max_failures = 1
  run          = "REC start"
  rollback     = "REC start"
  check {
    run      = "echo probing $FANOUT_HOST; [ $FANOUT_HOST != h2 ]"
    interval = "100ms"
    timeout  = "300ms"
  }
}
task "after" {
  run = "REC start"
}
`
	dir, rec := workdir(t, hcl)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantInOutput(t, squash(r.stdout), r.stdout, []string{
		"partial: 1 of 6 hosts dropped, rolled back",
		"Dropping host h2 within the failure budget",
		"h2: task \"deploy\" failed: check failed",
		"rolled back deploy, prepare",
		"the check's last output:",
		"│ probing h2",
		"h2 │ after │ - skipped: host dropped",
	})
	recs := rec.read(t)
	if diff := cmp.Diff(map[string]int{"deploy/h2": 1, "prepare/h2": 1}, rollbackCounts(recs)); diff != "" {
		t.Errorf("rollbacks (-want +got):\n%s", diff)
	}
	var rb []string
	for _, x := range recs {
		if x.phase == "rollback" {
			rb = append(rb, x.task)
		}
	}
	if !slices.Equal(rb, []string{"deploy", "prepare"}) {
		t.Errorf("h2 rolled back in order %v, want newest first", rb)
	}
	for _, x := range recs {
		if x.task == "after" && x.host == "h2" {
			t.Error("task after ran on the dropped host")
		}
	}
	assertWaves(t, recs, "deploy", [][]string{{"h1", "h2", "h3"}, {"h4", "h5", "h6"}})

	// The journal knows the waves and the drop.
	id := runID(t, r.stdout)
	show := squash(fanout(t, dir, "runs", "show", id).stdout)
	for _, want := range []string{"partial: 1 of 6 hosts dropped, rolled back", "deploy 2/2 h[4-6] (3)", "h2: task \"deploy\" failed: check failed", "rolled back deploy, prepare"} {
		if !strings.Contains(show, want) {
			t.Errorf("runs show lacks %q:\n%s", want, show)
		}
	}
	// The hosts that succeeded are not there to be undone: nothing asks
	// for a rollback of them, and one needs -force, as of a run that
	// succeeded.
	if strings.Contains(show, "NOT rolled back") {
		t.Errorf("runs show of a partial run asks to roll back the hosts that succeeded:\n%s", show)
	}
	if rb := fanout(t, dir, "rollback", "-auto-approve", id); rb.code != exitUsage || !strings.Contains(rb.stderr, "-force") {
		t.Errorf("rollback of a partial run without -force: exit %d\n%s", rb.code, rb.stderr)
	}
	if n := len(rollbackCounts(rec.read(t))); n != 2 {
		t.Errorf("a refused rollback rolled back: %v", rollbackCounts(rec.read(t)))
	}

	j := fanout(t, dir, "apply", "-json", "main.hcl")
	if j.code != 1 {
		t.Fatalf("-json exit %d", j.code)
	}
	var last struct {
		Type    string `json:"type"`
		Status  string `json:"status"`
		Outcome string `json:"outcome"`
		Dropped []struct {
			Host       string   `json:"host"`
			RolledBack []string `json:"rolled_back"`
		} `json:"dropped"`
	}
	types := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(j.stdout))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		types[fmt.Sprint(ev["type"])] = true
		if ev["type"] == "run_finished" {
			_ = json.Unmarshal(sc.Bytes(), &last)
		}
	}
	if last.Outcome != "partial" || last.Status != "partial" || len(last.Dropped) != 1 || last.Dropped[0].Host != "h2" {
		t.Errorf("run_finished = %+v", last)
	}
	for _, typ := range []string{"wave_started", "wave_finished", "check_attempt", "host_dropped", "host_skipped"} {
		if !types[typ] {
			t.Errorf("no %s event in the -json stream", typ)
		}
	}
}

func TestRolloutRetriesAndConditionsLocal(t *testing.T) {
	hcl := localHosts(3) + `
task "deploy" {
  only_if     = "[ $FANOUT_HOST != h3 ]"
  unless      = "[ $FANOUT_HOST = h2 ]"
  retries     = 2
  retry_delay = "100ms"
  # Fails twice on each host it runs on, then succeeds.
  run         = "REC start; n=$(cat $FANOUT_HOST.n 2>/dev/null || echo 0); echo $((n+1)) > $FANOUT_HOST.n; echo try $n; [ $n -ge 2 ]"
  rollback    = "REC start"
}
`
	dir, rec := workdir(t, hcl)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (a condition's skip is no failure)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	wantInOutput(t, squash(r.stdout), r.stdout, []string{
		"h1 │ deploy │ ↻ attempt 1 of 3: exit 1; trying again in 100ms",
		"h1 │ deploy │ ↻ attempt 2 of 3",
		"ok (3 attempts)",
		"h3 │ deploy │ - skipped (condition): only_if command 1 failed",
		"h2 │ deploy │ - skipped (condition): every unless command succeeded",
		"skipped (condition)",
	})
	var ran []string
	for _, x := range rec.read(t) {
		ran = append(ran, x.host)
	}
	if !slices.Equal(ran, []string{"h1", "h1", "h1"}) {
		t.Errorf("run records on %v; want three attempts on h1 only (h2: unless, h3: only_if)", ran)
	}
}

// TestCheckPerHost: a check's run may refer to target, as DESIGN.md says
// (a per-host health URL or port): plan shows each host's check, and
// apply runs each host's own, which fails the host whose check fails.
func TestCheckPerHost(t *testing.T) {
	t.Parallel()
	dir, _ := workdir(t, `
host "h1" {
  transport = "local"
  vars      = { port = 8081 }
}
host "h2" {
  transport = "local"
  vars      = { port = 8082 }
}
task "deploy" {
  run = "true"
  check {
    run      = "echo checking ${target.name} on ${target.vars.port}; [ ${target.vars.port} = 8081 ]"
    interval = "100ms"
    timeout  = "300ms"
  }
}
`)
	p := fanout(t, dir, "plan", "main.hcl")
	for _, want := range []string{"checking h1 on 8081", "checking h2 on 8082", "per host, above"} {
		if p.code != exitOK || !strings.Contains(p.stdout, want) {
			t.Errorf("plan: exit %d, lacks %q\n%s%s", p.code, want, p.stdout, p.stderr)
		}
	}
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != exitFailed || !strings.Contains(lineWith(r.stdout, "✗ deploy on h2"), "check failed") || strings.Contains(r.stdout, "deploy on h1: check failed") {
		t.Errorf("apply: exit %d, want h2 alone to fail its check\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "checking h2 on 8082") {
		t.Errorf("h2's check did not say its own port:\n%s", r.stdout)
	}
}

// TestConditionThatCannotRunFails: an only_if or unless command the
// shell cannot run (127: a typo; 126: not executable) fails the task on
// that host, nothing of it run, rather than count as "false": a typo in
// an unless guard must not run the task everywhere, nor one in only_if
// turn a deploy into a silent success. A condition that runs and exits
// non-zero still skips.
func TestConditionThatCannotRunFails(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, cond, want string
		code             int
	}{
		{"unless with a typo", `unless = "nosuchcommand_xyz"`, "unless command 1: exit 127, not found: a condition that cannot run fails the task", exitFailed},
		{"only_if not executable", `only_if = "/dev/null"`, "only_if command 1: exit 126, not executable: a condition that cannot run fails the task", exitFailed},
		{"only_if false", `only_if = "false"`, "skipped (condition): only_if command 1 failed", exitOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, rec := workdir(t, localHosts(2)+`
task "deploy" {
  `+tt.cond+`
  run      = "REC start"
  rollback = "REC start"
}
`)
			r := fanout(t, dir, "apply", "main.hcl")
			if r.code != tt.code || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("exit %d, want %d and %q\n%s\n%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
			if got := rec.read(t); len(got) != 0 {
				t.Errorf("the task ran or rolled back: %v", got)
			}
		})
	}
}

func TestRolloutValidation(t *testing.T) {
	for _, tc := range []struct{ name, attr, line string }{
		{"batch zero", `batch = 0`, "3"},
		{"batch 0%", `batch = "0%"`, "3"},
		{"batch 150%", `batch = [1, "150%"]`, "3"},
		{"budget", `max_failures = -1`, "3"},
		{"check interval", "check {\n run = \"true\"\n interval = \"2m\"\n timeout = \"1m\"\n}", "5"},
		{"check no run", "check {\n interval = \"1s\"\n}", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, rec := workdir(t, "task \"a\" {\n  run = \"REC start\"\n  "+tc.attr+"\n}\n")
			r := fanout(t, dir, "apply", "main.hcl")
			if r.code != 2 || !strings.Contains(r.stderr, "main.hcl line "+tc.line) {
				t.Errorf("exit %d, want 2 with a diagnostic at line %s:\n%s", r.code, tc.line, r.stderr)
			}
			if len(rec.read(t)) > 0 {
				t.Error("something ran")
			}
		})
	}
}

// TestRolloutKilledInSecondWaveThenRollback kills fanout (SIGKILL) while
// the second wave runs, after the first dropped a host within its budget:
// `fanout rollback` then rolls back every host that started once, the
// dropped host's finished rollbacks included only once.
func TestRolloutKilledInSecondWaveThenRollback(t *testing.T) {
	hcl := localHosts(6) + `
task "prepare" {
  run      = "REC start"
  rollback = "REC start"
}
task "deploy" {
  batch        = 3
  max_failures = 1
  run          = "REC start; if [ $FANOUT_HOST = h2 ]; then exit 4; fi; case $FANOUT_HOST in h4|h5|h6) sleep 30;; esac"
  rollback     = "REC start"
}
`
	dir, rec := workdir(t, hcl)
	cmd, out, exited := startBackground(t, dir, startedOn(t, rec, "deploy", "h4", "h5", "h6"), "apply", "main.hcl")
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	id := runID(t, out.String())
	if got := rollbackCounts(rec.read(t)); !cmp.Equal(got, map[string]int{"deploy/h2": 1, "prepare/h2": 1}) {
		t.Fatalf("before the kill, rollbacks %v; want h2's drop only\n%s", got, out)
	}

	r := fanout(t, dir, "rollback", "-auto-approve", id)
	if r.code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	want := map[string]int{}
	for _, task := range []string{"prepare", "deploy"} {
		for i := 1; i <= 6; i++ {
			want[fmt.Sprintf("%s/h%d", task, i)] = 1
		}
	}
	if diff := cmp.Diff(want, rollbackCounts(rec.read(t))); diff != "" {
		t.Errorf("rollbacks after fanout rollback (-want +got):\n%s\n%s", diff, r.stdout)
	}
}

// TestRollingExample applies examples/rolling.hcl as the README shows it:
// as it stands it succeeds; with a host that never gets healthy, that host
// is rolled back and dropped and the run is partial.
func TestRollingExample(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir() // not the example's shared default: other tests run it too
	r := fanout(t, root, "apply", "-var", "state="+state, "examples/rolling.hcl")
	if r.code != 0 || !strings.Contains(r.stdout, `Wave 5 of 5 of task "restart"`) {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = fanout(t, root, "apply", "-var", "state="+state, "-var", "bad_host=web05", "examples/rolling.hcl")
	if r.code != 1 || !strings.Contains(r.stdout, "partial: 1 of 8 hosts dropped, rolled back") ||
		!strings.Contains(r.stdout, "web05: task \"restart\" failed: check failed") {
		t.Errorf("with a bad host: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestRolloutCtrlCDuringPause: Ctrl-C while fanout pauses between waves
// stops at once and rolls back what ran; the next wave never starts.
func TestRolloutCtrlCDuringPause(t *testing.T) {
	hcl := localHosts(2) + `
task "deploy" {
  batch    = 1
  pause    = "1h"
  run      = "REC start"
  rollback = "REC start"
}
`
	dir, rec := workdir(t, hcl)
	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	b := startBG(t, cmd)
	sdktest.Eventually(t, e2eWait, "the pause", func() bool { return strings.Contains(b.out.String(), "Pausing 1h before wave 2") })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t, 20*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, b.out)
	}
	var got []string
	for _, x := range rec.read(t) {
		got = append(got, x.phase+" "+x.host)
	}
	if !slices.Equal(got, []string{"run h1", "rollback h1"}) {
		t.Errorf("records %v, want h1's run and its rollback only\n%s", got, b.out)
	}
}

// TestPlanFoldsHostLists: at fleet size, plan folds the hosts of each set
// of per-host values and the hosts -limit leaves out into host sets, as
// the hosts line beside them does (they were 25 and 30 names).
func TestPlanFoldsHostLists(t *testing.T) {
	t.Parallel()
	dir, _ := workdir(t, `
host "w" {
  for_each  = { for i in range(1, 51) : format("w%02d", i) => i % 2 }
  transport = "local"
  vars      = { side = each.value }
}
task "t" {
  run = "echo side ${target.vars.side}"
}
`)
	r := fanout(t, dir, "plan", "-limit", "w[01-20]", "main.hcl")
	if !strings.Contains(r.stdout, "left out: w[21-50] (30)") {
		t.Errorf("plan -limit: the hosts left out are not folded:\n%s%s", r.stdout, r.stderr)
	}
	r = fanout(t, dir, "plan", "main.hcl")
	for _, want := range []string{"on        w[01,03,05,07,09,11,13,15,17,19,21,23,25,27,29,31,33,35,37,39,41,43,45,47,49] (25)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
}

// TestDroppedHostKilledMidRollback: fanout killed while it rolls back a
// dropped host: runs show says that host's rollback did not finish (and
// what never started), not that it had nothing to roll back, and fanout
// rollback finishes it.
func TestDroppedHostKilledMidRollback(t *testing.T) {
	dir, rec := workdir(t, localHosts(3)+`
task "prepare" {
  run      = "REC start"
  rollback = "REC start"
}
task "deploy" {
  batch        = 3
  max_failures = 1
  run          = "REC start"
  rollback     = "REC start && for i in $(seq 1 600); do [ -e rb-ok ] && break; sleep 0.05; done"
  check {
    run      = "[ $FANOUT_HOST != h2 ]"
    interval = "100ms"
    timeout  = "300ms"
  }
}
`)
	rollingBack := func() bool { return slices.Contains(order(rec.read(t), "rollback", "start"), "deploy") }
	cmd, out, exited := startBackground(t, dir, rollingBack, "apply", "main.hcl")
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	id := runID(t, out.String())
	show := fanout(t, dir, "runs", "show", id).stdout
	line := lineWith(show, "- h2:")
	for _, want := range []string{"its rollback did not finish: deploy", "NOT rolled back: prepare"} {
		if !strings.Contains(line, want) {
			t.Errorf("runs show's h2 line lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, "rolled back whole") || strings.Contains(show, "nothing to roll back") {
		t.Errorf("runs show calls h2 rolled back:\n%s", show)
	}
	// Its rollback's length is not known: no made-up 0s.
	if !strings.Contains(show, "no record of its end") || strings.Contains(show, "no record of its end, 0s") {
		t.Errorf("runs show gives the cut rollback a duration:\n%s", show)
	}
	if err := os.WriteFile(filepath.Join(dir, "rb-ok"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := fanout(t, dir, "rollback", "-auto-approve", id)
	if r.code != exitOK {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var h2 []string
	for _, x := range rec.read(t) {
		if x.phase == "rollback" && x.kind == "start" && x.host == "h2" {
			h2 = append(h2, x.task)
		}
	}
	if !slices.Equal(h2, []string{"deploy", "deploy", "prepare"}) {
		t.Errorf("h2's rollbacks: %v, want deploy (killed), then deploy and prepare by fanout rollback", h2)
	}
}

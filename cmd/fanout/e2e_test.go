package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/sdk/sdktest"
)

// These tests build the real fanout binary and run plan and apply through
// the real out-of-process local transport plugin. Concurrency is asserted
// from start/end records the commands themselves write, never from a
// single wall-clock measurement.

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

var fanoutBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "fanout-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fanoutBin = filepath.Join(dir, "fanout")
	build := exec.Command("go", "build", "-o", fanoutBin, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building fanout:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "removing the test binary:", err)
	}
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// fanout runs the binary in dir and returns what it printed and its exit code.
func fanout(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runFanout(t, dir, append(os.Environ(), "NO_COLOR=1"), args...)
}

// runFanout runs the binary in dir with exactly env.
func runFanout(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(fanoutBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running fanout: %v", err)
	}
	return result{out.String(), errb.String(), code}
}

// runEvent is the part of an `apply -json` event the e2e tests read.
type runEvent struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"@timestamp"`
	Task      string    `json:"task"`
	Host      string    `json:"host"`
	Phase     string    `json:"phase"`
	Preflight bool      `json:"preflight"`
	Error     string    `json:"error"`
	Status    string    `json:"status"`
	Line      string    `json:"line"`
	Result    struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
	} `json:"result"`
}

// runEvents decodes the JSON lines of stdout, failing t on one that is not
// JSON.
func runEvents(t *testing.T, stdout string) []runEvent {
	t.Helper()
	var events []runEvent
	for line := range strings.Lines(stdout) {
		var e runEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		events = append(events, e)
	}
	return events
}

// wantInOutput fails t for each of wants that out lacks. shown is the
// output as the error shows it: out itself, or the text out was made from
// (unsquashed, say) when out is only a form easier to search.
func wantInOutput(t *testing.T, out, shown string, wants []string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, shown)
		}
	}
}

// bg is a fanout running in the background.
type bg struct {
	cmd    *exec.Cmd
	out    *sdktest.Output
	exited chan struct{}
}

// startBG starts cmd with its output (stdout too, unless cmd has one) in
// b.out, and kills it at the end of the test: its whole process group when
// cmd starts one (Setpgid), else itself.
func startBG(t *testing.T, cmd *exec.Cmd) *bg {
	t.Helper()
	b := &bg{cmd: cmd, out: &sdktest.Output{}, exited: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = b.out
	}
	cmd.Stderr = b.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		if cmd.SysProcAttr != nil && cmd.SysProcAttr.Setpgid {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		} else {
			_ = cmd.Process.Kill() // a no-op once it has exited
		}
		<-b.exited
	})
	return b
}

// wait waits for fanout to exit, failing the test if it takes longer
// than limit: nothing may hang.
func (b *bg) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-b.exited:
	case <-time.After(limit):
		t.Fatalf("fanout did not end within %s:\n%s", limit, b.out)
	}
	return b.cmd.ProcessState.ExitCode()
}

// e2eWait bounds a test's wait (sdktest.Eventually) for something fanout
// or its commands do: a loaded CI machine's margin.
const e2eWait = 20 * time.Second

// workdir writes main.hcl (with REC replaced by the recorder's path) and a
// recorder script into a fresh directory.
func workdir(t *testing.T, hcl string) (dir string, rec *recording) {
	t.Helper()
	dir = t.TempDir()
	rec = &recording{log: filepath.Join(dir, "events.log")}
	script := filepath.Join(dir, "rec.sh")
	body := fmt.Sprintf("#!/bin/sh\necho \"$1 $FANOUT_PHASE $FANOUT_TASK $FANOUT_HOST $(date +%%s%%N)\" >> %s\n", rec.log)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	hcl = strings.ReplaceAll(hcl, "REC", script)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, rec
}

type recording struct{ log string }

type record struct {
	kind, phase, task, host string
	at                      time.Time
}

func (r *recording) read(t *testing.T) []record {
	t.Helper()
	f, err := os.Open(r.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	var out []record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("bad record %q", sc.Text())
		}
		ns, _ := strconv.ParseInt(fs[4], 10, 64)
		out = append(out, record{fs[0], fs[1], fs[2], fs[3], time.Unix(0, ns)})
	}
	return out
}

type interval struct {
	key        string
	start, end time.Time
}

func intervals(recs []record, phase string) []interval {
	open := map[string]time.Time{}
	var out []interval
	for _, r := range recs {
		if r.phase != phase {
			continue
		}
		k := r.task + "/" + r.host
		switch r.kind {
		case "start":
			open[k] = r.at
		case "end":
			out = append(out, interval{k, open[k], r.at})
		}
	}
	return out
}

func overlap(iv []interval) int {
	best := 0
	for _, a := range iv {
		n := 0
		for _, b := range iv {
			if !b.start.After(a.start) && b.end.After(a.start) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func span(iv []interval) time.Duration {
	var first, last time.Time
	for _, i := range iv {
		if first.IsZero() || i.start.Before(first) {
			first = i.start
		}
		if i.end.After(last) {
			last = i.end
		}
	}
	return last.Sub(first)
}

func order(recs []record, phase, kind string) []string {
	var out []string
	for _, r := range recs {
		if r.phase == phase && r.kind == kind && !slices.Contains(out, r.task) {
			out = append(out, r.task)
		}
	}
	return out
}

// sleepTask is a task that records its start and end around a sleep.
func sleepTask(name, secs, extra string) string {
	return fmt.Sprintf(`
task %q {
  run      = "REC start && sleep %s && REC end"
  rollback = "REC start && REC end"
  %s
}
`, name, secs, extra)
}

func TestPlanGolden(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"restart", "rollback", "ssh", "rolling", "fleet"} {
		t.Run(name, func(t *testing.T) {
			r := fanout(t, root, "plan", "examples/"+name+".hcl")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			checkPlanGolden(t, name, r.stdout)
		})
	}
}

// checkPlanGolden compares plan's output with testdata/plan/name.golden,
// which -update rewrites first.
func checkPlanGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", "plan", name+".golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("plan output differs from %s (-want +got):\n%s", golden, diff)
	}
}

// TestPlanSudoTransfers: plan says that a task with sudo moves its files
// through sudo, and as whom.
func TestPlanSudoTransfers(t *testing.T) {
	r := fanout(t, filepath.Join("testdata", "sudo-files"), "plan", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkPlanGolden(t, "sudo-files", r.stdout)
}

func TestPlanRunsNothing(t *testing.T) {
	dir, rec := workdir(t, sleepTask("a", "0", ""))
	r := fanout(t, dir, "plan", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := rec.read(t); len(got) != 0 {
		t.Errorf("plan ran commands: %v", got)
	}
	if !strings.Contains(r.stdout, "REC") && !strings.Contains(r.stdout, "rec.sh start && sleep 0") {
		t.Errorf("plan does not show the exact command:\n%s", r.stdout)
	}
}

func TestApplyRestartExample(t *testing.T) {
	root, _ := filepath.Abs("../..")
	r := fanout(t, root, "apply", "examples/restart.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	wantInOutput(t, r.stdout, r.stdout, []string{
		"localhost │ app_restart   ",
		"│ restarting app into release 2026-11-25",
		"│ release 2026-11-25 is live on localhost",
		"succeeded in",
	})
}

func TestApplyRollbackExample(t *testing.T) {
	root, _ := filepath.Abs("../..")
	r := fanout(t, root, "apply", "examples/rollback.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	wantInOutput(t, r.stdout, r.stdout, []string{
		`task "queue_restart" failed on host "localhost": exit 3`,
		// The failed task first, then newest first: app (in flight, ended
		// last), the daemons group whole, then the migration before it.
		"Rolled back, in order: queue_restart, app_restart, mailer_restart, migrate.",
		"queue_restart              ! queue: workers did not come back", // stderr is marked
	})
	if strings.Contains(r.stdout, "release is live") {
		t.Error("the task after the failed group ran")
	}
}

func TestThreadsWindow(t *testing.T) {
	t.Run("four one-second tasks, two threads, take about two seconds", func(t *testing.T) {
		hcl := sleepTask("a", "1", "") + sleepTask("b", "1", "") + sleepTask("c", "1", "") + sleepTask("d", "1", "") + `
parallelize {
  threads = 2
  tasks   = [task.a, task.b, task.c, task.d]
}`
		dir, rec := workdir(t, hcl)
		r := fanout(t, dir, "apply", "main.hcl")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		iv := intervals(rec.read(t), "run")
		if len(iv) != 4 {
			t.Fatalf("%d tasks ran, want 4", len(iv))
		}
		if got := overlap(iv); got != 2 {
			t.Errorf("at most %d ran at once, want 2", got)
		}
		if s := span(iv); s < 1800*time.Millisecond || s > 3500*time.Millisecond {
			t.Errorf("the four tasks spanned %v, want about 2s (not 1s, not 4s)", s)
		}
	})
	t.Run("a long task does not hold back short ones", func(t *testing.T) {
		hcl := sleepTask("long", "3", "") + sleepTask("s1", "0.3", "") + sleepTask("s2", "0.3", "") + sleepTask("s3", "0.3", "") + `
parallelize {
  threads = 2
  tasks   = [task.long, task.s1, task.s2, task.s3]
}`
		dir, rec := workdir(t, hcl)
		if r := fanout(t, dir, "apply", "main.hcl"); r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		iv := intervals(rec.read(t), "run")
		var longEnd time.Time
		for _, i := range iv {
			if i.key == "long/localhost" {
				longEnd = i.end
			}
		}
		for _, i := range iv {
			if i.key != "long/localhost" && !i.end.Before(longEnd) {
				t.Errorf("%s ended after the long task: the window waited like a batch", i.key)
			}
		}
	})
}

func TestNestedGroups(t *testing.T) {
	hcl := sleepTask("a1", "0.5", "") + sleepTask("a2", "0.5", "") + sleepTask("a3", "0.5", "") +
		sleepTask("b1", "0.5", "") + sleepTask("b2", "0.5", "") + sleepTask("b3", "0.5", "") + `
parallelize "a" {
  threads = 2
  tasks   = [task.a1, task.a2, task.a3]
}
parallelize "b" {
  threads = 2
  tasks   = [task.b1, task.b2, task.b3]
}
parallelize "outer" {
  threads = 2
  tasks   = [parallelize.a, parallelize.b]
}`
	dir, rec := workdir(t, hcl)
	if r := fanout(t, dir, "apply", "main.hcl"); r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := overlap(intervals(rec.read(t), "run")); got != 4 {
		t.Errorf("at most %d ran at once, want 4 (2 groups x 2 threads)", got)
	}
}

func TestRollbackOrderNested(t *testing.T) {
	// first finishes; in the outer group y (0.2s) and p (0.5s) finish, f
	// fails at 1s while z (inner, after y) is still running until ~2.2s.
	// Order: f first, then the inner group whole (z, y), then p, then first.
	hcl := sleepTask("first", "0", "") +
		sleepTask("y", "0.2", "") + sleepTask("z", "2", "") + sleepTask("p", "0.5", "") + `
task "f" {
  run      = "REC start && sleep 1 && REC end && exit 4"
  rollback = "REC start && REC end"
}
task "norollback" {
  run = "REC start && REC end"
}
task "never" {
  run = "REC start && REC end"
}
parallelize "inner" {
  threads = 1
  tasks   = [task.y, task.z]
}
parallelize "outer" {
  threads = 4
  tasks   = [task.norollback, parallelize.inner, task.p, task.f]
}
`
	// "never" is declared before "outer", so name the roots to run it after.
	dir, rec := workdir(t, hcl)
	r := fanout(t, dir, "apply", "main.hcl", "first", "outer", "never")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	recs := rec.read(t)
	if slices.Contains(order(recs, "run", "start"), "never") {
		t.Error("a task after the failed group ran")
	}
	want := []string{"f", "z", "y", "p", "first"}
	if diff := cmp.Diff(want, order(recs, "rollback", "start")); diff != "" {
		t.Errorf("rollback order (-want +got):\n%s", diff)
	}
	// In-flight work finished before any rollback began.
	var lastRun, firstRB time.Time
	for _, rc := range recs {
		if rc.phase == "run" && rc.at.After(lastRun) {
			lastRun = rc.at
		}
		if rc.phase == "rollback" && firstRB.IsZero() {
			firstRB = rc.at
		}
	}
	if firstRB.Before(lastRun) {
		t.Error("a rollback began while run work was still in flight")
	}
	if !strings.Contains(r.stdout, `task "f" failed on host "localhost": exit 4`) {
		t.Errorf("summary does not name the cause:\n%s", r.stdout)
	}
}

func TestMaxHostsAndEnv(t *testing.T) {
	hcl := `
host "h1" { transport = "local" }
host "h2" { transport = "local" }
host "h3" { transport = "local" }
host "h4" { transport = "local" }
task "rolling" {
  run       = ["REC start", "sleep 0.5", "echo \"$FANOUT_HOST $FANOUT_TASK $FANOUT_PHASE $FANOUT_RUN_ID $GREETING\"", "REC end"]
  max_hosts = 2
  env       = { GREETING = "hello" }
}
`
	dir, rec := workdir(t, hcl)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	iv := intervals(rec.read(t), "run")
	if len(iv) != 4 {
		t.Fatalf("ran on %d hosts, want 4", len(iv))
	}
	if got := overlap(iv); got != 2 {
		t.Errorf("at most %d hosts ran at once, want 2 (max_hosts)", got)
	}
	re := regexp.MustCompile(`h3 +│ rolling +│ h3 rolling run (\S+) hello`)
	m := re.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("FANOUT_* variables missing from output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "run "+m[1]) {
		t.Errorf("run id %q is not the run's id:\n%s", m[1], r.stdout)
	}
}

func TestTimeoutKillsCommand(t *testing.T) {
	dir, _ := workdir(t, "")
	pidfile := filepath.Join(dir, "pid")
	hcl := fmt.Sprintf(`
task "slow" {
  run      = "sleep 30 & echo $! > %s; wait"
  rollback = "echo rolled back"
  timeout  = "1s"
}
`, pidfile)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "timed out after") || !strings.Contains(r.stdout, "rolled back") {
		t.Errorf("summary does not show the timeout and rollback:\n%s", r.stdout)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// The child of the timed-out command must be gone too.
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		_ = syscall.Kill(pid, syscall.SIGKILL) // cleanup: the error is the test's
		t.Errorf("sleep %d outlived its task's timeout", pid)
	}
}

func TestOnFailureModes(t *testing.T) {
	tests := []struct {
		mode         string
		wantRan      []string
		wantRollback []string
	}{
		{"rollback", []string{"a", "b"}, []string{"b", "a"}},
		{"stop", []string{"a", "b"}, nil},
		{"continue", []string{"a", "b", "c"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			hcl := fmt.Sprintf(`
fanout { on_failure = %q }
task "a" {
  run      = "REC start; REC end"
  rollback = "REC start; REC end"
}
task "b" {
  run      = "REC start; REC end; exit 2"
  rollback = "REC start; REC end"
}
task "c" {
  run      = "REC start; REC end"
  rollback = "REC start; REC end"
}
`, tt.mode)
			dir, rec := workdir(t, hcl)
			r := fanout(t, dir, "apply", "main.hcl")
			if r.code != 1 {
				t.Errorf("exit %d, want 1: a failure is never swallowed", r.code)
			}
			recs := rec.read(t)
			if diff := cmp.Diff(tt.wantRan, order(recs, "run", "start")); diff != "" {
				t.Errorf("ran (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRollback, order(recs, "rollback", "start")); diff != "" {
				t.Errorf("rolled back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadConfigurationRunsNothing(t *testing.T) {
	hcl := `
task "ok" {
  run = "REC start; REC end"
}
parallelize {
  threads = 0
  tasks   = [task.ok, task.missing]
}
`
	dir, rec := workdir(t, hcl)
	for _, cmd := range []string{"apply", "plan", "validate"} {
		t.Run(cmd, func(t *testing.T) {
			r := fanout(t, dir, cmd, "main.hcl")
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if got := rec.read(t); len(got) != 0 {
				t.Errorf("commands ran despite the error: %v", got)
			}
			for _, want := range []string{"main.hcl line 7", "main.hcl line 6", "task.missing"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stderr shows a Go panic:\n%s", r.stderr)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "Usage: fanout COMMAND"},
		{[]string{"deploy"}, `unknown command "deploy"`},
		{[]string{"apply"}, "apply needs a configuration"},
		{[]string{"apply", "-bogus", "x.hcl"}, "flag provided but not defined: -bogus"},
		{[]string{"plan", "nope.hcl"}, "cannot read configuration nope.hcl"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := fanout(t, dir, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
	if r := fanout(t, dir, "apply", "-help"); r.code != 0 || !strings.Contains(r.stdout, "Usage: fanout apply") {
		t.Errorf("apply -help: exit %d\n%s", r.code, r.stdout)
	}
}

// TestRunExitCodes: the exit code says how a run ended, as the README's
// table does: a failure rolled back cleanly is 1, and one whose rollback
// failed is 4, the code a pipeline pages on, whichever task failed.
func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, hcl string
		want      int
	}{
		{"all ok", `task "a" {
  run      = "true"
  rollback = "true"
}`, exitOK},
		{"failed, rolled back", `task "a" {
  run      = "true"
  rollback = "true"
}
task "b" {
  run      = "exit 3"
  rollback = "true"
}`, exitFailed},
		{"failed, a rollback failed", `task "a" {
  run      = "true"
  rollback = "exit 5"
}
task "b" {
  run      = "exit 3"
  rollback = "true"
}`, exitNotRolledBack},
		{"failed, its own rollback failed", `task "a" {
  run      = "exit 3"
  rollback = "exit 5"
}`, exitNotRolledBack},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, _ := workdir(t, tt.hcl)
			if r := fanout(t, dir, "apply", "main.hcl"); r.code != tt.want {
				t.Errorf("exit %d, want %d\n%s\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

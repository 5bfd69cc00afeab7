package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/sdk/sdktest"
)

// These tests drive the run journal, `fanout runs`, `fanout rollback` and
// the run lock through the real binary and the local transport.

var runIDRE = regexp.MustCompile(`run (\d{8}T\d{6}-[0-9a-f]{6})`)

// runID is the run ID an apply printed.
func runID(t *testing.T, out string) string {
	t.Helper()
	m := runIDRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run ID in:\n%s", out)
	}
	return m[1]
}

// journalOf returns the only journal in dir.
func journalOf(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, ".fanout", "runs", "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("journals: %v, want one", files)
	}
	return files[0]
}

// startBackground starts fanout in dir and returns once wait says so.
func startBackground(t *testing.T, dir string, ready func() bool, args ...string) (*exec.Cmd, *sdktest.Output, <-chan struct{}) {
	t.Helper()
	return startBackgroundEnv(t, dir, ready, nil, args...)
}

// startBackgroundEnv is startBackground with env added to fanout's
// environment.
func startBackgroundEnv(t *testing.T, dir string, ready func() bool, env []string, args ...string) (*exec.Cmd, *sdktest.Output, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(fanoutBin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), env...)
	// Its own process group, so a test can kill what it started whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b := startBG(t, cmd)
	out, exited := b.out, b.exited
	deadline := time.Now().Add(20 * time.Second)
	for !ready() {
		if time.Now().After(deadline) {
			t.Fatalf("fanout did not get ready:\n%s", out)
		}
		select {
		case <-exited:
			t.Fatalf("fanout exited early:\n%s", out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return cmd, out, exited
}

// killedWhile starts `fanout apply main.hcl` in dir, with env added, and
// kills it (SIGKILL, its process group) once task started: a run fanout
// did not live to end. It returns the run's ID.
func killedWhile(t *testing.T, dir string, rec *recording, task string, env ...string) string {
	t.Helper()
	cmd, out, exited := startBackgroundEnv(t, dir, started(rec, t, task), env, "apply", "main.hcl")
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	return runID(t, out.String())
}

func started(rec *recording, t *testing.T, task string) func() bool {
	return func() bool { return slices.Contains(order(rec.read(t), "run", "start"), task) }
}

// TestRunsOfALiveRun: while a run goes on, `fanout runs` lists it as
// running and `runs show` says so, naming its process, rather than call
// its journal, which has no end yet, an interrupted run; killed, it is
// unfinished, and the recap names what was not rolled back.
func TestRunsOfALiveRun(t *testing.T) {
	t.Parallel()
	dir, rec := workdir(t, sleepTask("slow", "30", ""))
	cmd, out, exited := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
	id := runID(t, out.String())
	l := fanout(t, dir, "runs")
	if !strings.Contains(lineWith(l.stdout, id), "running") {
		t.Errorf("runs, while it runs:\n%s%s", l.stdout, l.stderr)
	}
	s := fanout(t, dir, "runs", "show", id)
	if want := fmt.Sprintf("Run %s is running now: pid %d", id, cmd.Process.Pid); s.code != exitOK || !strings.Contains(s.stdout, want) || strings.Contains(s.stdout, "interrupted") {
		t.Errorf("runs show, while it runs: exit %d, want %q\n%s%s", s.code, want, s.stdout, s.stderr)
	}
	// Its rollback is its own: refused at once, with no plan to approve.
	rb := fanout(t, dir, "rollback", "-dry-run", id)
	if rb.code != exitFailed || !strings.Contains(rb.stderr, "run "+id+" is running now; nothing was rolled back") || strings.Contains(rb.stdout, "Rollback plan") {
		t.Errorf("rollback while it runs: exit %d\n%s%s", rb.code, rb.stdout, rb.stderr)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	l = fanout(t, dir, "runs")
	if !strings.Contains(lineWith(l.stdout, id), "unfinished") {
		t.Errorf("runs, once killed:\n%s%s", l.stdout, l.stderr)
	}
	s = fanout(t, dir, "runs", "show", id)
	for _, want := range []string{
		"NOT rolled back (the run ended before their rollback): slow on localhost",
		// How long it ran is not known: not "interrupted after" its last record.
		"Run " + id + " did not finish (its journal's last record came ",
	} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("runs show, once killed, lacks %q:\n%s%s", want, s.stdout, s.stderr)
		}
	}
}

func TestJournalRunsAndShow(t *testing.T) {
	hcl := `
variable "token" {
  type      = string
  sensitive = true
  default   = "tok-9f8e7d6c5b"
}
task "a" {
  run      = "REC start && echo using ${var.token}"
  rollback = "REC start && echo undo ${var.token}"
}
task "b" {
  run      = "REC start && echo b-is-broken >&2 && exit 3"
  rollback = "REC start"
}
`
	dir, _ := workdir(t, hcl)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	id := runID(t, r.stdout)
	path := journalOf(t, dir)
	if filepath.Base(path) != id+".jsonl" {
		t.Errorf("journal %s for run %s", path, id)
	}
	for p, want := range map[string]os.FileMode{
		path:                                  0o600,
		filepath.Dir(path):                    0o700,
		filepath.Join(dir, ".fanout", "lock"): 0o600,
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("tok-9f8e7d6c5b")) {
		t.Errorf("the journal holds the sensitive value:\n%s", b)
	}
	if strings.Contains(r.stdout+r.stderr, "tok-9f8e7d6c5b") {
		t.Errorf("the output shows the sensitive value")
	}
	// JSON output keeps the secret out too.
	rj := fanout(t, dir, "apply", "-json", "main.hcl")
	if strings.Contains(rj.stdout+rj.stderr, "tok-9f8e7d6c5b") {
		t.Errorf("the JSON stream shows the sensitive value")
	}

	l := fanout(t, dir, "runs")
	if l.code != 0 || !strings.Contains(l.stdout, id) || !strings.Contains(l.stdout, "failed") || !strings.Contains(l.stdout, ".fanout/runs/"+id+".jsonl") {
		t.Errorf("runs:\n%s\n%s", l.stdout, l.stderr)
	}
	s := fanout(t, dir, "runs", "show", id)
	// The failure's stderr too, as the recap showed it (from the
	// journal's tail: runs show has no live output).
	for _, want := range []string{"Run " + id, "status:        failed", "Rolled back, in order: b, a.", `task "b" failed on host "localhost": exit 3`, "│ b-is-broken"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("runs show lacks %q:\n%s\n%s", want, s.stdout, s.stderr)
		}
	}
	if n := fanout(t, dir, "runs", "show", "20000101T000000-000000"); n.code != exitUsage || !strings.Contains(n.stderr, "no run") {
		t.Errorf("runs show of an unknown run: exit %d %s", n.code, n.stderr)
	}
	if n := fanout(t, dir, "runs", "show", "../../etc/passwd"); n.code != exitUsage || !strings.Contains(n.stderr, "is not a run ID") {
		t.Errorf("runs show of a path: exit %d %s", n.code, n.stderr)
	}
}

func TestKilledApplyThenRollback(t *testing.T) {
	hcl := sleepTask("done", "0", "") + `
parallelize {
  threads = 2
  tasks   = [task.quick, task.slow]
}
` + sleepTask("quick", "0", "") + sleepTask("slow", "30", "") + sleepTask("after", "0", "")
	dir, rec := workdir(t, hcl)
	cmd, out, exited := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
	// Wait until the journal has quick completed, so the order below is
	// fixed: its command ending is not enough, the record may lag it.
	waitCompleted(t, dir, "quick")
	// SIGKILL: fanout records nothing more, releases nothing.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	id := runID(t, out.String())

	l := fanout(t, dir, "runs")
	if !strings.Contains(l.stdout, "unfinished") {
		t.Errorf("runs does not show the killed run as unfinished:\n%s", l.stdout)
	}
	plan := fanout(t, dir, "rollback", "-dry-run", id)
	if plan.code != 0 || !strings.Contains(plan.stdout, "1. task slow on localhost") || len(order(rec.read(t), "rollback", "start")) != 0 {
		t.Fatalf("dry run: exit %d\n%s\n%s", plan.code, plan.stdout, plan.stderr)
	}
	r := fanout(t, dir, "rollback", "-auto-approve", id)
	if r.code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "took over a stale lock") {
		t.Errorf("the killed apply's lock was not reported stale:\n%s", r.stderr)
	}
	// The task in flight first, then the group's other member, then the
	// root before it; "after" never started.
	if diff := cmp.Diff([]string{"slow", "quick", "done"}, order(rec.read(t), "rollback", "start")); diff != "" {
		t.Errorf("rolled back (-want +got):\n%s\n%s", diff, r.stdout)
	}
	if slices.Contains(order(rec.read(t), "run", "start"), "after") {
		t.Error("work after the kill ran")
	}
	again := fanout(t, dir, "rollback", "-auto-approve", id)
	if again.code != 0 || !strings.Contains(again.stdout, "nothing to roll back") {
		t.Errorf("second rollback: exit %d\n%s\n%s", again.code, again.stdout, again.stderr)
	}
	if n := len(order(rec.read(t), "rollback", "start")); n != 3 {
		t.Errorf("%d tasks rolled back after two rollbacks, want 3", n)
	}
	if l := fanout(t, dir, "runs"); !strings.Contains(l.stdout, "rolled back") {
		t.Errorf("runs after the rollback:\n%s", l.stdout)
	}
}

// TestKilledDuringConditionThenRollback: fanout killed while a task's
// only_if ran: the task never ran there, and `fanout rollback` leaves it
// alone, rolling back what ran before (it planned "task x on localhost").
func TestKilledDuringConditionThenRollback(t *testing.T) {
	hcl := sleepTask("pre", "0", "") + `
task "x" {
  only_if  = "REC start && sleep 30"
  run      = "REC start && REC end"
  rollback = "REC start && REC end"
}
`
	dir, rec := workdir(t, hcl)
	cmd, out, exited := startBackground(t, dir, func() bool {
		return slices.Contains(order(rec.read(t), "condition", "start"), "x")
	}, "apply", "main.hcl")
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	id := runID(t, out.String())
	plan := fanout(t, dir, "rollback", "-dry-run", id)
	if plan.code != 0 || !strings.Contains(plan.stdout, "1. task pre on localhost") || strings.Contains(plan.stdout, "task x") {
		t.Fatalf("dry run: exit %d; want pre's rollback alone\n%s\n%s", plan.code, plan.stdout, plan.stderr)
	}
	if r := fanout(t, dir, "rollback", "-auto-approve", id); r.code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if diff := cmp.Diff([]string{"pre"}, order(rec.read(t), "rollback", "start")); diff != "" {
		t.Errorf("rolled back (-want +got):\n%s", diff)
	}
}

func TestRollbackOfSuccessfulRun(t *testing.T) {
	dir, rec := workdir(t, sleepTask("one", "0", "")+sleepTask("two", "0", ""))
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	id := runID(t, r.stdout)
	refused := fanout(t, dir, "rollback", id, "main.hcl")
	if refused.code != 2 || !strings.Contains(refused.stderr, "-force") || len(order(rec.read(t), "rollback", "start")) != 0 {
		t.Fatalf("rollback of a successful run: exit %d\n%s", refused.code, refused.stderr)
	}
	forced := fanout(t, dir, "rollback", "-auto-approve", "-force", id, "main.hcl")
	if forced.code != 0 {
		t.Fatalf("rollback -force: exit %d\n%s\n%s", forced.code, forced.stdout, forced.stderr)
	}
	if diff := cmp.Diff([]string{"two", "one"}, order(rec.read(t), "rollback", "start")); diff != "" {
		t.Errorf("rolled back (-want +got):\n%s", diff)
	}
}

func TestLockRefusesSecondApply(t *testing.T) {
	dir, rec := workdir(t, sleepTask("slow", "30", ""))
	cmd, _, exited := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
	second := fanout(t, dir, "apply", "main.hcl")
	if second.code != 1 {
		t.Fatalf("second apply: exit %d\n%s\n%s", second.code, second.stdout, second.stderr)
	}
	for _, want := range []string{"already being run by pid " + fmt.Sprint(cmd.Process.Pid), "apply of run", "Nothing was run"} {
		if !strings.Contains(second.stderr, want) {
			t.Errorf("refusal lacks %q:\n%s", want, second.stderr)
		}
	}
	if n := len(order(rec.read(t), "run", "start")); n != 1 {
		t.Errorf("%d runs started, want 1", n)
	}
	// The same configuration named from another directory is the same lock.
	other := fanout(t, t.TempDir(), "apply", filepath.Join(dir, "main.hcl"))
	if other.code != 1 || !strings.Contains(other.stderr, "already being run") {
		t.Errorf("apply from elsewhere: exit %d\n%s", other.code, other.stderr)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	// The holder died: its lock is stale and taken over, with a note.
	dir2 := filepath.Join(dir, "main.hcl")
	_ = dir2
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(strings.ReplaceAll(sleepTask("quick", "0", ""), "REC", filepath.Join(dir, "rec.sh"))), 0o644); err != nil {
		t.Fatal(err)
	}
	third := fanout(t, dir, "apply", "main.hcl")
	if third.code != 0 || !strings.Contains(third.stderr, "took over a stale lock: pid "+fmt.Sprint(cmd.Process.Pid)) {
		t.Errorf("apply after the holder died: exit %d\n%s", third.code, third.stderr)
	}
	// A clean exit leaves an empty lock: no note next time.
	fourth := fanout(t, dir, "apply", "main.hcl")
	if fourth.code != 0 || strings.Contains(fourth.stderr, "stale") {
		t.Errorf("apply after a clean run: exit %d\n%s", fourth.code, fourth.stderr)
	}
}

func TestJournalDirectoryUnusable(t *testing.T) {
	t.Run("not a directory", func(t *testing.T) {
		dir, rec := workdir(t, sleepTask("one", "0", ""))
		if err := os.MkdirAll(filepath.Join(dir, ".fanout"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".fanout", "runs"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		r := fanout(t, dir, "apply", "main.hcl")
		if r.code != 1 || !strings.Contains(r.stderr, "cannot write the run journal") || !strings.Contains(r.stderr, "nothing was run") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if len(rec.read(t)) != 0 {
			t.Error("commands ran without a journal")
		}
	})
	t.Run("disk full", func(t *testing.T) {
		dir, rec := workdir(t, sleepTask("one", "0", ""))
		runs := mountTinyTmpfs(t, dir, "4k")
		fill(t, runs)
		r := fanout(t, dir, "apply", "main.hcl")
		if r.code != 1 || !strings.Contains(r.stderr, "no space left on device") || !strings.Contains(r.stderr, "nothing was run") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if len(rec.read(t)) != 0 {
			t.Error("commands ran without a journal")
		}
	})
	t.Run("disk fills during the run", func(t *testing.T) {
		var hcl strings.Builder
		for i := range 12 {
			hcl.WriteString(sleepTask(fmt.Sprintf("task%02d", i), "0", ""))
		}
		dir, rec := workdir(t, hcl.String())
		// The header (the plan) takes about half; records fill the rest.
		mountTinyTmpfs(t, dir, "8k")
		r := fanout(t, dir, "apply", "main.hcl")
		if r.code != 1 || !strings.Contains(r.stdout, "cannot write the run journal") {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		recs := rec.read(t)
		ran := order(recs, "run", "start")
		if len(ran) == 0 || len(ran) == 12 {
			t.Fatalf("%d of 12 tasks ran; the 8 KiB journal should fill part way", len(ran))
		}
		// What ran is rolled back, newest first.
		want := slices.Clone(ran)
		slices.Reverse(want)
		if diff := cmp.Diff(want, order(recs, "rollback", "start")); diff != "" {
			t.Errorf("rolled back (-want +got):\n%s", diff)
		}
	})
	// With room for the journal's 1 MiB reserve: when the disk fills, the
	// reserve takes the rollbacks and the run's end, so the journal says
	// the run failed and rolled back, and `fanout rollback` has nothing
	// left to run a second time.
	t.Run("disk fills during the run, the reserve takes the rest", func(t *testing.T) {
		var hcl strings.Builder
		for i := range 40 {
			hcl.WriteString(sleepTask(fmt.Sprintf("task%02d", i), "0", ""))
		}
		dir, rec := workdir(t, hcl.String())
		mountTinyTmpfs(t, dir, "1056k")
		r := fanout(t, dir, "apply", "main.hcl")
		if r.code != 1 || !strings.Contains(r.stderr, "the journal records it all") {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		recs := rec.read(t)
		ran := order(recs, "run", "start")
		if len(ran) == 0 || len(ran) == 40 {
			t.Fatalf("%d of 40 tasks ran; the journal should fill part way", len(ran))
		}
		want := slices.Clone(ran)
		slices.Reverse(want)
		if diff := cmp.Diff(want, order(recs, "rollback", "start")); diff != "" {
			t.Errorf("rolled back (-want +got):\n%s", diff)
		}
		id := runID(t, r.stdout)
		if l := fanout(t, dir, "runs"); !strings.Contains(l.stdout, id) || strings.Contains(l.stdout, "unfinished") {
			t.Errorf("the journal does not record the run's end:\n%s", l.stdout)
		}
		d := fanout(t, dir, "rollback", "-dry-run", id)
		if strings.Contains(d.stdout+d.stderr, "task00 on") && !strings.Contains(d.stdout+d.stderr, "nothing to roll back") {
			t.Errorf("fanout rollback would roll back again:\n%s%s", d.stdout, d.stderr)
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, ".fanout", "runs")); len(entries) != 1 {
			t.Errorf("the runs directory holds %d entries, want the journal alone", len(entries))
		}
	})
}

// mountTinyTmpfs mounts a tmpfs of size on dir/.fanout/runs, or skips the
// test when this machine does not allow it (not root, no mount).
func mountTinyTmpfs(t *testing.T, dir, size string) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	runs := filepath.Join(dir, ".fanout", "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", runs).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", runs).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", runs, err, out)
		}
	})
	return runs
}

// fill writes into dir until its file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // only the space it takes matters
	buf := make([]byte, 1024)
	for range 1 << 16 {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
	t.Fatal("the file system did not fill")
}

// waitCompleted waits until the run journal in dir records task as
// completed: the undo order is the order of these records, which may lag
// the task's last command by a moment.
func waitCompleted(t *testing.T, dir, task string) {
	t.Helper()
	want := `{"type":"completed",`
	sdktest.Eventually(t, e2eWait, task+" completed in the journal", func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, ".fanout", "runs", "*.jsonl"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for l := range strings.Lines(string(b)) {
				if strings.HasPrefix(l, want) && strings.Contains(l, `"task":"`+task+`"`) {
					return true
				}
			}
		}
		return false
	})
}

// TestUnknownRunID: a run ID no journal has is a wrong argument (exit 2,
// as usage errors), for runs show and rollback alike, saying where runs
// are listed.
func TestUnknownRunID(t *testing.T) {
	dir, _ := workdir(t, sleepTask("one", "0", ""))
	for _, args := range [][]string{{"runs", "show", "nosuch", "main.hcl"}, {"rollback", "nosuch", "main.hcl"}} {
		r := fanout(t, dir, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "no run nosuch") || !strings.Contains(r.stderr, "fanout runs lists the runs") {
			t.Errorf("fanout %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, exitUsage, r.stderr)
		}
	}
}

// TestExecsShareTheLock: ad hoc commands of one configuration run at once,
// as pdsh in two terminals does, and `fanout runs` lists each as running
// while it runs; an apply is refused while one runs (naming fanout exec),
// and an exec while an apply runs.
func TestExecsShareTheLock(t *testing.T) {
	t.Parallel()
	dir, rec := workdir(t, sleepTask("slow", "30", ""))
	script := filepath.Join(dir, "rec.sh")
	wait := script + " start && for i in $(seq 1 600); do [ -e go ] && break; sleep 0.05; done && " + script + " end"
	first, out, exited := startBackground(t, dir, started(rec, t, "exec"), "exec", "main.hcl", "--", wait)
	second := fanout(t, dir, "exec", "main.hcl", "--", script+" start && "+script+" end")
	if second.code != 0 {
		t.Fatalf("a second exec while one runs: exit %d\n%s\n%s", second.code, second.stdout, second.stderr)
	}
	id := runID(t, out.String())
	if l := fanout(t, dir, "runs"); !regexp.MustCompile(id + `\s.*\sexec\s+running`).MatchString(l.stdout) {
		t.Errorf("runs does not list the exec that goes on as running:\n%s", l.stdout)
	}
	if s := fanout(t, dir, "runs", "show", id); !strings.Contains(s.stdout, "Run "+id+" is running now.") {
		t.Errorf("runs show of the exec that goes on:\n%s\n%s", s.stdout, s.stderr)
	}
	apply := fanout(t, dir, "apply", "main.hcl")
	if apply.code != 1 || !strings.Contains(apply.stderr, "already being run by fanout exec (one or more)") {
		t.Errorf("apply while an exec runs: exit %d\n%s", apply.code, apply.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	<-exited
	if !first.ProcessState.Success() {
		t.Errorf("the first exec: %v\n%s", first.ProcessState, out)
	}
	// The second ran whole while the first ran.
	var kinds []string
	for _, r := range rec.read(t) {
		kinds = append(kinds, r.kind)
	}
	if got := strings.Join(kinds, " "); got != "start start end end" {
		t.Errorf("the execs' commands recorded %q, want the second's start and end within the first's", got)
	}
	if l := fanout(t, dir, "runs"); strings.Contains(l.stdout, "running") || strings.Contains(l.stdout, "unfinished") {
		t.Errorf("runs after both execs ended:\n%s", l.stdout)
	}

	// And an exec while an apply runs is refused, naming the apply.
	applying, _, applied := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
	refused := fanout(t, dir, "exec", "main.hcl", "--", "true")
	if refused.code != 1 || !strings.Contains(refused.stderr, "already being run by pid "+fmt.Sprint(applying.Process.Pid)) {
		t.Errorf("exec while an apply runs: exit %d\n%s", refused.code, refused.stderr)
	}
	if err := syscall.Kill(-applying.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-applied
}

// TestRunsSkipsWhatIsNoJournal: a FIFO or a device named like a journal in
// .fanout/runs is listed as unreadable, at once: opening the FIFO held
// fanout runs for ever.
func TestRunsSkipsWhatIsNoJournal(t *testing.T) {
	dir, _ := workdir(t, sleepTask("one", "0", ""))
	if r := fanout(t, dir, "apply", "main.hcl"); r.code != 0 {
		t.Fatalf("apply: exit %d\n%s", r.code, r.stderr)
	}
	runs := filepath.Join(dir, ".fanout", "runs")
	if err := syscall.Mkfifo(filepath.Join(runs, "20261201T000000-aaaaaa.jsonl"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(runs, "20261201T000001-bbbbbb.jsonl")); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- fanout(t, dir, "runs") }()
	select {
	case l := <-done:
		if l.code != 0 || !regexp.MustCompile(`20261201T000000-aaaaaa\s.*unreadable`).MatchString(l.stdout) ||
			!regexp.MustCompile(`20261201T000001-bbbbbb\s.*unreadable`).MatchString(l.stdout) || !strings.Contains(l.stdout, "succeeded") {
			t.Errorf("runs: exit %d\n%s%s", l.code, l.stdout, l.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fanout runs did not end with a FIFO among the journals")
	}
}

package main

import (
	"bufio"
	"fmt"
	"io"
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

// TestInterruptRollsBack sends each interrupt signal to a running apply:
// Ctrl-C, kill, Ctrl-\ and a hang-up (a dropped SSH session to a
// bastion) all stop the run, roll back what started, journal it, and exit
// 130. So does a signal sent twice at once, as `timeout` sends its TERM to
// fanout and to its process group: an echo, not an abort.
func TestInterruptRollsBack(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		echo bool
	}{{syscall.SIGINT, false}, {syscall.SIGTERM, false}, {syscall.SIGQUIT, false}, {syscall.SIGHUP, false}, {syscall.SIGTERM, true}} {
		sig := tt.sig
		name := sig.String()
		if tt.echo {
			name += " twice at once"
		}
		t.Run(name, func(t *testing.T) {
			hcl := sleepTask("done", "0", "") + sleepTask("slow", "30", "") + sleepTask("after", "0", "")
			dir, rec := workdir(t, hcl)
			cmd, out, exited := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if tt.echo {
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("fanout did not stop after %s:\n%s", sig, out.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, out.String())
			}
			recs := rec.read(t)
			if slices.Contains(order(recs, "run", "start"), "after") {
				t.Errorf("work started after %s", sig)
			}
			if diff := cmp.Diff([]string{"slow", "done"}, order(recs, "rollback", "start")); diff != "" {
				t.Errorf("rolled back (-want +got):\n%s", diff)
			}
			// The recap says which signal it was: a kill from systemd or a
			// CI runner is not the operator's Ctrl-C.
			want := map[syscall.Signal]string{
				syscall.SIGINT:  "was interrupted after ",
				syscall.SIGTERM: "interrupted by SIGTERM.",
				syscall.SIGQUIT: "interrupted by the operator (SIGQUIT).",
				syscall.SIGHUP:  "interrupted by SIGHUP (the terminal or its SSH session went away).",
			}[sig]
			if !strings.Contains(out.String(), want) || sig != syscall.SIGINT && strings.Contains(out.String(), "interrupted by the operator.") {
				t.Errorf("summary does not say %q:\n%s", want, out.String())
			}
			if l := fanout(t, dir, "runs"); !strings.Contains(l.stdout, "interrupted") && !strings.Contains(l.stdout, "rolled back") {
				t.Errorf("the journal does not record the interrupted run:\n%s", l.stdout)
			}
		})
	}
}

// TestAbortSaysWhatIsNotRolledBack: Ctrl-C, then Ctrl-C again while the
// rollback runs, aborts it; the recap and -json name every pair left
// without its rollback and the command that rolls them back, and the
// journal lets `fanout rollback` do it.
func TestAbortSaysWhatIsNotRolledBack(t *testing.T) {
	hcl := sleepTask("done", "0", "") + `
task "slow" {
  run      = "REC start && sleep 30 && REC end"
  rollback = "REC start && sleep 30 && REC end"
}
`
	dir, rec := workdir(t, hcl)
	cmd, out, exited := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sdktest.Eventually(t, 20*time.Second, "slow's rollback to start", func() bool {
		return slices.Contains(order(rec.read(t), "rollback", "start"), "slow")
	})
	time.Sleep(2 * signalEcho) // a second Ctrl-C, not an echo of the first
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("fanout did not abort:\n%s", out.String())
	}
	// Interrupted, and left without rollbacks: the second says more.
	if code := cmd.ProcessState.ExitCode(); code != exitNotRolledBack {
		t.Errorf("exit %d, want %d", code, exitNotRolledBack)
	}
	text := out.String()
	id := runID(t, text)
	for _, want := range []string{
		"NOT rolled back (aborted before their rollback): done on localhost. Run \"fanout rollback " + id + " main.hcl\"",
		"NOT rolled back: aborted",
		"interrupted by the operator, then aborted",
		// Said at the second Ctrl-C, not only in the recap.
		"fanout apply: aborting: running commands are stopped now",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the recap lacks %q:\n%s", want, text)
		}
	}
	if slices.Contains(order(rec.read(t), "rollback", "start"), "done") {
		t.Fatal("done was rolled back: the abort came too late to test")
	}
	// The morning after, the journal says the same.
	shown := fanout(t, dir, "runs", "show", id)
	for _, want := range []string{"NOT rolled back (aborted before their rollback): done on localhost", "NOT rolled back: aborted"} {
		if !strings.Contains(shown.stdout, want) {
			t.Errorf("runs show lacks %q:\n%s%s", want, shown.stdout, shown.stderr)
		}
	}
	r := fanout(t, dir, "rollback", "-auto-approve", id)
	if r.code != exitOK || !slices.Contains(order(rec.read(t), "rollback", "start"), "done") {
		t.Errorf("fanout rollback did not roll back what the abort left: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestInterruptWithoutRollbackSaysWhatItLeft: Ctrl-C under on_failure
// "stop" or "continue" interrupts and rolls nothing back, by design; the
// recap lists what it left with the `fanout rollback` that undoes it, as
// `fanout runs show` does, and the run exits 130, not 4 (nothing was cut
// short). It said nothing, as if all had been rolled back.
func TestInterruptWithoutRollbackSaysWhatItLeft(t *testing.T) {
	for _, mode := range []string{"stop", "continue"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			hcl := "fanout {\n  on_failure = \"" + mode + "\"\n}\n" + sleepTask("done", "0", "") + sleepTask("slow", "30", "")
			dir, rec := workdir(t, hcl)
			cmd, out, exited := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				t.Fatalf("fanout did not stop:\n%s", out.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, out.String())
			}
			if got := order(rec.read(t), "rollback", "start"); len(got) != 0 {
				t.Errorf("rolled back %v under on_failure %q", got, mode)
			}
			id := runID(t, out.String())
			want := `NOT rolled back (on_failure = "` + mode + `"): done on localhost, slow on localhost. Run "fanout rollback ` + id + ` main.hcl" to roll them back.`
			if !strings.Contains(out.String(), want) {
				t.Errorf("the recap lacks %q:\n%s", want, out.String())
			}
			if shown := fanout(t, dir, "runs", "show", id); !strings.Contains(shown.stdout, `NOT rolled back (on_failure = "`+mode+`")`) {
				t.Errorf("runs show does not say what was left:\n%s%s", shown.stdout, shown.stderr)
			}
		})
	}
}

// TestInterruptDuringRollbackLetsItGoOn: Ctrl-C while apply rolls back
// after a failure lets the rollback go on, says so as `fanout rollback`
// does (and that a second Ctrl-C aborts), and leaves the run failed, exit
// 1, with one stopping event. It said "Stopping: ... rolling back what
// started once running work ends" and turned the run interrupted (130).
func TestInterruptDuringRollbackLetsItGoOn(t *testing.T) {
	hcl := `
task "pre" {
  run      = "REC start && REC end"
  rollback = "REC start && sleep 2 && REC end"
}
task "bad" {
  run      = "exit 3"
}
`
	dir, rec := workdir(t, hcl)
	cmd, out, exited := startBackground(t, dir, func() bool {
		return slices.Contains(order(rec.read(t), "rollback", "start"), "pre")
	}, "apply", "-json", "main.hcl")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("fanout did not end:\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitFailed {
		t.Errorf("exit %d, want %d\n%s", code, exitFailed, out.String())
	}
	if !slices.Contains(order(rec.read(t), "rollback", "end"), "pre") {
		t.Errorf("pre's rollback did not run to its end:\n%s", out.String())
	}
	text := out.String()
	if n := strings.Count(text, `"type":"stopping"`); n != 1 || !strings.Contains(text, `"type":"rollback_goes_on"`) {
		t.Errorf("%d stopping events, rollback_goes_on: %v; want one stopping and a rollback_goes_on:\n%s",
			n, strings.Contains(text, `"type":"rollback_goes_on"`), text)
	}
	if !strings.Contains(text, `"status":"failed","cause":"task \"bad\" failed on host \"localhost\": exit 3"`) {
		t.Errorf("the run's record is not the failure's:\n%s", text)
	}
}

// TestNohupKeepsRunning: started with SIGHUP ignored (nohup), fanout
// leaves it ignored, so a hang-up does not interrupt the run.
func TestNohupKeepsRunning(t *testing.T) {
	dir, rec := workdir(t, sleepTask("slow", "1", "")+sleepTask("after", "0", ""))
	// sh ignores HUP, then becomes fanout: as nohup does.
	cmd := exec.Command("sh", "-c", `trap "" HUP; exec "$0" apply main.hcl`, fanoutBin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	b := startBG(t, cmd)
	sdktest.Eventually(t, e2eWait, "slow to start", started(rec, t, "slow"))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t, 30*time.Second); code != exitOK {
		t.Errorf("exit %d, want 0\n%s", code, b.out)
	}
	if got := order(rec.read(t), "run", "end"); !slices.Equal(got, []string{"slow", "after"}) {
		t.Errorf("ran to the end: %v, want [slow after]\n%s", got, b.out)
	}
}

// TestClosedStdoutFinishesRun is `fanout apply p.hcl | head -2`: the
// reader goes away after two lines, and the run goes on regardless: the
// task's later commands run (writing more output to nobody), its failure
// rolls it back, the journal is complete, and the exit code is the run's,
// not a SIGPIPE death's (141).
func TestClosedStdoutFinishesRun(t *testing.T) {
	hcl := `
task "a" {
  run = [
    "REC start",
    "echo one",
    "for i in $(seq 1 400); do [ -e go ] && break; sleep 0.05; done",
    "seq 1 20000",
    "echo later > later.txt",
    "exit 3",
  ]
  rollback = "REC start"
}
`
	dir, rec := workdir(t, hcl)
	cmd, stdout, stderr := applyWithStdoutPipe(t, dir)
	r := bufio.NewReader(stdout)
	for range 2 { // head -2
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	if err := stdout.Close(); err != nil { // as head does after two lines
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case _ = <-waited: // how it ended is read from ProcessState below
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = <-waited // killed: its error says only that
		t.Fatalf("fanout did not end after its stdout closed:\n%s", stderr.String())
	}
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() != exitFailed {
		t.Errorf("fanout ended by %v (exit %d), want exit %d\n%s", ws.Signal(), ws.ExitStatus(), exitFailed, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "later.txt")); err != nil {
		t.Errorf("the task's later commands did not run: %v", err)
	}
	if got := order(rec.read(t), "rollback", "start"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("rolled back %v, want [a]", got)
	}
	l := fanout(t, dir, "runs")
	if !strings.Contains(l.stdout, "failed") || strings.Contains(l.stdout, "unfinished") {
		t.Errorf("the journal does not record the whole run:\n%s", l.stdout)
	}
	id := strings.TrimSuffix(filepath.Base(journalOf(t, dir)), ".jsonl")
	if !strings.Contains(stderr.String(), `standard output was closed or stopped taking output mid-run; the run went on to its end. "fanout runs show `+id+` main.hcl" prints its recap.`) {
		t.Errorf("stderr does not say where the recap went:\n%s", stderr.String())
	}
	s := fanout(t, dir, "runs", "show", id)
	for _, want := range []string{"Rolled back, in order: a.", "Run " + id + " failed after"} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("runs show lacks %q:\n%s", want, s.stdout)
		}
	}
}

// TestStalledStdoutFinishesRun is a stdout nobody reads for a while (a
// pipe to a stuck log shipper, a terminal paused with Ctrl-S): the run
// does not wait on it. The task's timeout stops a command that fills the
// pipe and would sleep a minute, the rollback runs, and once the reader
// comes back it reads how much output it missed; fanout ends with the
// run's exit code and says where the recap is.
func TestStalledStdoutFinishesRun(t *testing.T) {
	hcl := `
task "a" {
  run      = ["REC start", "seq 1 200000; sleep 60"]
  timeout  = "2s"
  rollback = "REC start"
}
`
	dir, rec := workdir(t, hcl)
	cmd, stdout, stderr := applyWithStdoutPipe(t, dir)
	// Nobody reads until the rollback has run: fanout got there with its
	// stdout full.
	sdktest.Eventually(t, 40*time.Second, "the rollback, with stdout unread", func() bool {
		return slices.Equal(order(rec.read(t), "rollback", "start"), []string{"a"})
	})
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stdout)
		read <- string(b)
	}()
	// Read to its end before Wait, which closes the pipe once fanout has
	// exited: a reader still behind lost the end of the output.
	var out string
	select {
	case out = <-read:
	case <-time.After(40 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("fanout did not end:\n%s", stderr.String())
	}
	_ = cmd.Wait() // how it ended is read from ProcessState
	if code := cmd.ProcessState.ExitCode(); code != exitFailed {
		t.Errorf("exit %d, want %d\n%s", code, exitFailed, stderr.String())
	}
	if !regexp.MustCompile(`\[fanout: \d+ bytes of output not shown here`).MatchString(out) {
		t.Errorf("stdout does not say what it missed:\n%.2000s", out[max(0, len(out)-2000):])
	}
	// The end of the output, kept while nobody read, comes after the
	// note: the recap.
	note := strings.LastIndex(out, "bytes of output not shown here")
	for _, want := range []string{"Rolled back, in order: a.", "Run ", " failed after "} {
		if i := strings.LastIndex(out, want); i < note {
			t.Errorf("the recap's %q is not after the note:\n%.3000s", want, out[max(0, len(out)-3000):])
		}
	}
	if !strings.Contains(stderr.String(), "stopped taking output mid-run") {
		t.Errorf("stderr does not say output was lost:\n%s", stderr.String())
	}
}

// TestStalledStdoutAtTheEnd: a stdout still stalled when the run is over
// (a pager nobody scrolls) holds fanout a while for the recap, but not the
// run's lock: another run of the configuration may start; and Ctrl-C
// ends the wait at once.
func TestStalledStdoutAtTheEnd(t *testing.T) {
	dir, rec := workdir(t, `
task "a" {
  run = ["REC start", "seq 1 200000"]
}
`)
	cmd, _, stderr := applyWithStdoutPipe(t, dir)
	sdktest.Eventually(t, 40*time.Second, "the run to end, with stdout unread", func() bool {
		return strings.Contains(fanout(t, dir, "runs").stdout, "succeeded")
	})
	if r := fanout(t, dir, "apply", "main.hcl"); r.code != exitOK {
		t.Errorf("a second run while the first waits for its reader: exit %d\n%s", r.code, r.stderr)
	}
	if n := len(rec.read(t)); n != 2 {
		t.Errorf("%d runs of a, want 2", n)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case _ = <-waited: // how it ended is read from ProcessState below
	case <-time.After(10 * time.Second):
		t.Fatalf("Ctrl-C did not end the wait for stdout:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("exit %d, want the run's, 0\n%s", code, stderr.String())
	}
}

// applyWithStdoutPipe starts fanout apply main.hcl in dir with its stdout
// a pipe the test reads (or does not), its stderr kept; the process is
// killed at the end of the test if it still runs.
func applyWithStdoutPipe(t *testing.T, dir string) (*exec.Cmd, io.ReadCloser, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stdout, stderr
}

// TestRollbackSaysItGoesOnAfterCtrlC: Ctrl-C once during `fanout
// rollback` does not stop it half-way, and says so at once, with what a
// second one does; the rollback then ends as it would have.
func TestRollbackSaysItGoesOnAfterCtrlC(t *testing.T) {
	dir, rec := workdir(t, `
task "a" {
  run      = "REC start"
  rollback = "REC start; sleep 2; REC end"
}
task "b" {
  run = "REC start; sleep 30"
}
`)
	id := killedWhile(t, dir, rec, "b")
	rollingBack := func() bool { return slices.Contains(order(rec.read(t), "rollback", "start"), "a") }
	cmd, out, exited := startBackground(t, dir, rollingBack, "rollback", "-auto-approve", id)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	sdktest.Eventually(t, e2eWait, "the note on the interrupt", func() bool {
		return strings.Contains(out.String(), "fanout rollback: interrupt: the rollback goes on")
	})
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("fanout rollback did not end:\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitOK || !slices.Contains(order(rec.read(t), "rollback", "end"), "a") {
		t.Errorf("exit %d, rollback ends %v: want 0 and a's rollback to its end\n%s", code, order(rec.read(t), "rollback", "end"), out)
	}
}

// TestAbortedRollbackSaysWhatIsLeft: `fanout rollback` aborted (Ctrl-C
// twice) names every pair it left without its rollback, as an aborted
// apply does, and exits 4.
func TestAbortedRollbackSaysWhatIsLeft(t *testing.T) {
	dir, rec := workdir(t, `
task "a" {
  run      = "REC start"
  rollback = "REC start; sleep 30"
}
task "c" {
  run      = "REC start"
  rollback = "REC start; sleep 30"
}
task "b" {
  run = "REC start; sleep 30"
}
`)
	id := killedWhile(t, dir, rec, "b")
	rollingBack := func() bool { return len(order(rec.read(t), "rollback", "start")) > 0 }
	cmd, out, exited := startBackground(t, dir, rollingBack, "rollback", "-auto-approve", id)
	abortTwice(t, cmd, out, exited)
	// c rolls back first (newest), and is cut short; a never starts.
	if code := cmd.ProcessState.ExitCode(); code != exitNotRolledBack || !strings.Contains(out.String(), "NOT rolled back (aborted before their rollback): a on localhost") {
		t.Errorf("exit %d, want %d and a named as not rolled back:\n%s", code, exitNotRolledBack, out)
	}
}

// TestAbortStopsRollbacksNotStarted: an abort while a task rolls back one
// host at a time starts no further host's rollback; those hosts are named
// as not rolled back, not as rollbacks that failed.
func TestAbortStopsRollbacksNotStarted(t *testing.T) {
	dir, rec := workdir(t, localHosts(4)+`
task "slow" {
  run       = "REC start"
  rollback  = "REC start && sleep 30"
  max_hosts = 1
}
task "boom" {
  run = "exit 3"
}
`)
	rollingBack := func() bool { return len(order(rec.read(t), "rollback", "start")) > 0 }
	cmd, out, exited := startBackground(t, dir, rollingBack, "apply", "main.hcl")
	abortTwice(t, cmd, out, exited)
	var hosts []string
	for _, r := range rec.read(t) {
		if r.phase == "rollback" && r.kind == "start" {
			hosts = append(hosts, r.host)
		}
	}
	if len(hosts) != 1 {
		t.Fatalf("rollbacks started on %v after the abort, want the one running then", hosts)
	}
	text := out.String()
	failed := regexp.MustCompile(`Rollback FAILED for: [^\n]*`).FindString(text)
	notRB := regexp.MustCompile(`NOT rolled back \(aborted before their rollback\): [^\n]*`).FindString(text)
	for i := 1; i <= 4; i++ {
		h := fmt.Sprintf("h%d", i)
		if h == hosts[0] {
			continue
		}
		if strings.Contains(failed, h) || !strings.Contains(notRB, h) {
			t.Errorf("%s is not named as not rolled back (and only so):\n%s", h, text)
		}
	}
	if code := cmd.ProcessState.ExitCode(); code != exitNotRolledBack {
		t.Errorf("exit %d, want %d", code, exitNotRolledBack)
	}
}

// abortTwice presses Ctrl-C twice, far enough apart not to be one signal's
// echo, and waits for fanout to end.
func abortTwice(t *testing.T, cmd *exec.Cmd, out fmt.Stringer, exited <-chan struct{}) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * signalEcho) // a second Ctrl-C, not an echo of the first
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("fanout did not abort:\n%s", out)
	}
}

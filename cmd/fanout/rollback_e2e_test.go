package main

import (
	"errors"
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

	"github.com/fanout/fanout/internal/shellquote"
	"github.com/fanout/fanout/sdk/sdktest"
)

// killedRun applies a configuration of four tasks with rollbacks, "two"'s
// failing until the file "fixed" exists, and SIGKILLs fanout while "slow"
// runs. It returns the run's ID.
func killedRun(t *testing.T) (dir string, rec *recording, id string) {
	t.Helper()
	hcl := `
task "one" {
  run      = "REC start"
  rollback = "REC start"
}
task "two" {
  run      = "REC start"
  rollback = "REC start; [ -e fixed ] || { echo two is stuck >&2; exit 4; }"
}
parallelize {
  tasks = [task.three, task.slow]
}
task "three" {
  run      = "REC start"
  rollback = "REC start"
}
task "slow" {
  run      = "REC start && sleep 30"
  rollback = "REC start"
}
task "never" {
  run      = "REC start"
  rollback = "REC start"
}
`
	dir, rec = workdir(t, hcl)
	cmd, out, exited := startBackground(t, dir, func() bool {
		return len(order(rec.read(t), "run", "start")) == 4
	}, "apply", "main.hcl")
	// one, two and three ended: the undo order is fixed once the journal
	// has them all completed.
	for _, task := range []string{"one", "two", "three"} {
		waitCompleted(t, dir, task)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = <-exited // killed: its error says only that
	return dir, rec, runID(t, out.String())
}

// TestRollbackReport checks what `fanout rollback ID` says about itself:
// its opening line counts the rollbacks it runs, a pair fanout died
// running has no made-up duration, a failed rollback is not listed as
// rolled back, the failure line says how to try again, the last line is
// the rollback's outcome (not "Run X succeeded" under a list of failures),
// and the stale-lock note does not tell the operator to run the command
// they are running.
func TestRollbackReport(t *testing.T) {
	dir, rec, id := killedRun(t)

	r := fanout(t, dir, "rollback", "-auto-approve", id)
	if r.code != exitNotRolledBack {
		t.Fatalf("rollback: exit %d, want %d (a rollback failed)\n%s\n%s", r.code, exitNotRolledBack, r.stdout, r.stderr)
	}
	if diff := cmp.Diff([]string{"slow", "three", "two", "one"}, order(rec.read(t), "rollback", "start")); diff != "" {
		t.Errorf("rolled back (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"fanout rollback: run " + id + ", 4 rollbacks on 1 host\n",
		"slow on localhost: interrupted: no record of its end: fanout stopped while it ran\n",
		"Rolled back, in order: slow, three, one.\n",
		`Rollback FAILED for: two on localhost. Check these hosts by hand, or run "fanout rollback ` + id + `" to try their rollback again.`,
		"Rollback of run " + id + " failed after ",
		": 1 rollback failed.\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the rollback's report lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "after 0s") || strings.Contains(r.stdout, " 0s ") {
		t.Errorf("a pair fanout died running shows a duration of 0s:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "took over a stale lock") || strings.Contains(r.stderr, `"fanout rollback `+id+`" rolls back`) {
		t.Errorf("the stale-lock note tells the operator to run what runs:\n%s", r.stderr)
	}

	// Fixed by hand, the second rollback retries only what failed, and
	// says that the rollback, not the run, succeeded.
	if err := os.WriteFile(filepath.Join(dir, "fixed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	again := fanout(t, dir, "rollback", "-auto-approve", id)
	if again.code != exitOK {
		t.Fatalf("second rollback: exit %d\n%s\n%s", again.code, again.stdout, again.stderr)
	}
	if !strings.Contains(again.stdout, "fanout rollback: run "+id+", 1 rollback on 1 host\n") ||
		!strings.Contains(again.stdout, "Rollback of run "+id+" succeeded in ") ||
		strings.Contains(again.stdout, "Run "+id+" succeeded") {
		t.Errorf("second rollback's report:\n%s", again.stdout)
	}
	n := 0
	for _, r := range rec.read(t) {
		if r.phase == "rollback" && r.kind == "start" {
			n++
		}
	}
	if n != 5 { // four, then two again
		t.Errorf("%d rollbacks ran after two rollback commands, want 5", n)
	}
	// The morning after, the journal says what is true now: nothing
	// failed is left, nor anything not rolled back.
	shown := fanout(t, dir, "runs", "show", id)
	if strings.Contains(shown.stdout, "Rollback FAILED") || strings.Contains(shown.stdout, "NOT rolled back") || !strings.Contains(shown.stdout, "status:        rolled back") {
		t.Errorf("runs show after the rollbacks succeeded:\n%s%s", shown.stdout, shown.stderr)
	}
}

// TestRollbackAsksFirst: without -auto-approve, fanout rollback asks on a
// terminal and runs only on "yes"; with no terminal it refuses; -dry-run
// asks nothing.
func TestRollbackAsksFirst(t *testing.T) {
	dir, rec, id := killedRun(t)

	r := fanout(t, dir, "rollback", id) // stdin is not a terminal
	if r.code != exitUsage || !strings.Contains(r.stderr, "nothing was rolled back") || !strings.Contains(r.stderr, "-auto-approve") {
		t.Errorf("rollback without a terminal: exit %d\n%s", r.code, r.stderr)
	}
	if d := fanout(t, dir, "rollback", "-dry-run", id); d.code != 0 || !strings.Contains(d.stdout, "1. task slow on localhost") {
		t.Errorf("dry run: exit %d\n%s\n%s", d.code, d.stdout, d.stderr)
	}
	if got := order(rec.read(t), "rollback", "start"); len(got) != 0 {
		t.Fatalf("rolled back unasked: %v", got)
	}

	for _, answer := range []string{"no", "SIGTERM", "yes"} {
		cmd := exec.Command(fanoutBin, "rollback", id)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=xterm")
		tty, out, copied, exited := startOnPTY(t, cmd)
		sdktest.Eventually(t, e2eWait, "the question", func() bool { return strings.Contains(out.String(), "Enter a value:") })
		if !strings.Contains(out.String(), "Do you want to roll back run "+id) {
			t.Errorf("question:\n%s", out.String())
		}
		if got := order(rec.read(t), "rollback", "start"); len(got) != 0 {
			t.Fatalf("rolled back before the answer: %v", got)
		}
		if answer == "SIGTERM" {
			// A kill at the question answers it: not yes.
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		} else if _, err := tty.Write([]byte(answer + "\r")); err != nil {
			t.Fatal(err)
		}
		err := waitPTYExit(t, cmd, exited, 30*time.Second, "fanout did not end after %q:\n%s", answer, out)
		closePTY(tty, copied)
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		recs := order(rec.read(t), "rollback", "start")
		switch answer {
		case "no":
			if code != exitFailed || !strings.Contains(out.String(), "Rollback cancelled") || len(recs) != 0 {
				t.Errorf("answer no: exit %d, rolled back %v\n%s", code, recs, out.String())
			}
		case "SIGTERM":
			if code != exitInterrupted || !strings.Contains(out.String(), "interrupted; nothing was rolled back") || len(recs) != 0 {
				t.Errorf("SIGTERM at the question: exit %d, rolled back %v\n%s", code, recs, out.String())
			}
		case "yes":
			// two's rollback fails: exit 4.
			if code != exitNotRolledBack || len(recs) != 4 || !strings.Contains(out.String(), "Rollback of run "+id) {
				t.Errorf("answer yes: exit %d, rolled back %v\n%s", code, recs, out.String())
			}
		}
	}
}

// TestRollbackStartsEachPluginOnce: a rollback whose transport has a
// sensitive setting starts that transport's plugin once, and configures
// it once, with the journaled settings and the secret given back: the
// plugin that tells which settings are secret is the one that rolls back.
// The starts and Configures are counted in fanout's debug log, where
// go-plugin notes each process it starts and the echo plugin each
// Configure it takes.
func TestRollbackStartsEachPluginOnce(t *testing.T) {
	e := newPluginEnv(t, `
fanout {
  on_failure = "stop"
}
transport "echo" {
  greeting = "hi"
  token    = "s3cret-t0ken"
}
host "box" {
  transport = "echo"
  dir       = "DIR"
}
task "a" {
  run      = "true"
  rollback = "echo undo with $ECHO_TOKEN"
}
task "b" {
  run = "exit 3"
}
`)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	stdout, stderr, code := e.run(t, "apply", "main.hcl")
	if code != exitFailed {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	journal, err := os.ReadFile(journalOf(t, e.dir))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(journal), "{{sensitive:transport.echo.token}}") {
		t.Fatalf("the journal does not hold the token as a placeholder, so the rollback need not ask the plugin which settings are secret:\n%s", journal)
	}

	e.extra = append(e.extra, "FANOUT_LOG=debug")
	stdout, stderr, code = e.run(t, "rollback", "-auto-approve", runID(t, stdout))
	if code != exitOK {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "undo with (sensitive)") || strings.Contains(stdout+stderr, "s3cret-t0ken") {
		t.Errorf("the rollback did not run with the token given back, or showed it:\n%s\n%s", stdout, stderr)
	}
	count := func(what string) int {
		n := 0
		for line := range strings.Lines(stderr) {
			if strings.Contains(line, " fanout.") && strings.Contains(line, what) {
				n++
			}
		}
		return n
	}
	// Any plugin counts: the run used echo alone.
	if starts, configures := count("plugin started:"), count("fanout.echo.fanout-transport-echo: configured:"); starts != 1 || configures != 1 {
		t.Errorf("plugins were started %d times and echo configured %d times, want once each:\n%s", starts, configures, stderr)
	}
}

// TestHostSensitiveSettingHidden: a plugin's sensitive setting written in
// a host block (echo's host token) is hidden as a transport block's is:
// never shown by plan, apply or rollback, kept out of the journal as a
// placeholder per value (two hosts sharing one are one secret), and given
// back to the commands `fanout rollback` runs on each host.
func TestHostSensitiveSettingHidden(t *testing.T) {
	e := newPluginEnv(t, `
fanout {
  on_failure = "stop"
}
transport "echo" {
  greeting = "hi"
}
host "box1" {
  transport = "echo"
  dir       = "DIR"
  token     = "h0st-t0ken-one"
}
host "box2" {
  transport = "echo"
  dir       = "DIR"
  token     = "h0st-t0ken-two"
}
host "box3" {
  transport = "echo"
  dir       = "DIR"
  token     = "h0st-t0ken-two"
}
task "a" {
  run      = "echo run with $ECHO_TOKEN"
  rollback = "echo undo with $ECHO_TOKEN; printf %s \"$ECHO_TOKEN\" > DIR/undo-$FANOUT_HOST"
}
task "b" {
  on  = ["box1"]
  run = "exit 3"
}
`)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	shown := func(what, out string) {
		t.Helper()
		if strings.Contains(out, "h0st-t0ken") {
			t.Errorf("%s shows a host's token:\n%s", what, out)
		}
	}
	stdout, stderr, code := e.run(t, "plan", "-json", "main.hcl")
	if code != 0 {
		t.Fatalf("plan -json: exit %d\n%s", code, stderr)
	}
	shown("plan -json", stdout+stderr)
	if n := strings.Count(stdout, `"token": "(sensitive)"`); n != 3 {
		t.Errorf("plan -json redacts %d hosts' tokens, want 3:\n%s", n, stdout)
	}

	stdout, stderr, code = e.run(t, "apply", "main.hcl")
	if code != exitFailed {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	shown("apply", stdout+stderr)
	if n := strings.Count(stdout, "run with (sensitive)"); n != 3 {
		t.Errorf("apply shows %d redacted tokens, want 3:\n%s", n, stdout)
	}
	journal, err := os.ReadFile(journalOf(t, e.dir))
	if err != nil {
		t.Fatal(err)
	}
	shown("the journal", string(journal))
	for _, want := range []string{"{{sensitive:host.box1.token}}", "{{sensitive:host.box2.token}}"} {
		if !strings.Contains(string(journal), want) {
			t.Errorf("the journal lacks %s:\n%s", want, journal)
		}
	}
	if strings.Contains(string(journal), "host.box3.token") {
		t.Errorf("box3's token, box2's value, has a placeholder of its own:\n%s", journal)
	}

	stdout, stderr, code = e.run(t, "rollback", "-auto-approve", runID(t, stdout))
	if code != exitOK {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, stdout, stderr)
	}
	shown("rollback", stdout+stderr)
	for host, want := range map[string]string{"box1": "h0st-t0ken-one", "box2": "h0st-t0ken-two", "box3": "h0st-t0ken-two"} {
		got, err := os.ReadFile(filepath.Join(e.dir, "undo-"+host))
		if err != nil || string(got) != want {
			t.Errorf("%s's rollback had ECHO_TOKEN %q (%v), want its host's token %q", host, got, err, want)
		}
	}
}

// TestRollbackChecksLockFile: `fanout rollback` starts only the plugin
// binaries the lock file beside the run's configuration records, as apply
// does; a binary changed since is refused and nothing is rolled back.
func TestRollbackChecksLockFile(t *testing.T) {
	e := newPluginEnv(t, `
fanout {
  on_failure = "stop"
}
transport "echo" {
  greeting = "hi"
}
host "box" {
  transport = "echo"
  dir       = "DIR"
}
task "a" {
  run      = "true"
  rollback = "touch DIR/rolled-back"
}
task "b" {
  run = "exit 3"
}
`)
	bin := installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	if stdout, stderr, code := e.run(t, "plugins", "lock", "main.hcl"); code != 0 {
		t.Fatalf("plugins lock: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code := e.run(t, "apply", "main.hcl")
	if code != exitFailed {
		t.Fatalf("apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	id := runID(t, stdout)

	tamper(t, bin) // the binary changes under the lock
	stdout, stderr, code = e.run(t, "rollback", "-auto-approve", id)
	if code == exitOK || !strings.Contains(stderr, ".fanout.lock.hcl") || !strings.Contains(stderr, "nothing was rolled back") {
		t.Errorf("rollback with a binary that does not match the lock file: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "rolled-back")); err == nil {
		t.Error("the rollback ran through a binary that does not match the lock file")
	}
	e.assertNoLeftovers(t)
}

// TestRollbackRefusesAStaleRun: a run killed mid-way, then a later run of
// the same configuration that succeeded: rolling the first back would
// undo its tasks over what the second did, so `fanout rollback` refuses,
// naming the later run, and -force does it.
func TestRollbackRefusesAStaleRun(t *testing.T) {
	t.Parallel()
	dir, rec := workdir(t, `
variable "wait" {
  default = "30"
}
task "a" {
  run      = "REC start"
  rollback = "REC start"
}
task "b" {
  run = "REC start && sleep ${var.wait}"
}
`)
	stale := killedWhile(t, dir, rec, "b")
	// A run of another file of the directory is no later run of this
	// configuration.
	writeFile(t, dir, "other.hcl", "task \"x\" {\n  run      = \"true\"\n  rollback = \"true\"\n}\n")
	if r := fanout(t, dir, "apply", "other.hcl"); r.code != exitOK {
		t.Fatalf("other.hcl: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := fanout(t, dir, "rollback", "-dry-run", stale, "main.hcl"); r.code != exitOK {
		t.Errorf("rollback -dry-run after another file's run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	later := fanout(t, dir, "apply", "-var", "wait=0", "main.hcl")
	if later.code != exitOK {
		t.Fatalf("the later run: exit %d\n%s\n%s", later.code, later.stdout, later.stderr)
	}
	laterID := runID(t, later.stdout)

	r := fanout(t, dir, "rollback", "-auto-approve", stale)
	if r.code != exitUsage || !strings.Contains(r.stderr, laterID+" (succeeded) started after it") || !strings.Contains(r.stderr, "-force") {
		t.Errorf("rollback of the stale run: exit %d, want %d naming %s\n%s\n%s", r.code, exitUsage, laterID, r.stdout, r.stderr)
	}
	if got := order(rec.read(t), "rollback", "start"); len(got) != 0 {
		t.Fatalf("rolled back %v although refused", got)
	}
	r = fanout(t, dir, "rollback", "-auto-approve", "-force", stale)
	if got := order(rec.read(t), "rollback", "start"); r.code != exitOK || !slices.Equal(got, []string{"a"}) {
		t.Errorf("rollback -force: exit %d, rolled back %v, want a\n%s\n%s", r.code, got, r.stdout, r.stderr)
	}
}

// TestRollbackWithoutItsConfiguration: the journal's plan is what rolls
// back, so the configuration may be gone since the run; a sensitive
// variable the rollback needs is then taken from -var, -var-file or
// FANOUT_VAR_*
// (it was refused, the message blaming the variable although it was
// set), and without it the refusal says the configuration cannot be
// loaded.
func TestRollbackWithoutItsConfiguration(t *testing.T) {
	t.Parallel()
	dir, rec := workdir(t, `
variable "token" {
  type      = string
  sensitive = true
}
task "a" {
  run      = "REC start"
  rollback = "REC start; echo undo with ${var.token}"
}
task "b" {
  run = "REC start; sleep 30"
}
`)
	id := killedWhile(t, dir, rec, "b", "FANOUT_VAR_token=s3cret-tok")
	if err := os.Rename(filepath.Join(dir, "main.hcl"), filepath.Join(dir, "main.hcl.bak")); err != nil {
		t.Fatal(err)
	}
	r := fanout(t, dir, "rollback", "-auto-approve", id)
	if r.code == exitOK || !strings.Contains(r.stderr, "cannot be loaded now") || !strings.Contains(r.stderr, "var.token") {
		t.Errorf("without the value: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets.vars"), []byte("token = \"s3cret-tok\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = fanout(t, dir, "rollback", "-auto-approve", "-var-file", "secrets.vars", id)
	if got := order(rec.read(t), "rollback", "start"); r.code != exitOK || !slices.Equal(got, []string{"a"}) {
		t.Errorf("with -var-file: exit %d, rolled back %v\n%s%s", r.code, got, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cret-tok") {
		t.Errorf("the sensitive value was shown:\n%s%s", r.stdout, r.stderr)
	}
}

// TestSuggestedCommandsNameTheConfiguration: a run of a configuration
// outside the current directory suggests commands that name it, quoted for
// the shell, and the suggestion works as printed: `fanout rollback ID`
// alone would look in the current directory's journal.
func TestSuggestedCommandsNameTheConfiguration(t *testing.T) {
	parent := t.TempDir()
	sub := filepath.Join(parent, "it's here")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	hcl := "task \"a\" {\n  run      = \"exit 3\"\n  rollback = \"exit 4\"\n}\n"
	if err := os.WriteFile(filepath.Join(sub, "x.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	r := fanout(t, parent, "apply", "it's here/x.hcl")
	m := regexp.MustCompile(`run "(fanout rollback [^"]+)" to try their rollback again`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no rollback suggested:\n%s\n%s", r.stdout, r.stderr)
	}
	id := runID(t, r.stdout)
	if want := "fanout rollback " + id + ` 'it'\''s here/x.hcl'`; m[1] != want {
		t.Errorf("suggested %q, want %q", m[1], want)
	}
	sh := exec.Command("/bin/sh", "-c", strings.Replace(m[1], "fanout", shellquote.Quote(fanoutBin), 1)+" -dry-run")
	sh.Dir = parent
	out, err := sh.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Run "+id) || !strings.Contains(string(out), "$ exit 4") {
		t.Errorf("the suggestion, run as printed with -dry-run: %v\n%s", err, out)
	}
}

// TestRollbackPlanShowsEachHostsCommands: the plan fanout rollback asks
// approval for shows the commands each host will run when they differ
// (target.*), not the first host's for all.
func TestRollbackPlanShowsEachHostsCommands(t *testing.T) {
	dir, _ := workdir(t, localHosts(3)+`
task "a" {
  run      = "true"
  rollback = "echo undo ${target.name} >> undone; [ ${target.name} = h3 ]"
}
task "b" {
  run = "exit 3"
}
`)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != exitNotRolledBack {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	id := runID(t, r.stdout)
	plan := fanout(t, dir, "rollback", "-dry-run", id, "main.hcl")
	want := "  1. task a on h1, h2 (at most 3 at once)\n" +
		"       on h1:\n         $ echo undo h1 >> undone; [ h1 = h3 ]\n" +
		"       on h2:\n         $ echo undo h2 >> undone; [ h2 = h3 ]\n" +
		"       rolled back already on h3: skipped there\n"
	if !strings.Contains(plan.stdout, want) {
		t.Errorf("rollback -dry-run lacks\n%s\n%s\n%s", want, plan.stdout, plan.stderr)
	}
}

package ssh

import (
	"bufio"
	"errors"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk"
)

// watchShells are the shells a host's /bin/sh may be: dash (Debian's),
// bash (/bin/sh on Red Hat's systems) and busybox's ash (Alpine's, in
// many containers). `make test-deps` installs busybox.
var watchShells = [][]string{{"dash"}, {"bash"}, {"busybox", "sh"}}

// TestWatchScriptShells runs the remote wrapper (watchScript) under each
// shell as sshd would (its own session and process group, the session's
// input on stdin) without a server, so that shells no test server runs
// as /bin/sh are covered: a command's exit status and output, `wait` for
// its own jobs only, a signal on the control line stopping the command's
// whole process group, and the end of the control line (the connection
// dropped) stopping a command that still runs.
func TestWatchScriptShells(t *testing.T) {
	t.Parallel()
	for _, sh := range watchShells {
		t.Run(sh[0], func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath(sh[0]); err != nil {
				t.Skipf("%s is not installed (make test-deps installs busybox)", sh[0])
			}
			t.Run("exit status and output", func(t *testing.T) {
				w := startWatched(t, sh, "echo out; exit 3")
				out, st := w.wait(t)
				w.closeInput()
				if out != "out\n" || st.ExitStatus() != 3 {
					t.Errorf("stdout %q, status %v; want \"out\\n\", exit 3", out, st)
				}
			})
			t.Run("wait for its own jobs", func(t *testing.T) {
				start := time.Now()
				w := startWatched(t, sh, "sleep 0.2 & sleep 0.1 & wait; echo waited")
				out, st := w.wait(t) // the control line still open, as over SSH
				w.closeInput()
				if out != "waited\n" || st.ExitStatus() != 0 {
					t.Errorf("stdout %q, status %v; want \"waited\\n\", exit 0", out, st)
				}
				if took := time.Since(start); took > loadedMargin {
					t.Errorf("took %s: wait waited for the watcher", took)
				}
			})
			t.Run("TERM on the control line", func(t *testing.T) {
				w := startWatched(t, sh, "sleep 1000 & echo ready; wait")
				w.awaitLine(t, "ready")
				w.send(t, "TERM")
				out, st := w.wait(t)
				w.closeInput()
				if out != "ready\n" || !st.Signaled() || st.Signal() != syscall.SIGTERM {
					t.Errorf("stdout %q, status %v; want ended by TERM", out, st)
				}
				w.wantGroupGone(t)
			})
			t.Run("control line closed while it runs", func(t *testing.T) {
				w := startWatched(t, sh, "echo ready; sleep 1000")
				w.awaitLine(t, "ready")
				w.closeInput()
				if _, st := w.wait(t); !st.Signaled() || st.Signal() != syscall.SIGTERM {
					t.Errorf("status %v; want ended by TERM", st)
				}
				w.wantGroupGone(t)
			})
		})
	}
}

// loginShells are shells a user's login shell may be, which sshd runs as
// `SHELL -c COMMAND` to start every session: the exec request must mean the
// same in each. `make test-deps` installs those Debian has but does not
// install by default.
var loginShells = [][]string{{"bash"}, {"dash"}, {"zsh"}, {"mksh"}, {"tcsh"}, {"fish"}, {"busybox", "sh"}}

// TestRemoteCommandLoginShells runs the exec request's command
// (remoteCommand) as sshd does, under each login shell, and checks that a
// command reaches the host's /bin/sh intact: several lines, an exported
// value with a quote, `!`, `$` and a backslash, its stdout, stderr and exit
// status. tcsh refused a newline within single quotes (its "Unmatched"),
// which failed every command of a user whose login shell it is, and fish
// reads two backslashes within single quotes as one.
func TestRemoteCommandLoginShells(t *testing.T) {
	t.Parallel()
	const command = "if true\nthen printf '%s\\n' \"$X\" '!x' \\$HOME 'a\\\\b'\nfi\necho err >&2; exit 3"
	const want = "\037fanout:n:w\na'b\n!x\n$HOME\na\\\\b\n"
	for _, sh := range loginShells {
		t.Run(sh[0], func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath(sh[0]); err != nil {
				t.Skipf("%s is not installed (make test-deps installs it)", sh[0])
			}
			cmd := exec.Command(sh[0], append(sh[1:], "-c", remoteCommand)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			// The control line stays open while the command runs, as over
			// SSH, until the shell has ended.
			req := &sdk.ExecRequest{Command: command, Env: map[string]string{"X": "a'b"}}
			if _, err := in.Write(input(script(req, "n"))); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				_ = cmd.Wait() // its status is ProcessState's
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(loadedMargin):
				t.Fatalf("the shell did not end within %s", loadedMargin)
			}
			_ = in.Close()
			if code := cmd.ProcessState.ExitCode(); stdout.String() != want || stderr.String() != "err\n" || code != 3 {
				t.Errorf("stdout %q, stderr %q, exit %d; want %q, \"err\\n\", exit 3", stdout.String(), stderr.String(), code, want)
			}
		})
	}
}

// watched is watchScript running command under a shell.
type watched struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	lines strings.Builder
}

func startWatched(t *testing.T, sh []string, command string) *watched {
	t.Helper()
	args := append(sh[1:], "-c", `eval "$1"`, "fanout", watchScript)
	cmd := exec.Command(sh[0], args...)
	// sshd makes the session's process the leader of a new session.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watched{cmd: cmd, in: in, out: bufio.NewReader(outPipe)}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever a failed test left
		_ = in.Close()
		_ = cmd.Wait()
	})
	if _, err := in.Write(input(script(&sdk.ExecRequest{Command: command}, "n"))); err != nil {
		t.Fatal(err)
	}
	// The script's first output says it runs (progress.ran).
	w.awaitLine(t, "\037fanout:n:w")
	w.lines.Reset()
	return w
}

// awaitLine reads stdout up to line, bounded by loadedMargin.
func (w *watched) awaitLine(t *testing.T, line string) {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		l, _ := w.out.ReadString('\n')
		got <- l
	}()
	select {
	case l := <-got:
		w.lines.WriteString(l)
		if l != line+"\n" {
			t.Fatalf("stdout line %q, want %q", l, line)
		}
	case <-time.After(loadedMargin):
		t.Fatalf("no %q within %s", line, loadedMargin)
	}
}

func (w *watched) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(w.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func (w *watched) closeInput() { _ = w.in.Close() }

// wait returns the rest of stdout (after what awaitLine read) with the
// shell's wait status, bounded by loadedMargin.
func (w *watched) wait(t *testing.T) (string, syscall.WaitStatus) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		rest, _ := io.ReadAll(w.out)
		w.lines.Write(rest)
		done <- w.cmd.Wait()
	}()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return w.lines.String(), w.cmd.ProcessState.Sys().(syscall.WaitStatus)
	case <-time.After(loadedMargin):
		t.Fatalf("the shell did not end within %s", loadedMargin)
		return "", 0
	}
}

// wantGroupGone fails t unless every process of the shell's group (the
// command's background jobs, the watcher) has ended: the watcher's TERM,
// then KILL 2 s later, leave none.
func (w *watched) wantGroupGone(t *testing.T) {
	t.Helper()
	pgid := w.cmd.Process.Pid
	deadline := time.Now().Add(loadedMargin)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has processes after %s", pgid, loadedMargin)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

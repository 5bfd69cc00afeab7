package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"
)

// ptyOutput collects what the pseudo-terminal shows, for polling.
type ptyOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *ptyOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *ptyOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startOnPTY starts cmd on a new pseudo-terminal of 40x120, as an operator
// runs fanout. out collects what the terminal shows; copied closes once the
// terminal has no more to show; exited receives cmd.Wait's error.
func startOnPTY(t *testing.T, cmd *exec.Cmd) (tty *os.File, out *ptyOutput, copied <-chan struct{}, exited <-chan error) {
	t.Helper()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	out = &ptyOutput{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = bufCopy(out, tty)
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	return tty, out, done, waited
}

// waitPTYExit waits up to limit for cmd, started by startOnPTY, to exit and
// returns cmd.Wait's error. Past limit it kills cmd and fails the test with
// format and args; pass out itself, not out.String(), to show what the
// terminal held when the test gave up.
func waitPTYExit(t *testing.T, cmd *exec.Cmd, exited <-chan error, limit time.Duration, format string, args ...any) error {
	t.Helper()
	select {
	case err := <-exited:
		return err
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		_ = <-exited // killed: its error says only that
		t.Fatalf(format, args...)
		return nil
	}
}

// waitPTYShows waits up to limit for the terminal to show text (a prompt,
// say). Past limit it kills cmd and fails the test as waitPTYExit does.
func waitPTYShows(t *testing.T, cmd *exec.Cmd, exited <-chan error, out *ptyOutput, text string, limit time.Duration, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(out.String(), text) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), text) {
		_ = cmd.Process.Kill()
		_ = <-exited // killed: its error says only that
		t.Fatalf(format, args...)
	}
}

// closePTY reads what fanout wrote to the terminal to its end, then closes
// it. The copy ends by itself once every process holding the terminal has
// exited; closing it first would lose what the last write left unread.
func closePTY(tty *os.File, copied <-chan struct{}) {
	select {
	case <-copied:
	case <-time.After(10 * time.Second): // a process still holds it
	}
	_ = tty.Close()
	<-copied
}

// TestTerminalProgressAndCtrlC runs fanout on a pseudo-terminal as an
// operator would: the live status line shows, and Ctrl-C typed at the
// terminal (the tty sends SIGINT to the whole foreground process group,
// plugin processes included) interrupts, rolls back and exits 130.
func TestTerminalProgressAndCtrlC(t *testing.T) {
	hcl := sleepTask("done", "0", "") + sleepTask("slow", "30", "") + sleepTask("after", "0", "")
	dir, rec := workdir(t, hcl)
	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NO_COLOR=") }), "TERM=xterm")
	tty, out, copied, exited := startOnPTY(t, cmd)
	defer func() { _ = tty.Close() }() // fanout has ended, or the test failed

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), "running · 0 failed") && slices.Contains(order(rec.read(t), "run", "start"), "slow") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "1 running · 0 failed · 1 pending of 3") {
		_ = cmd.Process.Kill()
		t.Fatalf("no status line while slow runs:\n%q", out.String())
	}
	if !strings.Contains(out.String(), "\x1b[") {
		t.Errorf("no colour on a terminal without NO_COLOR")
	}

	if _, err := tty.Write([]byte{0x03}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	err := waitPTYExit(t, cmd, exited, 30*time.Second, "fanout did not stop after Ctrl-C:\n%s", out)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("exit: %v, want %d\n%s", err, exitInterrupted, out.String())
	}
	closePTY(tty, copied)

	recs := rec.read(t)
	if slices.Contains(order(recs, "run", "start"), "after") {
		t.Error("work started after Ctrl-C")
	}
	if diff := cmp.Diff([]string{"slow", "done"}, order(recs, "rollback", "start")); diff != "" {
		t.Errorf("rolled back (-want +got):\n%s", diff)
	}
	got := out.String()
	if !strings.Contains(got, "was interrupted") {
		t.Errorf("the recap does not say the run was interrupted:\n%s", got)
	}
	// The last status line was cleared before the recap, and none was
	// drawn after it.
	clear := strings.LastIndex(got, "\r\x1b[K")
	if clear < 0 || !strings.Contains(got[:clear], " of 3 · ") || strings.Contains(got[clear:], " of 3 · ") || !strings.Contains(got[clear:], "Failures:") {
		t.Errorf("status line not cleared cleanly before the recap:\n%q", got[max(clear-200, 0):])
	}
}

// bufCopy copies until the pty reports an error, which is how a Linux pty
// says its other side closed (EIO).
func bufCopy(dst *ptyOutput, src *os.File) (int64, error) {
	var n int64
	buf := make([]byte, 4096)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			_, _ = dst.Write(buf[:k])
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// TestDumbTerminal: on a terminal whose TERM is dumb (Emacs' shell, some
// CI consoles), fanout writes no escape sequence of its own: no colors,
// no status line redrawn in place; a command's control characters are
// still shown escaped.
func TestDumbTerminal(t *testing.T) {
	dir, _ := workdir(t, `
task "a" {
  run = ["printf 'bell\\a\\n'", "sleep 1.5"]
}
`)
	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TERM=")
	}), "TERM=dumb")
	tty, out, copied, exited := startOnPTY(t, cmd)
	defer func() { _ = tty.Close() }()
	if err := waitPTYExit(t, cmd, exited, 30*time.Second, "fanout did not end:\n%s", out); err != nil {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	closePTY(tty, copied)
	got := out.String()
	if strings.Contains(got, "\x1b") {
		t.Errorf("an escape sequence on a dumb terminal:\n%q", got)
	}
	if !strings.Contains(got, "bell^G") {
		t.Errorf("the command's BEL is not shown escaped:\n%q", got)
	}
}

//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"bufio"
	"context"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// echoSeen records, as each piece of a question is written, whether the
// terminal echoes what is typed.
type echoSeen struct {
	fd     int
	echoed []bool
}

func (w *echoSeen) Write(p []byte) (int, error) {
	st, err := unix.IoctlGetTermios(w.fd, ioctlGetTermios)
	if err == nil {
		w.echoed = append(w.echoed, st.Lflag&unix.ECHO != 0)
	}
	return len(p), err
}

// TestSecretQuestionShownWithEchoOff: by the time a secret's question is
// on the screen, the terminal no longer echoes, so an answer typed at once
// after it (a test waiting for the question does that) is not shown; and
// echo is back on once the answer is read.
func TestSecretQuestionShownWithEchoOff(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer func() { _ = ptmx.Close(); _ = tty.Close() }() // test's own terminal
	fd := int(tty.Fd())
	w := &echoSeen{fd: fd}
	tm := &terminal{fd: fd, out: w, r: bufio.NewReader(tty)}
	tm.readHidden = func() (string, error) {
		b, err := term.ReadPassword(fd)
		return string(b), err
	}
	if _, err := ptmx.Write([]byte("hunter22\n")); err != nil {
		t.Fatal(err)
	}
	pw, err := tm.ask(context.Background(), "Enter passphrase: ", true)
	if err != nil || pw != "hunter22" {
		t.Fatalf("secret = %q, %v", pw, err)
	}
	if len(w.echoed) == 0 || w.echoed[0] {
		t.Errorf("echo on the terminal as each piece of the question was written: %v, want off from the first", w.echoed)
	}
	st, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		t.Fatal(err)
	}
	if st.Lflag&unix.ECHO == 0 {
		t.Error("echo still off after the answer was read")
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/sdk"
)

// terminal asks the operator every question fanout has, on the terminal it
// runs on: a variable's value (terminalPrompt), an approval
// (terminalConfirm), a transport's question or sudo's password
// (terminalInput). There is one per process, with one reader for all of
// them, so that a line typed ahead for the next question is kept for it,
// and one question at a time. Transports never read the terminal
// themselves: they run in their own process group, where reading it would
// stop them.
type terminal struct {
	fd  int // -1 when in is no terminal (tests)
	out io.Writer

	mu sync.Mutex // one question at a time; guards r
	r  *bufio.Reader
	// readHidden reads a line with echo off: term.ReadPassword, which reads
	// a byte at a time, so that nothing typed after the line is lost.
	readHidden func() (string, error)
}

// newTerminal returns the terminal of standard input, or nil when standard
// input is not one: then nobody can be asked, and what needs an answer
// fails with advice instead of waiting for one.
func newTerminal(out io.Writer) *terminal {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	return &terminal{fd: fd, out: out, r: bufio.NewReader(os.Stdin), readHidden: func() (string, error) {
		b, err := term.ReadPassword(fd)
		return string(b), err
	}}
}

// ask writes question and reads one line, without echo when secret.
// Cancelling ctx (Ctrl-C twice) abandons the question and puts the
// terminal back as it was; the read is left behind, and ends with the
// process.
func (t *terminal) ask(ctx context.Context, question string, secret bool) (string, error) {
	t.mu.Lock()
	var state *term.State
	if t.fd >= 0 {
		var err error
		if state, err = term.GetState(t.fd); err != nil {
			t.mu.Unlock()
			return "", fmt.Errorf("read the terminal: %w", err)
		}
	}
	if secret && state != nil {
		if err := echoOff(t.fd); err != nil {
			t.mu.Unlock()
			return "", fmt.Errorf("turn the terminal's echo off: %w", err)
		}
	}
	printf(t.out, "%s", question)
	type answer struct {
		s   string
		err error
	}
	got := make(chan answer, 1)
	go func() {
		defer t.mu.Unlock() // after the read, even one ctx gave up on
		var a answer
		if secret {
			a.s, a.err = t.hidden()
			if state != nil {
				_ = term.Restore(t.fd, state) // echo back on, as before the question
			}
			printf(t.out, "\n") // the Enter typed was not echoed
		} else {
			a.s, a.err = t.line()
		}
		got <- a
	}()
	select {
	case a := <-got:
		if a.err != nil {
			return "", fmt.Errorf("read the terminal: %w", a.err)
		}
		return a.s, nil
	case <-ctx.Done():
		if state != nil {
			_ = term.Restore(t.fd, state)
		}
		printf(t.out, "\n")
		return "", ctx.Err()
	}
}

// line reads one line, without its end; a last line without one counts.
func (t *terminal) line() (string, error) {
	s, err := t.r.ReadString('\n')
	if err != nil && (s == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// hidden reads a line without echo. A line the reader holds already was
// typed ahead, and echoed then: it is the answer, not lost.
func (t *terminal) hidden() (string, error) {
	if t.r.Buffered() > 0 {
		return t.line()
	}
	return t.readHidden()
}

// terminalPrompt asks for a variable as Terraform does: its name and
// description, then "Enter a value:"; a sensitive one is not echoed.
func terminalPrompt(t *terminal) func(*config.Variable) (string, error) {
	return func(v *config.Variable) (string, error) {
		var q strings.Builder
		fmt.Fprintf(&q, "var.%s\n", v.Name)
		if v.Description != "" {
			fmt.Fprintf(&q, "  %s\n", v.Description)
		}
		q.WriteString("\n  Enter a value: ")
		answer, err := t.ask(context.Background(), q.String(), v.Sensitive)
		if err == nil && !v.Sensitive {
			printf(t.out, "\n")
		}
		return answer, err
	}
}

// terminalConfirm asks a question as Terraform does before it changes
// anything: the question, then "Enter a value:", and the line typed.
func terminalConfirm(t *terminal) func(context.Context, string) (string, error) {
	return func(ctx context.Context, question string) (string, error) {
		answer, err := t.ask(ctx, "\n"+question+"\n\n  Enter a value: ", false)
		if err != nil {
			return "", err
		}
		printf(t.out, "\n")
		return strings.TrimSpace(answer), nil
	}
}

// terminalInput answers transports' questions (a key's passphrase) and
// sudo's password on the terminal, while the view holds its live lines.
type terminalInput struct {
	t    *terminal
	view views.Apply
	// redact hides a secret answer in whatever the view shows after it.
	redact *views.Redactor
}

var _ core.Input = (*terminalInput)(nil)

// newInput returns the terminal input, or nil when standard input is not a
// terminal: then nobody can be asked, and hosts that need an answer fail
// with the transport's advice instead of waiting for one.
func newInput(s *streams, view views.Apply, redact *views.Redactor) core.Input {
	if s.term == nil {
		return nil
	}
	return &terminalInput{t: s.term, view: view, redact: redact}
}

// Ask shows the prompt and reads one line, without echo for a secret,
// which the view hides from then on (the redactor's rule decides whether
// it is long enough to).
func (in *terminalInput) Ask(ctx context.Context, p sdk.Prompt) (string, error) {
	resume := in.view.Hold()
	defer resume()
	answer, err := in.t.ask(ctx, p.Text, p.Secret)
	if err == nil && p.Secret {
		in.redact.Hide(answer)
	}
	return answer, err
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/sdk"
)

// terminalInput answers transports' questions (a key's passphrase) on the
// terminal fanout runs on. Transports never read the terminal themselves:
// they run in their own process group, where reading it would stop them.
type terminalInput struct {
	in   *os.File
	out  io.Writer
	view views.Apply
}

var _ core.Input = (*terminalInput)(nil)

// newInput returns the terminal input, or nil when standard input is not a
// terminal: then nobody can be asked, and hosts that need an answer fail
// with the transport's advice instead of waiting for one.
func newInput(s *streams, view views.Apply) core.Input {
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil
	}
	return &terminalInput{in: os.Stdin, out: s.Err, view: view}
}

// Ask shows the prompt and reads one line, without echo for a secret.
// Cancelling ctx (Ctrl-C twice) abandons the question and puts the
// terminal back as it was.
func (t *terminalInput) Ask(ctx context.Context, p sdk.Prompt) (string, error) {
	resume := t.view.Hold()
	defer resume()
	fd := int(t.in.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("read the terminal: %w", err)
	}
	printf(t.out, "%s", p.Text)

	type answer struct {
		s   string
		err error
	}
	// The read cannot be interrupted; it is left behind if ctx wins, and
	// ends with the process.
	got := make(chan answer, 1)
	go func() {
		var a answer
		if p.Secret {
			var b []byte
			b, a.err = term.ReadPassword(fd)
			a.s = string(b)
			printf(t.out, "\n")
		} else {
			a.s, a.err = bufio.NewReader(t.in).ReadString('\n')
			a.s = strings.TrimRight(a.s, "\r\n")
		}
		got <- a
	}()
	select {
	case a := <-got:
		if a.err != nil && !(errors.Is(a.err, io.EOF) && a.s != "") {
			return "", fmt.Errorf("read the terminal: %w", a.err)
		}
		return a.s, nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		printf(t.out, "\n")
		return "", ctx.Err()
	}
}

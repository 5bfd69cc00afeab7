package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/config"
)

func TestPromptForMissingVariables(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(path, []byte(varsConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	var asked []string
	s := &streams{Out: &bytes.Buffer{}, Err: &errb, Prompt: func(v *config.Variable) (string, error) {
		asked = append(asked, v.Name)
		return "typed", nil
	}}
	c := &arguments.Common{Path: path}
	cfg, ok := newLoader(s, c).load(c)
	if !ok {
		t.Fatalf("load failed:\n%s", errb.String())
	}
	if strings.Join(asked, ",") != "who" {
		t.Errorf("asked for %v, want only the required variable who", asked)
	}
	if got := cfg.Variables[0].Value.AsString(); got != "typed" {
		t.Errorf("who = %q, want the typed value", got)
	}

	// A failed prompt (end of input) leaves the error.
	s.Prompt = func(*config.Variable) (string, error) { return "", errors.New("EOF") }
	errb.Reset()
	if _, ok := newLoader(s, c).load(c); ok || !strings.Contains(errb.String(), "No value for required variable") {
		t.Errorf("load ok=%v\n%s", ok, errb.String())
	}
}

// testTerminal is a terminal reading in, which hidden lines come from
// too, writing to w.
func testTerminal(in io.Reader, w io.Writer) *terminal {
	t := &terminal{fd: -1, out: w, r: bufio.NewReader(in)}
	t.readHidden = t.line
	return t
}

func TestTerminalPrompt(t *testing.T) {
	var w bytes.Buffer
	prompt := terminalPrompt(testTerminal(strings.NewReader("web\n"), &w))
	got, err := prompt(&config.Variable{Name: "who", Description: "Who deploys."})
	if err != nil || got != "web" {
		t.Fatalf("prompt = %q, %v", got, err)
	}
	if want := "var.who\n  Who deploys.\n\n  Enter a value: \n"; w.String() != want {
		t.Errorf("prompt wrote %q, want %q", w.String(), want)
	}
}

// TestTerminalTypeAhead: lines typed ahead, read at once, answer the
// questions that follow in turn, whichever asks them: a variable, an
// approval, a transport's or sudo's secret.
func TestTerminalTypeAhead(t *testing.T) {
	var w bytes.Buffer
	term := testTerminal(strings.NewReader("web\nyes\nhunter22\n"), &w)
	hidden := 0
	term.readHidden = func() (string, error) { hidden++; return "", io.EOF }
	v, err := terminalPrompt(term)(&config.Variable{Name: "who"})
	if err != nil || v != "web" {
		t.Fatalf("variable = %q, %v", v, err)
	}
	yes, err := terminalConfirm(term)(context.Background(), "Go on?")
	if err != nil || yes != "yes" {
		t.Fatalf("approval = %q, %v", yes, err)
	}
	pw, err := term.ask(context.Background(), "sudo password: ", true)
	if err != nil || pw != "hunter22" || hidden != 0 {
		t.Fatalf("secret = %q, %v (read from the terminal %d times): the line typed ahead is lost", pw, err, hidden)
	}
}

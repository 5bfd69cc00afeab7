package main

import (
	"bufio"
	"bytes"
	"errors"
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

func TestTerminalPrompt(t *testing.T) {
	var w bytes.Buffer
	prompt := terminalPrompt(bufio.NewReader(strings.NewReader("web\n")), -1, &w)
	got, err := prompt(&config.Variable{Name: "who", Description: "Who deploys."})
	if err != nil || got != "web" {
		t.Fatalf("prompt = %q, %v", got, err)
	}
	if want := "var.who\n  Who deploys.\n\n  Enter a value: \n"; w.String() != want {
		t.Errorf("prompt wrote %q, want %q", w.String(), want)
	}
}

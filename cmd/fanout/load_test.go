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

// TestFileAboveTheConfiguration: a configuration reading an inventory and
// an upload source beside its directory ("../") loads alike from its own
// directory, from its parent, and by an absolute path from elsewhere: from
// its own directory, file("../x") was refused as leaving "the directory
// fanout reads the configuration from".
func TestFileAboveTheConfiguration(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"dist", "deploy"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, root, "inventory.yml", "web: [a, b]\n")
	writeFile(t, filepath.Join(root, "dist"), "app.tgz", "tgz")
	writeFile(t, filepath.Join(root, "deploy"), "main.hcl", `
host "h" {
  for_each  = toset(yamldecode(file("../inventory.yml")).web)
  transport = "local"
}
task "deploy" {
  upload {
    source      = "../dist/app.tgz"
    destination = "/tmp/app.tgz"
  }
  run = "true"
}
`)
	for _, tt := range []struct{ dir, path, source string }{
		{filepath.Join(root, "deploy"), "main.hcl", "../dist/app.tgz"},
		{root, "deploy/main.hcl", "dist/app.tgz"},
		// Elsewhere, two levels up at most: relative still.
		{t.TempDir(), filepath.Join(root, "deploy", "main.hcl"), "../" + filepath.Base(root) + "/dist/app.tgz"},
	} {
		r := fanout(t, tt.dir, "plan", tt.path)
		if r.code != 0 || !strings.Contains(r.stdout, "upload    "+tt.source+" (3 B)") || !strings.Contains(r.stdout, "2 runs on 2 hosts") {
			t.Errorf("plan %s from %s: exit %d\n%s%s", tt.path, tt.dir, r.code, r.stdout, r.stderr)
		}
	}
}

// TestPlanFoldsHostValues: a task whose commands differ on every one of
// 300 hosts (target.vars) shows a few and counts the rest, where its plan
// was thousands of lines; -json keeps every host's.
func TestPlanFoldsHostValues(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `
host "h" {
  for_each  = hostrange("h[1-300]")
  transport = "local"
  vars      = { dir = "/srv/${each.key}" }
}
task "deploy" {
  run      = "ls ${target.vars.dir}"
  rollback = "echo undo ${target.vars.dir}"
}
`)
	r := fanout(t, dir, "plan", "main.hcl")
	if r.code != 0 || !strings.Contains(r.stdout, "run       ls /srv/h3") || strings.Contains(r.stdout, "ls /srv/h4\n") ||
		!strings.Contains(r.stdout, "... and 297 more hosts, each with values of its own (target.*)") || strings.Count(r.stdout, "\n") > 60 {
		t.Errorf("plan: exit %d, %d lines\n%s", r.code, strings.Count(r.stdout, "\n"), r.stdout)
	}
	j := fanout(t, dir, "plan", "-json", "main.hcl")
	if j.code != 0 || !strings.Contains(j.stdout, `"ls /srv/h300"`) {
		t.Errorf("plan -json lacks a host's own values: exit %d", j.code)
	}
}

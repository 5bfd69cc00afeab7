package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedactionSparesLabelsAndShortValues: a sensitive value too short to
// be a secret is shown as it is, and a sensitive value that is part of a
// host's or a task's name does not cut into that name; both still hide
// the values where commands print them, in the text and JSON output.
func TestRedactionSparesLabelsAndShortValues(t *testing.T) {
	const hcl = `
variable "pin" {
  type      = string
  sensitive = true
  default   = "o"
}
variable "word" {
  type      = string
  sensitive = true
  default   = "host"
}
task "hostname_check" {
  run      = "echo pin=${var.pin} word=${var.word}; exit 3"
}
`
	dir, _ := workdir(t, hcl)
	for _, args := range [][]string{{"apply", "main.hcl"}, {"apply", "-json", "main.hcl"}, {"plan", "main.hcl"}} {
		t.Run(strings.Join(args[:len(args)-1], " "), func(t *testing.T) {
			r := fanout(t, dir, args...)
			out := r.stdout + r.stderr
			for _, bad := range []string{"l(sensitive)calh", "local(sensitive)", "(sensitive)name_check", "on (sensitive)", "word=host"} {
				if strings.Contains(out, bad) {
					t.Errorf("output holds %q:\n%s", bad, out)
				}
			}
			want := []string{"pin=o word=(sensitive)"}
			if args[1] != "-json" && args[0] == "apply" {
				want = append(want, `task "hostname_check" failed on host "localhost": exit 3`)
			}
			if args[0] == "plan" {
				want = []string{"localhost", "hostname_check", "pin=o word=(sensitive)"}
			}
			wantInOutput(t, out, out, want)
		})
	}
	// The journal keeps the short value (there is nothing to hide) and
	// hides the other.
	files, _ := filepath.Glob(filepath.Join(dir, ".fanout", "runs", "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("no journal")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "sensitive:var.pin") || !strings.Contains(string(b), "sensitive:var.word") {
			t.Errorf("journal:\n%s", b)
		}
	}
}

// TestRollbackCommandHidesSecrets: `fanout rollback` gives the rollback
// commands their sensitive values back, and hides them in what it shows,
// as apply does.
func TestRollbackCommandHidesSecrets(t *testing.T) {
	dir, _ := workdir(t, `
fanout {
  on_failure = "stop"
}
variable "token" {
  type      = string
  sensitive = true
  default   = "tok-5e4d3c2b1a"
}
task "a" {
  run      = "true"
  rollback = "echo undo with ${var.token}"
}
task "b" {
  run = "exit 3"
}
`)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	rb := fanout(t, dir, "rollback", "-auto-approve", runID(t, r.stdout))
	if rb.code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", rb.code, rb.stdout, rb.stderr)
	}
	if strings.Contains(rb.stdout+rb.stderr, "tok-5e4d3c2b1a") {
		t.Errorf("the rollback shows the sensitive value:\n%s\n%s", rb.stdout, rb.stderr)
	}
	if !strings.Contains(rb.stdout, "undo with (sensitive)") {
		t.Errorf("the rollback's output is missing:\n%s", rb.stdout)
	}
}

// TestDerivedSecretsHidden: a value a function computes from a sensitive
// variable (base64encode, substr, upper through a local, a host's vars)
// is hidden as the variable's value is: in plan's text and JSON, in
// apply's output, in the journal, which names it by a placeholder that
// `fanout rollback` fills again.
func TestDerivedSecretsHidden(t *testing.T) {
	dir, _ := workdir(t, `
fanout {
  on_failure = "stop"
}
variable "token" {
  sensitive = true
  default   = "s3cr3t-token"
}
locals {
  up = upper(var.token)
}
host "web1" {
  transport = "local"
  vars      = { enc = base64encode(var.token) }
}
task "a" {
  run      = ["echo b64=${base64encode(var.token)}", "echo sub=${substr(var.token, 0, 6)}", "echo up=$UP"]
  env      = { UP = local.up }
  rollback = "echo undo=${base64encode(var.token)} > undo.txt"
}
task "b" {
  run = "exit 3"
}
`)
	leaks := []string{"czNjcjN0LXRva2Vu", "s3cr3t", "S3CR3T"}
	noLeak := func(what, out string) {
		t.Helper()
		for _, s := range leaks {
			if strings.Contains(out, s) {
				t.Errorf("%s shows %q:\n%s", what, s, out)
			}
		}
	}
	for _, args := range [][]string{{"plan"}, {"plan", "-json"}, {"apply", "-json"}, {"apply"}} {
		r := fanout(t, dir, append(args, "main.hcl")...)
		noLeak(strings.Join(args, " "), r.stdout+r.stderr)
		if args[0] == "plan" && !strings.Contains(r.stdout, "b64=(sensitive)") {
			t.Errorf("%s: no redacted command:\n%s", strings.Join(args, " "), r.stdout)
		}
		if len(args) == 1 && args[0] == "apply" {
			wantInOutput(t, r.stdout, r.stdout, []string{"b64=(sensitive)", "sub=(sensitive)", "up=(sensitive)"})
			rb := fanout(t, dir, "rollback", "-auto-approve", runID(t, r.stdout))
			noLeak("rollback", rb.stdout+rb.stderr)
			if rb.code != 0 {
				t.Fatalf("rollback: exit %d\n%s\n%s", rb.code, rb.stdout, rb.stderr)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, ".fanout", "runs", "*.jsonl"))
	if len(files) < 2 {
		t.Fatalf("journals: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		noLeak("journal "+f, string(b))
	}
	// The rollback ran the command with the value filled back.
	if b, err := os.ReadFile(filepath.Join(dir, "undo.txt")); err != nil || string(b) != "undo=czNjcjN0LXRva2Vu\n" {
		t.Errorf("the rollback wrote %q (%v)", b, err)
	}
}

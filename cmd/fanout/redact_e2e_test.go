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

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests run the real binary on what a new user, or a hostile file,
// gives it: selections that overlap, nodesets, files built to exhaust the
// parser, and values the shell cannot run.

// TestSelectedTaskRunsOnce: naming a group and one of its tasks runs the
// task once, rolls it back once, and plan, recap and journal say so.
func TestSelectedTaskRunsOnce(t *testing.T) {
	dir, rec := workdir(t, sleepTask("a", "0", "")+sleepTask("b", "0", "")+`
parallelize "g" {
  tasks = [task.a, task.b]
}
task "boom" {
  run = "exit 3"
}
`)
	r := fanout(t, dir, "plan", "main.hcl", "g", "a", "boom")
	if r.code != 0 || strings.Count(r.stdout, `task "a"`) != 1 || !strings.Contains(r.stdout, "3 runs on 1 host") {
		t.Errorf("plan g a boom: exit %d, want task a listed once in 3 runs:\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = fanout(t, dir, "apply", "main.hcl", "g", "a", "boom")
	if r.code != 1 {
		t.Fatalf("apply: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	var runs, rollbacks int
	for _, x := range rec.read(t) {
		if x.task == "a" && x.kind == "start" {
			switch x.phase {
			case "run":
				runs++
			case "rollback":
				rollbacks++
			}
		}
	}
	if runs != 1 || rollbacks != 1 {
		t.Errorf("task a ran %d times and was rolled back %d times, want once each", runs, rollbacks)
	}
	if !strings.Contains(r.stdout, "3 runs on 1 host") || !regexp.MustCompile(`Rolled back, in order: (a, b|b, a)\.`).MatchString(r.stdout) {
		t.Errorf("apply output:\n%s", r.stdout)
	}
	journal, err := os.ReadFile(journalOf(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(journal), `"type":"unit_started","time":`); n != 5 {
		t.Errorf("journal records %d pairs started, want 5 (a, b, boom, and two rollbacks):\n%s", n, journal)
	}

	// The example the README shows: a group and its member, planned.
	root := "../.."
	r = fanout(t, root, "plan", "examples/rollback.hcl", "restart", "app_restart")
	if r.code != 0 || strings.Count(r.stdout, `task "app_restart"`) != 1 {
		t.Errorf("plan rollback.hcl restart app_restart: exit %d, want app_restart once:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestLimitNodeset: -limit and -exclude read host sets as the grouped
// output prints them.
func TestLimitNodeset(t *testing.T) {
	dir := t.TempDir()
	var hcl strings.Builder
	for _, h := range []string{"web01", "web02", "web03", "web10", "db1"} {
		hcl.WriteString("host \"" + h + "\" {\n  transport = \"local\"\n}\n")
	}
	hcl.WriteString("task \"hello\" {\n  run = \"echo hello from $FANOUT_HOST\"\n}\n")
	hcl.WriteString("task \"same\" {\n  run = \"echo same\"\n}\n")
	writeFile(t, dir, "main.hcl", hcl.String())

	r := fanout(t, dir, "apply", "-group", "-limit", "web[01-03,10],db1", "-exclude", "web[02,10]", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"hello from web01", "hello from web03", "hello from db1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, not := range []string{"hello from web02", "hello from web10"} {
		if strings.Contains(r.stdout, not) {
			t.Errorf("apply ran on an excluded host (%q):\n%s", not, r.stdout)
		}
	}

	// What -group printed for a host set selects that set again.
	r = fanout(t, dir, "apply", "-group", "-limit", "web*", "main.hcl")
	if r.code != 0 || !strings.Contains(r.stdout, "web[01-03,10] (4) │ same") {
		t.Fatalf("apply -group -limit web*: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = fanout(t, dir, "plan", "-limit", "web[01-03,10]", "main.hcl")
	if r.code != 0 || !strings.Contains(r.stdout, "4 of 5 hosts; left out: db1.") {
		t.Errorf("plan -limit of the folded set: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = fanout(t, dir, "plan", "-limit", "web[10-1]", "main.hcl")
	if r.code != 2 || !strings.Contains(r.stderr, `Invalid host pattern "web[10-1]"`) || !strings.Contains(r.stderr, "goes down") {
		t.Errorf("a reversed range: exit %d\n%s", r.code, r.stderr)
	}
}

// TestHostileConfigurations: files built to exhaust the parser or the
// diagnostic renderer answer at once, exit 2, and name the file and line.
func TestHostileConfigurations(t *testing.T) {
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(12, 4))
	random := func(n int, nul bool) string {
		b := make([]byte, n)
		for i := range b {
			if b[i] = byte(rnd.UintN(256)); b[i] == 0 && !nul {
				b[i] = 'x'
			}
		}
		return string(b)
	}
	tests := []struct {
		name, src string
		want      []string
	}{
		{"parens.hcl", "locals {\n  x = " + strings.Repeat("(", 100_000) + "\n}\n",
			[]string{"Error: Configuration nested too deeply", "on parens.hcl line 2"}},
		{"interp.hcl", "task \"t\" {\n  run = \"" + strings.Repeat("${", 30_000) + "\"\n}\n",
			[]string{"Error: Configuration nested too deeply", "on interp.hcl line 2"}},
		{"random.hcl", random(100<<10, true), []string{"Error: Not a text file", "on random.hcl line"}},
		{"big.hcl", random(10<<20, true), []string{"Error: Configuration file too large", "on big.hcl line 1", "4 MiB"}},
		{"text.hcl", random(100<<10, false), []string{"on text.hcl line", "Error: And ", "fanout shows the first 10 diagnostics only"}},
	}
	for _, tt := range tests {
		writeFile(t, dir, tt.name, tt.src)
	}
	// For editors, the same diagnostics as one JSON document.
	r := fanout(t, dir, "validate", "-json", "text.hcl")
	var doc struct {
		Valid       bool
		ErrorCount  int `json:"error_count"`
		Diagnostics []struct{ Summary string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 1 && r.code != 2 || doc.Valid ||
		len(doc.Diagnostics) != 11 || !strings.HasPrefix(doc.Diagnostics[10].Summary, "And ") {
		t.Errorf("validate -json text.hcl: exit %d, %v, %d diagnostics:\n%.2000s", r.code, err, len(doc.Diagnostics), r.stdout)
	}
	for _, tt := range tests {
		for _, cmd := range []string{"validate", "plan"} {
			t.Run(cmd+" "+tt.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				c := exec.CommandContext(ctx, fanoutBin, cmd, tt.name)
				c.Dir, c.Env = dir, append(os.Environ(), "NO_COLOR=1")
				var stderr bytes.Buffer
				c.Stderr = &stderr
				err := c.Run()
				if ctx.Err() != nil {
					t.Fatalf("fanout %s %s did not finish within 20s", cmd, tt.name)
				}
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 2 {
					t.Fatalf("exit: %v, want 2\n%.2000s", err, stderr.String())
				}
				for _, want := range tt.want {
					if !strings.Contains(stderr.String(), want) {
						t.Errorf("stderr lacks %q:\n%.3000s", want, stderr.String())
					}
				}
				if n := strings.Count(stderr.String(), "Error: "); n > 11 {
					t.Errorf("%d errors printed, want at most 10 and a count of the rest", n)
				}
			})
		}
	}
}

// TestSmallCorrectness: what used to pass validation and fail at apply, or
// fail where nothing was wrong, or say the wrong thing (issue 12, item 7).
func TestSmallCorrectness(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "nul.hcl", "task \"a\" {\n  run = \"echo a\\u0000b\"\n}\n")
	for _, cmd := range []string{"validate", "plan", "apply"} {
		r := fanout(t, dir, cmd, "nul.hcl")
		if r.code != 2 || !strings.Contains(r.stderr, `NUL character in a command of task "a"`) || !strings.Contains(r.stderr, "on nul.hcl line 2") {
			t.Errorf("%s of a command holding a NUL: exit %d, want 2 and a diagnostic on line 2:\n%s%s", cmd, r.code, r.stdout, r.stderr)
		}
	}

	// An empty configuration is an error, not a run of nothing.
	writeFile(t, dir, "empty.hcl", "# nothing yet\n")
	for _, cmd := range []string{"validate", "apply"} {
		r := fanout(t, dir, cmd, "empty.hcl")
		if r.code != 2 || !strings.Contains(r.stderr, "No task in the configuration") {
			t.Errorf("%s of an empty configuration: exit %d, want 2\n%s%s", cmd, r.code, r.stdout, r.stderr)
		}
	}

	// An ambient FANOUT_VAR_ for a variable this configuration does not
	// declare is ignored; -var for one is still an error.
	writeFile(t, dir, "vars.hcl", "variable \"who\" {\n  type = string\n}\ntask \"a\" {\n  run = \"echo hello ${var.who}\"\n}\n")
	env := append(os.Environ(), "NO_COLOR=1", "FANOUT_VAR_who=env", "FANOUT_VAR_region=eu")
	r := runFanout(t, dir, env, "apply", "vars.hcl")
	if r.code != 0 || !strings.Contains(r.stdout, "hello env") || strings.Contains(r.stderr, "region") {
		t.Errorf("apply with an undeclared FANOUT_VAR_region: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runFanout(t, dir, env, "plan", "-var", "regoin=eu", "vars.hcl")
	if r.code != 2 || !strings.Contains(r.stderr, "Value for undeclared variable") {
		t.Errorf("-var for an undeclared variable: exit %d, want 2\n%s", r.code, r.stderr)
	}

	// A path that does not exist has no runs to list: it is an error.
	r = fanout(t, dir, "runs", "nonexistent.hcl")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot read configuration nonexistent.hcl") || strings.Contains(r.stdout, "No runs") {
		t.Errorf("runs of a missing path: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A timeout is reported as the timeout, the time to stop apart.
	writeFile(t, dir, "timeout.hcl", "task \"slow\" {\n  run     = \"sleep 20\"\n  timeout = \"1s\"\n}\n")
	r = fanout(t, dir, "apply", "timeout.hcl")
	if r.code != 1 || !regexp.MustCompile(`slow +│ ✗ timed out after 1s[ \n(]`).MatchString(r.stdout) {
		t.Errorf("apply of a task timing out after 1s: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

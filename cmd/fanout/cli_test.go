package main

import (
	"bufio"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// These tests run the built binary like e2e_test.go, for what the
// operator sees: JSON streams, variables, redaction, host selection.

func writeFile(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestApplyJSONStream(t *testing.T) {
	root, _ := filepath.Abs("../..")
	r := fanout(t, root, "apply", "-json", "examples/rollback.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var types []string
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	var last map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout holds a line that is not JSON: %q", sc.Text())
		}
		types = append(types, m["type"].(string))
		last = m
	}
	if len(types) < 3 || types[0] != "version" || types[1] != "run_started" || types[len(types)-1] != "run_finished" {
		t.Fatalf("event types %v: want version, run_started first and run_finished last", types)
	}
	for _, want := range []string{"host_connected", "task_started", "output", "task_finished", "stopping", "rollback_started", "rollback_finished"} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Errorf("no %s event in %v", want, types)
		}
	}
	if last["status"] != "failed" || !strings.Contains(last["cause"].(string), `"queue_restart"`) {
		t.Errorf("run_finished = %v", last)
	}
}

func TestPlanAndValidateJSON(t *testing.T) {
	root, _ := filepath.Abs("../..")
	r := fanout(t, root, "plan", "-json", "examples/restart.hcl")
	var plan map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &plan) != nil || plan["format_version"] != "1.1" {
		t.Fatalf("plan -json: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", "task \"a\" {\n  run = \"true\"\n  colour = 1\n}\n")
	r = fanout(t, dir, "validate", "-json", "main.hcl")
	var v struct {
		Valid       bool
		Diagnostics []struct {
			Summary string
			Range   struct{ Filename string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("validate -json stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if r.code != 2 || v.Valid || len(v.Diagnostics) != 1 || v.Diagnostics[0].Range.Filename != "main.hcl" {
		t.Errorf("validate -json: exit %d, %+v", r.code, v)
	}
	if r.stderr != "" {
		t.Errorf("validate -json wrote to stderr: %s", r.stderr)
	}
	// plan -json keeps stdout for JSON: a bad configuration's diagnostics
	// go to stderr.
	r = fanout(t, dir, "plan", "-json", "main.hcl")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "Unsupported argument") {
		t.Errorf("plan -json of a bad configuration: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

const varsConfig = `
variable "who" {
  type = string
}
variable "n" {
  type    = number
  default = 1
}
variable "secret" {
  type      = string
  default   = "hunter2-xyz"
  sensitive = true
}
task "show" {
  run = "echo \"who=${var.who} n=${var.n} secret=${var.secret}\"; echo \"$TOKEN\" >&2"
  env = { TOKEN = var.secret }
}
`

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", varsConfig)
	writeFile(t, dir, "a.vars", "who = \"file-a\"\nn = 2\n")
	writeFile(t, dir, "b.vars", "who = \"file-b\"\n")
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"environment", "FANOUT_VAR_who=env", nil, "who=env n=1"},
		{"var-file over environment", "FANOUT_VAR_who=env", []string{"-var-file", "a.vars"}, "who=file-a n=2"},
		{"-var after -var-file wins", "", []string{"-var-file", "a.vars", "-var", "who=flag"}, "who=flag n=2"},
		{"-var-file after -var wins", "", []string{"-var", "who=flag", "-var-file", "a.vars"}, "who=file-a n=2"},
		{"later file wins", "", []string{"-var-file", "a.vars", "-var-file", "b.vars"}, "who=file-b n=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				k, v, _ := strings.Cut(tt.env, "=")
				t.Setenv(k, v)
			}
			args := append([]string{"apply"}, tt.args...)
			r := fanout(t, dir, append(args, "main.hcl")...)
			if r.code != 0 || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("exit %d, output lacks %q:\n%s\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestMissingVariableIsAnErrorWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", varsConfig)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 2 || !strings.Contains(r.stderr, "No value for required variable") {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	writeFile(t, dir, "bad.vars", "who = var.x\n")
	r = fanout(t, dir, "plan", "-var-file", "bad.vars", "main.hcl")
	if r.code != 2 || !strings.Contains(r.stderr, "bad.vars line 1") || !strings.Contains(r.stderr, "Variables not allowed") {
		t.Errorf("a bad variables file: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSensitiveValuesRedacted(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", varsConfig)
	for _, args := range [][]string{
		{"plan", "-var", "who=x", "main.hcl"},
		{"plan", "-json", "-var", "who=x", "main.hcl"},
		{"apply", "-var", "who=x", "main.hcl"},
		{"apply", "-json", "-var", "who=x", "main.hcl"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			r := fanout(t, dir, args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "hunter2") {
				t.Errorf("the sensitive value is shown:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, "(sensitive)") {
				t.Errorf("no redaction marker:\n%s", r.stdout)
			}
		})
	}
}

const selectConfig = `
host "web01" {
  roles     = ["web"]
  transport = "local"
}
host "web02" {
  roles     = ["web"]
  transport = "local"
}
host "db1" {
  roles     = ["db"]
  transport = "local"
}
task "web" {
  on  = ["web"]
  run = "echo web on $FANOUT_HOST"
}
task "db" {
  on  = ["db"]
  run = "echo db on $FANOUT_HOST"
}
`

func TestLimitAndExclude(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", selectConfig)
	r := fanout(t, dir, "plan", "-limit", "web*,db1", "-exclude", "web02", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"hosts     web01\n", "hosts     db1\n", "Selected by -limit web* -limit db1 -exclude web02: 2 of 3 hosts; left out: web02."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	r = fanout(t, dir, "apply", "main.hcl", "-limit", "web")
	if r.code != 0 || !strings.Contains(r.stdout, "web on web02") || strings.Contains(r.stdout, "db on") {
		t.Errorf("apply -limit web: exit %d\n%s", r.code, r.stdout)
	}
	r = fanout(t, dir, "plan", "-limit", "wbe*", "main.hcl")
	if r.code != 2 || !strings.Contains(r.stderr, `No host matches "wbe*"`) {
		t.Errorf("a pattern matching nothing: exit %d\n%s", r.code, r.stderr)
	}
}

func TestQuiet(t *testing.T) {
	root, _ := filepath.Abs("../..")
	r := fanout(t, root, "apply", "-quiet", "examples/rollback.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	if strings.Contains(r.stdout, "│ started") || strings.Contains(r.stdout, "schema v2 applied") {
		t.Errorf("-quiet shows progress or output of pairs that did not fail:\n%s", r.stdout)
	}
	for _, want := range []string{"✗ exit 3", "Failures:", "queue: workers did not come back", "Rolled back, in order:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("-quiet output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestSIGUSR1ListsWhatRuns(t *testing.T) {
	dir, rec := workdir(t, sleepTask("slow", "2", ""))
	cmd, out, exited := startBackground(t, dir, started(rec, t, "slow"), "apply", "main.hcl")
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	<-exited
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	if !regexp.MustCompile(`Running now: 1 pair\n  localhost │ slow +│ for \d`).MatchString(out.String()) {
		t.Errorf("SIGUSR1 did not list the running pair:\n%s", out.String())
	}
}

func TestGroupAndHelp(t *testing.T) {
	root, _ := filepath.Abs("../..")
	r := fanout(t, root, "apply", "-group", "examples/restart.hcl")
	if r.code != 0 || !strings.Contains(r.stdout, "localhost (1) │ app_restart │ ✓ ok\n    │ restarting app into release 2026-11-25") {
		t.Errorf("apply -group: exit %d\n%s", r.code, r.stdout)
	}
	for _, cmd := range []string{"plan", "apply", "validate", "fmt", "completion"} {
		r := fanout(t, root, cmd, "-help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: fanout "+cmd) || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s -help: exit %d\n%s", cmd, r.code, r.stdout)
		}
	}
}

// TestValidateExamples: every example passes `fanout validate`, which
// also checks the settings the transports' plugins read (a host block's
// raw, say), as the config package's TestExamples cannot, and is written
// as `fanout fmt` writes it: users copy them.
func TestValidateExamples(t *testing.T) {
	root, _ := filepath.Abs("../..")
	names, err := filepath.Glob(filepath.Join(root, "examples", "*.hcl"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	if r := fanout(t, root, "fmt", "-check", "-recursive", "examples"); r.code != 0 {
		t.Errorf("fanout fmt -check -recursive examples: exit %d: not as fmt writes them:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, name := range names {
		rel, _ := filepath.Rel(root, name)
		if r := fanout(t, root, "validate", rel); r.code != 0 || !strings.Contains(r.stdout, "is valid") {
			t.Errorf("fanout validate %s: exit %d\n%s\n%s", rel, r.code, r.stdout, r.stderr)
		}
	}
}

// TestPlanJSONHostSettings: plan -json gives each host the settings its
// host block sets for its transport, and none to a host that sets none.
func TestPlanJSONHostSettings(t *testing.T) {
	root, _ := filepath.Abs("../..")
	r := fanout(t, root, "plan", "-json", "examples/devices.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var doc struct {
		Hosts []struct {
			Name     string                     `json:"name"`
			Settings map[string]json.RawMessage `json:"settings"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range doc.Hosts {
		got[h.Name] = string(h.Settings["raw"])
	}
	want := map[string]string{"sw01.example.net": "true", "sw02.example.net": "true", "sw03.example.net": "true", "sw04.example.net": "true", "tftp": ""}
	if !maps.Equal(got, want) {
		t.Errorf("raw by host: %v, want %v", got, want)
	}
}

// TestValidateWithoutVariableValues: validate needs no variable's value,
// as terraform validate: a required variable left unset is no error (a
// CI lint step has none to give), while mistakes elsewhere still are;
// plan still asks for the value.
func TestValidateWithoutVariableValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", "variable \"release\" {\n  type = string\n}\nvariable \"n\" {\n  type = number\n}\nhost \"h\" {\n  for_each  = range(var.n)\n  transport = \"local\"\n}\ntask \"a\" {\n  run = \"echo ${var.release}\"\n}\n")
	if r := fanout(t, dir, "validate", "main.hcl"); r.code != exitOK || !strings.Contains(r.stdout, "is valid") {
		t.Errorf("validate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := fanout(t, dir, "plan", "main.hcl"); r.code != exitUsage || !strings.Contains(r.stderr, "No value for required variable") {
		t.Errorf("plan: exit %d, want the variable asked for\n%s%s", r.code, r.stdout, r.stderr)
	}
	writeFile(t, dir, "main.hcl", "variable \"release\" {\n  type = string\n}\ntask \"a\" {\n  run     = \"echo ${var.release}\"\n  timeout = \"5x\"\n}\n")
	if r := fanout(t, dir, "validate", "main.hcl"); r.code != exitUsage || !strings.Contains(r.stderr, "Invalid timeout") || strings.Contains(r.stderr, "No value for required variable") {
		t.Errorf("validate of a bad timeout: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

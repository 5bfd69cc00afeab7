package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			out, _, code := runInProcess("completion", shell)
			if code != 0 || !strings.Contains(out, "fanout __names") {
				t.Fatalf("exit %d\n%s", code, out)
			}
			// The script must at least parse in its shell, where installed.
			bin, err := exec.LookPath(shell)
			if err != nil {
				t.Skipf("%s not installed", shell)
			}
			f := filepath.Join(t.TempDir(), "script")
			if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			flag := "-n"
			if shell == "fish" {
				flag = "--no-execute"
			}
			if b, err := exec.Command(bin, flag, f).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", shell, flag, err, b)
			}
		})
	}
	if _, errs, code := runInProcess("completion", "tcsh"); code != exitUsage || !strings.Contains(errs, `no completion for shell "tcsh"`) {
		t.Errorf("tcsh: exit %d, %s", code, errs)
	}
}

func TestNamesForCompletion(t *testing.T) {
	root, _ := filepath.Abs("../..")
	t.Chdir(root)
	out, _, code := runInProcess("__names", "examples/rollback.hcl")
	want := "migrate\napp_restart\nqueue_restart\nmailer_restart\nmetrics_restart\nannounce\ndaemons\nrestart\n"
	if code != 0 || out != want {
		t.Errorf("exit %d, names:\n%s\nwant:\n%s", code, out, want)
	}
}

// TestBashCompletesNames drives the bash function the way readline does.
func TestBashCompletesNames(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	root, _ := filepath.Abs("../..")
	script, _, _ := runInProcess("completion", "bash")
	prog := script + `
COMP_WORDS=(fanout apply examples/rollback.hcl mig)
COMP_CWORD=3
_fanout
echo "${COMPREPLY[@]}"
COMP_WORDS=(fanout apply -qu)
COMP_CWORD=2
_fanout
echo "${COMPREPLY[@]}"
COMP_WORDS=(fanout r)
COMP_CWORD=1
_fanout
echo "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, "-c", prog)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(fanoutBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	// Commands come from the command table: runs and rollback too.
	if got := string(b); got != "migrate\n-quiet\nruns rollback\n" {
		t.Errorf("completions:\n%q", got)
	}
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestSSHPassphraseAskedOnceOnTerminal runs fanout on a pseudo-terminal
// with no agent and an encrypted identity file used by three hosts: the
// passphrase is asked once, before any task, and the run then succeeds.
func TestSSHPassphraseAskedOnceOnTerminal(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3, NoAgent: true})
	body := `
task "t" {
  run = "REC start; echo \"hello from $FANOUT_HOST\""
}`
	extra := fmt.Sprintf("identity_file = %q", f.EncryptedClientKey)
	dir, rec := workdir(t, sshConfig(f, f.Hosts, extra, body))

	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SSH_AUTH_SOCK=") || strings.HasPrefix(kv, "HOME=")
	}), "NO_COLOR=1", "HOME="+dir, "TERM=dumb")
	tty, out, copied, exited := startOnPTY(t, cmd)
	defer func() { _ = tty.Close() }() // fanout has ended, or the test failed

	prompt := "Enter passphrase for key " + f.EncryptedClientKey
	waitPTYShows(t, cmd, exited, out, prompt, 20*time.Second, "no passphrase prompt:\n%q", out)
	if got := rec.read(t); len(got) != 0 {
		t.Errorf("tasks ran before the passphrase was given: %v", got)
	}
	if _, err := tty.Write([]byte(f.Passphrase + "\n")); err != nil {
		t.Fatal(err)
	}
	err := waitPTYExit(t, cmd, exited, 30*time.Second, "fanout did not finish:\n%s", out)
	closePTY(tty, copied) // the terminal may still hold output when the process has exited
	if err != nil {
		t.Fatalf("fanout: %v\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), prompt); n != 1 {
		t.Errorf("asked %d times, want once", n)
	}
	if strings.Contains(out.String(), f.Passphrase) {
		t.Error("the passphrase was echoed")
	}
	for _, h := range f.Hosts {
		if !strings.Contains(out.String(), "hello from "+h.Name) {
			t.Errorf("no output from %s", h.Name)
		}
	}
	if got := len(rec.read(t)); got != len(f.Hosts) {
		t.Errorf("%d hosts ran the task, want %d", got, len(f.Hosts))
	}
}

// TestSSHEncryptedKeyWithoutTerminal: with no terminal to ask on, the
// encrypted key is named with the fix, per host, before anything runs.
func TestSSHEncryptedKeyWithoutTerminal(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2, NoAgent: true})
	body := `
task "t" {
  run = "REC start"
}`
	extra := fmt.Sprintf("identity_file = %q", f.EncryptedClientKey)
	dir, rec := workdir(t, sshConfig(f, f.Hosts, extra, body))
	r := fanoutSSH(t, dir, "", "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := rec.read(t); len(got) != 0 {
		t.Errorf("commands ran: %v", got)
	}
	want := "add it with `ssh-add " + f.EncryptedClientKey + "`, or run fanout on a terminal"
	if n := strings.Count(r.stdout, want); n < len(f.Hosts) {
		t.Errorf("the fix is named %d times, want once per host at least:\n%s", n, r.stdout)
	}
}

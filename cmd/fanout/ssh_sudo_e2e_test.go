package main

import (
	"testing"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestSSHSudoWithoutPassword: over ssh, a task with sudo_user runs
// through sudo -n where sudo asks for no password (root here), with the
// task's env kept; a list of commands, which ssh otherwise runs in one
// Exec, too. sudo_ssh_e2e_test.go has the tests with a password.
func TestSSHSudoWithoutPassword(t *testing.T) {
	needRootSudo(t)
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", `
task "as_nobody" {
  sudo_user = "nobody"
  env       = { GREETING = "hello" }
  run       = ["echo \"$GREETING as $(id -un) on $FANOUT_HOST\"", "echo \"then as $(id -un) on $FANOUT_HOST\""]
}
`))
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range f.Hosts {
		wantInOutput(t, r.stdout, r.stdout, []string{"hello as nobody on " + h.Name, "then as nobody on " + h.Name})
	}
}

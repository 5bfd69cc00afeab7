package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
)

// These tests run sudo with a password over a real sshd: the ssh login is
// a throwaway user whose sudoers rule asks for its password (newSudoUser),
// authorized with the fleet's agent key; fanout itself runs as the test's
// user, as an operator's workstation would.

// sshSudoFleet starts 3 OpenSSH hosts on which the user u logs in with
// the fleet's agent key, its home being u.dir, and returns the fleet and
// the transport and host blocks that reach them as u.
func sshSudoFleet(t *testing.T, u *sudoUser) (*sshtest.Fleet, string) {
	t.Helper()
	// The fleet's own authorized_keys is in a directory only its owner
	// may enter, and sshd reads the file as the user who logs in: a copy
	// of it the user can read comes first (sshd takes the first value).
	keys := filepath.Join(filepath.Dir(u.dir), "authorized_keys")
	f := sshtest.Start(t, sshtest.Options{Hosts: 3, SSHDConfig: "AuthorizedKeysFile " + keys})
	b, err := os.ReadFile(filepath.Join(f.Dir, "authorized_keys"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A home sshd can enter, so that sessions say nothing of a missing one.
	if out, err := exec.Command("usermod", "-d", u.dir, u.name).CombinedOutput(); err != nil {
		t.Fatalf("usermod: %v\n%s", err, out)
	}
	var hcl strings.Builder
	fmt.Fprintf(&hcl, "transport \"ssh\" {\n  user = %q\n  known_hosts = [%q]\n}\n", u.name, f.KnownHosts)
	for _, h := range f.Hosts {
		fmt.Fprintf(&hcl, "host %q {\n  address = %q\n  port = %d\n}\n", h.Name, h.Addr, h.Port)
	}
	return f, hcl.String()
}

// sshCommand returns fanout run in u's directory, as the test's user,
// with the fleet's agent.
func (u *sudoUser) sshCommand(f *sshtest.Fleet, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(fanoutBin, args...)
	cmd.Dir = u.dir
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + u.dir, "NO_COLOR=1", "TERM=dumb",
		"SSH_AUTH_SOCK=" + f.AgentSocket}, env...)
	return cmd
}

// TestSSHSudoPasswordAskedOnce runs a sudo task on 3 hosts over ssh as a
// user whose sudo asks for its password, fanout on a terminal: the
// password is asked once, the commands run as root on every host with the
// task's env, each having read only its input after sudo took the
// password, and the password is in no process's command line or
// environment on the hosts while the commands run, nor in the output or
// the journal.
func TestSSHSudoPasswordAskedOnce(t *testing.T) {
	u := newSudoUser(t)
	f, hosts := sshSudoFleet(t, u)
	u.config(t, hosts+fmt.Sprintf(`
task "as_root" {
  sudo = true
  env  = { GREETING = "hello" }
  run  = "echo \"$GREETING from $FANOUT_HOST as $(id -u)\"; ps -e -ww -o args e > %s/ps-$FANOUT_HOST; echo \"stdin left: [$(cat)]\""
}
`, u.dir))
	shown := u.typePasswordOnce(t, u.sshCommand(f, nil, "apply", "main.hcl"), 60*time.Second)
	u.wantPasswordKept(t, shown)
	for _, h := range f.Hosts {
		wantInOutput(t, shown, shown, []string{"hello from " + h.Name + " as 0", "stdin left: []"})
		ps, err := os.ReadFile(filepath.Join(u.dir, "ps-"+h.Name))
		if err != nil {
			t.Fatalf("host %s ran nothing: %v\n%s", h.Name, err, shown)
		}
		if !strings.Contains(string(ps), "ps -e -ww -o args e") || !strings.Contains(string(ps), "sudo -S") {
			t.Fatalf("ps on %s did not list the running command and its sudo:\n%s", h.Name, ps)
		}
		if strings.Contains(string(ps), u.password) {
			t.Errorf("the password is in a process's command line or environment while %s's command runs:\n%s", h.Name, ps)
		}
	}
	log := u.sudoLog(t)
	// Beside the probes that run `true` through sudo, the task's command,
	// with its env, once per host.
	if n := strings.Count(log, "FANOUT_TASK=as_root"); n != 3 {
		t.Errorf("sudo's log shows the command run %d times, want 3 (once per host):\n%s", n, log)
	}
}

// TestSSHSudoPasswordFromVariable: with the password in the sensitive
// variable named by sudo_password and no terminal, the sudo task runs on
// every host over ssh, and -json shows the password nowhere, nor does the
// journal.
func TestSSHSudoPasswordFromVariable(t *testing.T) {
	u := newSudoUser(t)
	f, hosts := sshSudoFleet(t, u)
	u.config(t, hosts+`
variable "sudo_pw" {
  sensitive = true
}
fanout { sudo_password = var.sudo_pw }
task "as_root" {
  sudo = true
  run  = ["echo \"$FANOUT_HOST as $(id -u)\"", "echo \"then as $(id -u), stdin [$(cat)]\""]
}
`)
	all, err := outputOf(u.sshCommand(f, []string{"FANOUT_VAR_sudo_pw=" + u.password}, "apply", "-json", "main.hcl"))
	if err != nil {
		t.Fatalf("fanout: %v\n%s", err, all)
	}
	for _, h := range f.Hosts {
		wantInOutput(t, all, all, []string{h.Name + " as 0", "then as 0, stdin []"})
	}
	u.wantPasswordKept(t, all)
}

// TestSSHSudoWrongPasswordTriedOnce gives a wrong password through the
// sensitive variable: one host refuses it over ssh ("sudo: incorrect
// password"), the others are never offered it (sudo's log holds one
// refusal), nothing runs, and the run fails.
func TestSSHSudoWrongPasswordTriedOnce(t *testing.T) {
	u := newSudoUser(t)
	f, hosts := sshSudoFleet(t, u)
	u.config(t, hosts+fmt.Sprintf(`
variable "sudo_pw" {
  sensitive = true
}
fanout { sudo_password = var.sudo_pw }
task "as_root" {
  sudo     = true
  run      = "touch %[1]s/ran-$FANOUT_HOST"
  rollback = "touch %[1]s/undone-$FANOUT_HOST"
}
`, u.dir))
	const wrong = "not-the-password"
	all, err := outputOf(u.sshCommand(f, []string{"FANOUT_VAR_sudo_pw=" + wrong}, "apply", "main.hcl"))
	u.wantWrongPasswordTriedOnce(t, all, err, wrong, []string{"host1", "host2", "host3"})
}

// TestSSHSudoPasswordNobodyToAsk: over ssh, with no terminal and no
// sudo_password, a run whose hosts' sudo asks for a password fails before
// anything runs, naming the hosts that asked.
func TestSSHSudoPasswordNobodyToAsk(t *testing.T) {
	u := newSudoUser(t)
	f, hosts := sshSudoFleet(t, u)
	u.config(t, hosts+fmt.Sprintf(`
task "first" {
  run = "touch %[1]s/first-$FANOUT_HOST"
}
task "as_root" {
  sudo = true
  run  = "touch %[1]s/ran-$FANOUT_HOST"
}
`, u.dir))
	all, err := outputOf(u.sshCommand(f, nil, "apply", "main.hcl"))
	u.wantNobodyToAsk(t, all, err, []string{"host1", "host2", "host3"})
}

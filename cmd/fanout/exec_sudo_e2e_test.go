package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestExecSudoPasswordAskedOnce: `fanout exec -sudo`, run on a terminal by
// a user whose sudo asks for its password, asks it once for 3 hosts and
// runs the command as root everywhere; the password is hidden where the
// command prints it and is in no journal.
func TestExecSudoPasswordAskedOnce(t *testing.T) {
	u := newSudoUser(t)
	u.config(t, sudoHosts)
	// A file only root can read, holding the password: the command prints
	// it, and the output must not show it.
	secret := filepath.Join(filepath.Dir(u.dir), "secret")
	if err := os.WriteFile(secret, []byte("the password is "+u.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := u.typePasswordOnce(t, u.command(nil, "exec", "main.hcl", "-sudo", "--", `echo "uid $(id -u) on $FANOUT_HOST"; cat `+secret), 30*time.Second)
	for _, h := range []string{"h1", "h2", "h3"} {
		wantInOutput(t, out, out, []string{"uid 0 on " + h})
	}
	if strings.Contains(out, u.password) {
		t.Errorf("the password is in the output:\n%s", out)
	}
	if n := strings.Count(out, "the password is (sensitive)"); n != 3 {
		t.Errorf("the password is shown hidden %d times, want 3:\n%s", n, out)
	}
	if strings.Contains(u.journals(t), u.password) {
		t.Error("the password is in the journal")
	}
}

// TestSSHExecSudoUser: `fanout exec -sudo-user` over real sshd runs the
// command as that user through sudo -n, where sudo asks for no password.
func TestSSHExecSudoUser(t *testing.T) {
	needRootSudo(t)
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", ""))
	r := fanoutSSH(t, dir, f.AgentSocket, "exec", "main.hcl", "-sudo-user", "nobody", "--", `echo "as $(id -un) on $FANOUT_HOST"`)
	if r.code != 0 {
		t.Fatalf("exec: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range f.Hosts {
		wantInOutput(t, r.stdout, r.stdout, []string{"as nobody on " + h.Name})
	}
}

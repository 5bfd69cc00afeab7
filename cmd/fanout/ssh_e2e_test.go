package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fanout/fanout/internal/sshtest"
)

// These tests drive the real fanout binary against real OpenSSH sshd
// processes on 127.0.0.x, authenticated through a real ssh-agent, with the
// ssh transport in its own plugin process.

// sshConfig renders a configuration for the fleet: a transport block, one
// host block per fleet host (role "web"), then body.
func sshConfig(f *sshtest.Fleet, hosts []*sshtest.Host, extraTransport, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "transport \"ssh\" {\n  user = %q\n  known_hosts = [%q]\n  %s\n}\n", f.User, f.KnownHosts, extraTransport)
	for _, h := range hosts {
		fmt.Fprintf(&b, "host %q {\n  address = %q\n  port = %d\n  roles = [\"web\"]\n}\n", h.Name, h.Addr, h.Port)
	}
	b.WriteString(body)
	return b.String()
}

// fanoutSSH runs fanout with HOME in dir (no ~/.ssh of the machine's
// user is read) and the given SSH_AUTH_SOCK ("" unsets it).
func fanoutSSH(t *testing.T, dir, agent string, args ...string) result {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSH_AUTH_SOCK=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "NO_COLOR=1", "HOME="+dir)
	if agent != "" {
		env = append(env, "SSH_AUTH_SOCK="+agent)
	}
	return runFanout(t, dir, env, args...)
}

func TestSSHApplyOneConnectionPerHost(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 5})
	var tasks, refs []string
	for i := range 5 {
		tasks = append(tasks, fmt.Sprintf(`
task "t%d" {
  on       = ["web"]
  run      = ["REC start", "echo \"t%d on $FANOUT_HOST\"", "sleep 0.3", "REC end"]
  rollback = "REC start"
}`, i, i))
		refs = append(refs, fmt.Sprintf("task.t%d", i))
	}
	body := strings.Join(tasks, "\n") + fmt.Sprintf("\nparallelize {\n  threads = 5\n  tasks = [%s]\n}\n", strings.Join(refs, ", "))
	dir, rec := workdir(t, sshConfig(f, f.Hosts, "", body))
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range f.Hosts {
		for i := range 5 {
			want := fmt.Sprintf("%s │ t%d", h.Name, i)
			line := fmt.Sprintf("t%d on %s", i, h.Name)
			if !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, line) {
				t.Errorf("output lacks %q / %q", want, line)
			}
		}
		// Preflight and 25 commands x 5 tasks: one login per host.
		if n := h.AcceptedPublickey(t); n != 1 {
			t.Errorf("%s: %d logins (Accepted publickey), want 1", h.Name, n)
		}
	}
	iv := intervals(rec.read(t), "run")
	if len(iv) != 25 {
		t.Fatalf("%d (task, host) pairs ran, want 25", len(iv))
	}
	if got := overlap(iv); got < 10 {
		t.Errorf("at most %d pairs ran at once; 5 tasks x 5 hosts should run together", got)
	}
}

func TestSSHPreflightWithoutAgentRunsNothing(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	body := `
task "restart" {
  run = "REC start"
}`
	dir, rec := workdir(t, sshConfig(f, f.Hosts, "", body))
	r := fanoutSSH(t, dir, "", "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := rec.read(t); len(got) != 0 {
		t.Errorf("commands ran without credentials: %v", got)
	}
	if !strings.Contains(r.stdout, "Preflight failed on 3 hosts; nothing was run") {
		t.Errorf("no preflight summary:\n%s", r.stdout)
	}
	for _, h := range f.Hosts {
		// One clear line per host that says what to fix.
		var line string
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, " "+h.Name+": ") && !strings.Contains(l, "│") {
				line = l
			}
		}
		if !strings.Contains(line, "SSH_AUTH_SOCK is not set") {
			t.Errorf("%s: preflight line %q does not say the agent is missing", h.Name, line)
		}
		if n := h.AcceptedPublickey(t); n != 0 {
			t.Errorf("%s: %d logins, want 0", h.Name, n)
		}
	}
}

func TestSSHHostKeys(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	body := `
task "t" {
  run = "REC start"
}`
	t.Run("unknown host key is refused under strict", func(t *testing.T) {
		cfg := sshConfig(f, f.Hosts, "", body)
		empty := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg = strings.Replace(cfg, f.KnownHosts, empty, 1)
		dir, rec := workdir(t, cfg)
		r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if len(rec.read(t)) != 0 {
			t.Error("commands ran on hosts with unknown keys")
		}
		if !strings.Contains(r.stdout, "SHA256:") {
			t.Errorf("the refusal does not show the fingerprint:\n%s", r.stdout)
		}
	})
	t.Run("accept-new records each key once", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(kh, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := strings.Replace(sshConfig(f, f.Hosts, `host_key_checking = "accept-new"`, body), f.KnownHosts, kh, 1)
		dir, _ := workdir(t, cfg)
		if r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl"); r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		b, _ := os.ReadFile(kh)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != len(f.Hosts) {
			t.Errorf("known_hosts has %d lines, want %d:\n%s", len(lines), len(f.Hosts), b)
		}
	})
}

func TestSSHUnreachableHostCascade(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	unused := f.UnusedAddress(t)
	host, port, _ := strings.Cut(unused, ":")
	body := fmt.Sprintf(`
fanout { preflight = %%s }
host "gone" {
  address = %q
  port    = %s
  roles   = ["db"]
}
task "first" {
  on       = ["web"]
  run      = "REC start; REC end"
  rollback = "REC start; REC end"
}
task "second" {
  on       = ["web", "db"]
  run      = "REC start; REC end"
  rollback = "REC start; REC end"
}
`, host, port)
	t.Run("preflight finds it before anything runs", func(t *testing.T) {
		dir, rec := workdir(t, sshConfig(f, f.Hosts, `connect_timeout = "2s"`, fmt.Sprintf(body, "true")))
		r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
		if r.code != 1 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if got := rec.read(t); len(got) != 0 {
			t.Errorf("commands ran: %v", got)
		}
		if !strings.Contains(r.stdout, "Preflight failed on 1 host") || !strings.Contains(r.stdout, " gone: cannot reach host") {
			t.Errorf("preflight does not name the unreachable host:\n%s", r.stdout)
		}
	})
	t.Run("without preflight the failure rolls back what ran", func(t *testing.T) {
		dir, rec := workdir(t, sshConfig(f, f.Hosts, `connect_timeout = "2s"`, fmt.Sprintf(body, "false")))
		r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
		if r.code != 1 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, `task "second" failed on host "gone": unreachable`) {
			t.Errorf("cause is not the unreachable host:\n%s", r.stdout)
		}
		recs := rec.read(t)
		if diff := order(recs, "rollback", "start"); !slices.Equal(diff, []string{"second", "first"}) {
			t.Errorf("rolled back %v, want [second first]", diff)
		}
		for _, rc := range recs {
			if rc.host == "gone" {
				t.Errorf("a command is recorded for the unreachable host: %+v", rc)
			}
		}
	})
}

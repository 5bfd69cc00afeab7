package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestSSHExampleOnFleet runs examples/ssh.hcl's tasks on a real sshd fleet
// through the configuration sshfleet writes (sshtest's WriteConfig): what
// README's "Run over SSH" tells a user to try.
func TestSSHExampleOnFleet(t *testing.T) {
	const release, previous = "2026-12-01", "2026-11-25" // examples/ssh.hcl's defaults
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "fleet")
	if err := f.WriteConfig(dir, filepath.Join(root, "examples", "ssh.hcl")); err != nil {
		t.Fatal(err)
	}
	// HOME is empty and SSH_AUTH_SOCK unset: hosts.hcl names the agent and
	// known_hosts, nothing else is needed.
	home := t.TempDir()
	unit := func(h *sshtest.Host, name string) string {
		b, err := os.ReadFile(filepath.Join(dir, sshtest.StateDir, h.Name, name))
		if err != nil {
			return "inactive"
		}
		return strings.TrimSpace(string(b))
	}

	if r := fanoutSSH(t, home, "", "validate", dir); r.code != 0 {
		t.Fatalf("validate: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	t.Run("apply moves every host to the release", func(t *testing.T) {
		r := fanoutSSH(t, home, "", "apply", dir)
		if r.code != 0 {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		for _, h := range f.Hosts {
			want := []string{
				h.Name + " │ app_restart ",
				"│ app@" + release + " is live on " + h.Name,
				h.Name + " │ worker_restart ",
				"│ systemctl: started worker@" + release,
			}
			if slices.Contains(h.Roles(), "web") {
				want = append(want, h.Name+" │ web_reload ")
			} else if strings.Contains(r.stdout, h.Name+" │ web_reload ") {
				t.Errorf("web_reload ran on %s, which is not a web host", h.Name)
			}
			for _, w := range want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for u, st := range map[string]string{"app@" + release: "active", "app@" + previous: "inactive", "worker@" + release: "active", "worker@" + previous: "inactive"} {
				if got := unit(h, u); got != st {
					t.Errorf("%s: %s is %s, want %s", h.Name, u, got, st)
				}
			}
			// Preflight and every command: one login per host.
			if n := h.AcceptedPublickey(t); n != 1 {
				t.Errorf("%s: %d logins, want 1", h.Name, n)
			}
		}
		if !strings.Contains(r.stdout, "succeeded in") {
			t.Errorf("no success summary:\n%s", r.stdout)
		}
		if t.Failed() {
			t.Logf("stdout:\n%s", r.stdout)
		}

		// max_hosts = 1: a host starts the release only after the previous
		// one stopped its old app.
		journal, err := os.ReadFile(filepath.Join(dir, sshtest.StateDir, "journal"))
		if err != nil {
			t.Fatal(err)
		}
		var app []string
		for _, l := range strings.Split(strings.TrimSpace(string(journal)), "\n") {
			if fs := strings.Fields(l); len(fs) == 3 && strings.HasPrefix(fs[2], "app@") {
				app = append(app, fs[0]+" "+fs[1])
			}
		}
		if len(app) != 2*len(f.Hosts) {
			t.Fatalf("app units changed %d times, want %d:\n%s", len(app), 2*len(f.Hosts), journal)
		}
		for i := 0; i < len(app); i += 2 {
			h, _, _ := strings.Cut(app[i], " ")
			if app[i] != h+" start" || app[i+1] != h+" stop" {
				t.Errorf("app_restart was not rolling, one host at a time:\n%s", journal)
				break
			}
		}
	})

	t.Run("a host that cannot start rolls every host back", func(t *testing.T) {
		broken := f.Hosts[1]
		if err := os.WriteFile(filepath.Join(dir, sshtest.StateDir, broken.Name, "broken"), []byte("app@bad\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := fanoutSSH(t, home, "", "apply", "-var", "previous="+release, "-var", "release=bad", dir)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		wantInOutput(t, r.stdout, r.stdout, []string{
			`task "app_restart" failed on host "` + broken.Name + `": exit 1`,
			"Job for app@bad.service failed",
			"Rolled back, in order: app_restart, worker_restart.",
		})
		if strings.Contains(r.stdout, "│ web_reload ") {
			t.Errorf("web_reload ran after the failed group:\n%s", r.stdout)
		}
		for _, h := range f.Hosts {
			for u, st := range map[string]string{"app@" + release: "active", "app@bad": "inactive", "worker@" + release: "active", "worker@bad": "inactive"} {
				if got := unit(h, u); got != st {
					t.Errorf("%s: %s is %s after the rollback, want %s", h.Name, u, got, st)
				}
			}
		}
	})
}

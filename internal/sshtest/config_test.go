package sshtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fakeFleet is a Fleet with no processes, enough for WriteConfig.
func fakeFleet(n int) *Fleet {
	f := &Fleet{User: "u", KnownHosts: "/fleet/known_hosts", AgentSocket: "/tmp/fsa1/agent.sock"}
	for i := range n {
		f.Hosts = append(f.Hosts, &Host{Name: "host" + string(rune('1'+i)), Addr: "127.0.0.10" + string(rune('0'+i)), Port: 2000 + i, fleet: f})
	}
	return f
}

func TestWriteConfig(t *testing.T) {
	f := fakeFleet(3)
	dir := filepath.Join(t.TempDir(), "a dir's name") // the stand-in's path needs quoting
	if err := f.WriteConfig(dir, "../../examples/ssh.hcl"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{HostsFile, TasksFile} {
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
			t.Fatalf("%s: %v\n%s", name, diags, src)
		}
		if strings.Contains(string(src), "sudo") || strings.Contains(string(src), `host "web1"`) {
			t.Errorf("%s holds the example's real hosts or commands:\n%s", name, src)
		}
	}
	hosts, _ := os.ReadFile(filepath.Join(dir, HostsFile))
	for _, want := range []string{`agent_socket      = "/tmp/fsa1/agent.sock"`, `port    = 2001`, `roles   = ["app"]`, `roles   = ["web", "app"]`, `known_hosts       = ["/fleet/known_hosts"]`} {
		if !strings.Contains(string(hosts), want) {
			t.Errorf("%s lacks %q:\n%s", HostsFile, want, hosts)
		}
	}
	tasks, _ := os.ReadFile(filepath.Join(dir, TasksFile))
	// sh quoting, then HCL's escape of its backslash
	if want := `default     = "'` + strings.ReplaceAll(filepath.Join(dir, "bin", "systemctl"), "'", `'\\''`) + `'"`; !strings.Contains(string(tasks), want) {
		t.Errorf("%s lacks %q:\n%s", TasksFile, want, tasks)
	}
	if strings.Contains(string(tasks), "fanout validate examples/ssh.hcl") {
		t.Errorf("%s keeps the example's header:\n%s", TasksFile, tasks)
	}

	systemctl := func(host string, args ...string) (string, int) {
		cmd := exec.Command(filepath.Join(dir, SystemctlFile), args...)
		cmd.Env = append(os.Environ(), tokenEnv+"=x/"+host)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out)), code
	}
	steps := []struct {
		host string
		args []string
		out  string
		code int
	}{
		{"host1", []string{"is-active", "app@1"}, "inactive", 3},
		{"host1", []string{"start", "app@1.service"}, "systemctl: started app@1", 0},
		{"host1", []string{"is-active", "--quiet", "app@1"}, "", 0},
		{"host2", []string{"is-active", "app@1"}, "inactive", 3}, // each host its own
		{"host1", []string{"stop", "app@1"}, "systemctl: stopped app@1", 0},
		{"host1", []string{"is-active", "-q", "app@1"}, "", 3},
		{"host1", []string{"frobnicate", "app@1"}, `systemctl (sshtest stand-in): unknown command "frobnicate"`, 2},
		{"host1", []string{"start"}, "usage: systemctl start|stop|restart|reload|is-active [--quiet] UNIT", 2},
	}
	for _, s := range steps {
		out, code := systemctl(s.host, s.args...)
		if out != s.out || (code != 0) != (s.code != 0) {
			t.Errorf("%s: systemctl %v = %q, exit %d; want %q, exit %d", s.host, s.args, out, code, s.out, s.code)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, StateDir, "host2", "broken"), []byte("app@*"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := systemctl("host2", "start", "app@2"); code != 1 || !strings.Contains(out, "Job for app@2.service failed") {
		t.Errorf("start of a broken unit: %q, exit %d", out, code)
	}
	if _, code := systemctl("host2", "start", "worker@2"); code != 0 {
		t.Errorf("start of a unit not listed as broken: exit %d", code)
	}

	// Again: the earlier files are replaced, the state cleared.
	if err := f.WriteConfig(dir, "../../examples/ssh.hcl"); err != nil {
		t.Fatalf("second WriteConfig: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, StateDir, "host2")); !os.IsNotExist(err) {
		t.Errorf("state survives a second WriteConfig: %v", err)
	}
}

func TestWriteConfigRefuses(t *testing.T) {
	f := fakeFleet(1)
	t.Run("a directory with other .hcl files", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := f.WriteConfig(dir, "../../examples/ssh.hcl"); err == nil || !strings.Contains(err.Error(), "main.hcl") {
			t.Errorf("err = %v, want one naming main.hcl", err)
		}
	})
	t.Run("an example without variable systemctl", func(t *testing.T) {
		ex := filepath.Join(t.TempDir(), "x.hcl")
		if err := os.WriteFile(ex, []byte(`task "t" { run = "systemctl restart app" }`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := f.WriteConfig(t.TempDir(), ex); err == nil || !strings.Contains(err.Error(), `variable "systemctl"`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestExampleFile(t *testing.T) {
	p, err := ExampleFile()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil || filepath.Base(p) != "ssh.hcl" {
		t.Errorf("ExampleFile() = %q: %v", p, err)
	}
}

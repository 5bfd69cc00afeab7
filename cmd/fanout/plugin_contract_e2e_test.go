package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/pluginhost"
	"github.com/fanout/fanout/sdk/sdktest"
)

// TestCommandEnvironmentHasNoHandshake runs `env` through the built-in
// local transport and through a third-party plugin built on the sdk, and
// checks that the variables of the plugin handshake stayed in the plugin:
// a command gets the environment fanout was given and the documented
// FANOUT_* variables, never the magic cookie or go-plugin's PLUGIN_*.
func TestCommandEnvironmentHasNoHandshake(t *testing.T) {
	e := newPluginEnv(t, `transport "echo" {
  greeting = "hi"
}

host "here" {
  transport = "local"
}

host "box" {
  transport = "echo"
  dir       = "DIR"
}

task "env" {
  run = "env > DIR/env.$FANOUT_HOST"
}
`)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	// A variable of the operator's own that merely looks like go-plugin's
	// reaches the commands: only the handshake's are removed.
	e.extra = append(e.extra, "PLUGIN_OF_MINE=kept")
	stdout, stderr, code := e.run(t, "apply", "main.hcl")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, host := range []string{"here", "box"} {
		b, err := os.ReadFile(filepath.Join(e.dir, "env."+host))
		if err != nil {
			t.Fatalf("host %s: %v", host, err)
		}
		env := string(b)
		for _, line := range strings.Split(env, "\n") {
			name, _, _ := strings.Cut(line, "=")
			switch name {
			case "FANOUT_PLUGIN_MAGIC_COOKIE", "FANOUT_PLUGIN_LOG_LEVEL", "PLUGIN_CLIENT_CERT", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT",
				"PLUGIN_PROTOCOL_VERSIONS", "PLUGIN_UNIX_SOCKET_DIR", "PLUGIN_UNIX_SOCKET_GROUP", "PLUGIN_MULTIPLEX_GRPC":
				t.Errorf("host %s: the command's environment holds the handshake's %s", host, line)
			}
		}
		for _, want := range []string{"FANOUT_HOST=" + host, "FANOUT_TASK=env", "FANOUT_PHASE=run", "FANOUT_RUN_ID=", e.marker, "PLUGIN_OF_MINE=kept"} {
			if !strings.Contains(env, want) {
				t.Errorf("host %s: the command's environment lacks %s:\n%s", host, want, env)
			}
		}
	}
}

// TestPluginValidatesHostAtPlan: a plugin that validates hosts (protocol
// 1.2: the echo example checks that a host's dir exists) fails validate
// and plan, before anything runs, with the diagnostic at the attribute's
// line.
func TestPluginValidatesHostAtPlan(t *testing.T) {
	e := newPluginEnv(t, `transport "echo" {
  greeting = "hi"
}

host "box" {
  transport = "echo"
  dir       = "DIR/missing"
}

task "t" {
  run = "touch DIR/ran"
}
`)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	for _, cmd := range []string{"validate", "plan"} {
		stdout, stderr, code := e.run(t, cmd, "main.hcl")
		out := stdout + stderr
		if code != 2 || !strings.Contains(out, "Directory not found") || !strings.Contains(out, "main.hcl line 7") {
			t.Errorf("%s: exit %d, want 2 (a bad configuration) and the diagnostic at main.hcl line 7:\n%s", cmd, code, out)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "ran")); err == nil {
		t.Error("the task ran")
	}
}

// TestPluginReattach runs a plugin by hand in debug mode, as under a
// debugger, and fanout with the FANOUT_REATTACH_PLUGINS value it prints:
// fanout attaches to it instead of looking for a binary (none is
// installed), for one run after another, and the plugin ends on Ctrl-C.
func TestPluginReattach(t *testing.T) {
	plugin := exec.Command(pluginBinary(t, "echo"))
	plugin.Env = append(os.Environ(), "FANOUT_PLUGIN_DEBUG=1")
	plugin.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := plugin.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr sdktest.Output
	plugin.Stderr = &stderr
	if err := plugin.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = plugin.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-plugin.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	// The line to copy, as the plugin prints it.
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var reattach string
	timeout := time.After(20 * time.Second)
	for reattach == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the plugin printed no reattach configuration; stderr:\n%s", stderr.String())
			}
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "FANOUT_REATTACH_PLUGINS='"); ok {
				reattach = strings.TrimSuffix(v, "'")
			}
		case <-timeout:
			t.Fatalf("no reattach configuration within 20s; stderr:\n%s", stderr.String())
		}
	}
	if !strings.Contains(reattach, `"echo":{`) || !strings.Contains(reattach, fmt.Sprintf(`"Pid":%d`, plugin.Process.Pid)) {
		t.Errorf("reattach configuration %s: want the echo transport at pid %d", reattach, plugin.Process.Pid)
	}

	e := newPluginEnv(t, echoHCL)
	e.extra = append(e.extra, "FANOUT_REATTACH_PLUGINS="+reattach)
	for run := range 2 {
		_ = os.Remove(filepath.Join(e.dir, "ran"))
		out, errs, code := e.run(t, "apply", "main.hcl")
		if code != 0 {
			t.Fatalf("run %d: exit %d\nstdout:\n%s\nstderr:\n%s\nplugin's stderr:\n%s", run, code, out, errs, stderr.String())
		}
		if !strings.Contains(out, "hi from "+e.dir) {
			t.Errorf("run %d: the command's output is missing:\n%s", run, out)
		}
		if _, err := os.Stat(filepath.Join(e.dir, "ran")); err != nil {
			t.Errorf("run %d: the task did not run", run)
		}
	}

	if err := plugin.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the plugin did not end on Ctrl-C; stderr:\n%s", stderr.String())
	}
}

func TestPluginReattachMalformed(t *testing.T) {
	e := newPluginEnv(t, echoHCL)
	e.extra = append(e.extra, `FANOUT_REATTACH_PLUGINS={"echo":{"Protocol":"netrpc"}}`)
	_, errs, code := e.run(t, "plan", "main.hcl")
	if code != 2 || !strings.Contains(errs, `FANOUT_REATTACH_PLUGINS: transport "echo"`) {
		t.Errorf("exit %d, stderr %q: want 2 and the variable named", code, errs)
	}
}

// TestPluginsLockUpdatePins: after a pinned plugin is rebuilt, one command
// updates both the transport block's sha256 (in place, its comment kept)
// and the lock file, and the configuration runs again.
func TestPluginsLockUpdatePins(t *testing.T) {
	stale := strings.Repeat("ab", 32)
	e := newPluginEnv(t, `transport "echo" {
  greeting = "hi"
  sha256   = "`+stale+`" # sha256sum fanout-transport-echo
}

host "box" {
  transport = "echo"
  dir       = "DIR"
}

task "hello" {
  run = "touch DIR/ran"
}
`)
	bin := installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	sum, err := pluginhost.SHA256File(bin)
	if err != nil {
		t.Fatal(err)
	}

	// Without -update-pins: refused, saying what to run.
	_, errs, code := e.run(t, "plugins", "lock", "main.hcl")
	if code == 0 || !strings.Contains(errs, "fanout plugins lock -update-pins main.hcl") || !strings.Contains(errs, sum) {
		t.Errorf("lock with a stale pin: exit %d, stderr:\n%s\nwant a failure naming the binary's sum and -update-pins", code, errs)
	}

	out, errs, code := e.run(t, "plugins", "lock", "-update-pins", "main.hcl")
	if code != 0 {
		t.Fatalf("lock -update-pins: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, `Updated the sha256 of transport "echo"`) || !strings.Contains(out, sum) {
		t.Errorf("lock -update-pins does not say what it updated:\n%s", out)
	}
	src, err := os.ReadFile(filepath.Join(e.dir, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `sha256   = "`+sum+`" # sha256sum fanout-transport-echo`) || strings.Contains(string(src), stale) {
		t.Errorf("main.hcl after -update-pins:\n%s", src)
	}
	lock, err := os.ReadFile(filepath.Join(e.dir, ".fanout.lock.hcl"))
	if err != nil || !strings.Contains(string(lock), sum) {
		t.Errorf("the lock file does not record %s: %v\n%s", sum, err, lock)
	}
	if out, errs, code := e.run(t, "apply", "main.hcl"); code != 0 {
		t.Errorf("apply after -update-pins: exit %d\n%s\n%s", code, out, errs)
	}
}

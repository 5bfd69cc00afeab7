package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

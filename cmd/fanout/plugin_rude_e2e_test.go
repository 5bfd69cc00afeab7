package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk/sdktest"
)

// TestPluginConnectThatHangsStopsAtCtrlC: a third-party plugin whose
// Connect never returns (a host that never answers, and no bound of the
// plugin's own) does not keep fanout from stopping: the first Ctrl-C
// ends the connects in flight, nothing runs, and fanout exits 130,
// saying the connect was interrupted. (It waited for a second one.)
func TestPluginConnectThatHangsStopsAtCtrlC(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, `
transport "rude" {}
host "ok" {
  transport = "rude"
}
host "hang" {
  transport = "rude"
}
task "t" {
  run      = "touch ran-$FANOUT_HOST"
  rollback = "true"
}
`)
	installPlugin(t, "rude", filepath.Join(e.dir, ".fanout", "plugins"))
	b := startBG(t, e.command("apply", "-json", "main.hcl"))
	sdktest.Eventually(t, e2eWait, "ok connected", func() bool {
		return strings.Contains(b.out.String(), `"type":"host_connected"`) && strings.Contains(b.out.String(), `"host":"ok"`)
	})
	if err := b.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t, 15*time.Second); code != exitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, exitInterrupted, b.out)
	}
	if !strings.Contains(b.out.String(), "connecting was interrupted") {
		t.Errorf("the hung connect is not said to be interrupted:\n%s", b.out)
	}
	if m, _ := filepath.Glob(filepath.Join(e.dir, "ran-*")); len(m) != 0 {
		t.Errorf("the task ran: %v", m)
	}
}

// TestPluginErrorTextBounded: an error a plugin returns is shown and
// journaled as one line of at most a few KB (a 5 MB error of a million
// lines made 37 MB of output and a 26 MB journal, its continuation lines
// without the host's prefix), and its control characters never reach the
// terminal raw (a plugin passing on a host's text could clear the screen,
// retitle the window, or print a fake outcome over a line).
func TestPluginErrorTextBounded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		command, want string
		env           []string
	}{
		{"huge-error", "bytes more]", nil},
		{"escape-error", "bad^[[2J^[]0;pwned^G^MRun 123 succeeded.", nil},
		// Describe's error is shown on the transport block.
		{"true", "describe: bad^[[2J^[]0;pwned^G^MRun 123 succeeded.;", []string{"RUDE_DESCRIBE=fail"}},
	} {
		t.Run(tt.command+strings.Join(tt.env, ""), func(t *testing.T) {
			t.Parallel()
			e := newPluginEnv(t, `
transport "rude" {}
host "h" {
  transport = "rude"
}
task "t" {
  run = "`+tt.command+`"
}
`)
			installPlugin(t, "rude", filepath.Join(e.dir, ".fanout", "plugins"))
			e.extra = append(e.extra, tt.env...)
			stdout, stderr, code := e.run(t, "apply", "main.hcl")
			out := stdout + stderr
			if code == exitOK || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, want a failure and %q in:\n%.3000s", code, tt.want, out)
			}
			if len(out) > 64<<10 || strings.ContainsAny(out, "\x1b\r\a") {
				t.Errorf("%d bytes of output, or a control character in it:\n%.3000q", len(out), out)
			}
			journals, _ := filepath.Glob(filepath.Join(e.dir, ".fanout", "runs", "*.jsonl"))
			for _, j := range journals {
				if fi, err := os.Stat(j); err != nil || fi.Size() > 64<<10 {
					t.Errorf("journal %s: %v bytes (err %v)", j, fi.Size(), err)
				}
			}
		})
	}
}

// TestRefusedPluginScriptDoesNotHold: a plugin fanout refuses (here a
// script answering the handshake with net/rpc, then sleeping) is ended
// with what it started: fanout waited for the script's sleep, which held
// the plugin's stderr, before it could say why it refused the plugin.
func TestRefusedPluginScriptDoesNotHold(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, `
transport "netrpc" {}
host "h" {
  transport = "netrpc"
}
task "t" {
  run = "true"
}
`)
	dir := filepath.Join(e.dir, ".fanout", "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho '1|1|unix|/tmp/fanout-no-such.sock|netrpc|'\nsleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "fanout-transport-netrpc"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, stderr, code := e.run(t, "plan", "main.hcl")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("plan took %s to refuse the plugin", took)
	}
	if code != exitUsage || !strings.Contains(stderr, "netrpc") {
		t.Errorf("exit %d, want %d and the refusal\n%s", code, exitUsage, stderr)
	}
}

// TestPluginsShowsCapabilities: fanout plugins says what a plugin
// declares it can do, text and -json, which plan-time refusals are made
// of, so that an author or an operator sees it before a refusal.
func TestPluginsShowsCapabilities(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, "transport \"nostdin\" {}\nhost \"h\" {\n  transport = \"nostdin\"\n}\ntask \"t\" {\n  run = \"true\"\n}\n")
	installPlugin(t, "nostdin", filepath.Join(e.dir, ".fanout", "plugins"))
	stdout, stderr, code := e.run(t, "plugins", "main.hcl")
	can := lineWith(stdout, "can:")
	if code != exitOK || !strings.Contains(can, "exec") || !strings.Contains(can, "upload") || strings.Contains(can, "stdin") {
		t.Errorf("exit %d, capabilities %q: want exec and upload, not stdin (nostdin declares none)\n%s%s", code, can, stdout, stderr)
	}
	stdout, _, _ = e.run(t, "plugins", "-json", "main.hcl")
	if !strings.Contains(stdout, `"capabilities": [`) && !strings.Contains(stdout, `"capabilities":[`) {
		t.Errorf("plugins -json lacks the capabilities:\n%s", stdout)
	}
}

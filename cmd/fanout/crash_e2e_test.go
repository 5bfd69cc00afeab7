package main

// These tests kill a transport plugin process mid-command with SIGKILL, the
// built-in local one and a third-party one, and check the order that makes
// a rollback safe: the command's process group is gone before the rollback
// of its task starts, the rollback runs through a new plugin process, and
// the recap names the crash as the cause. Processes are read from /proc,
// so they run on Linux only.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk/sdktest"
)

func TestPluginKilledMidCommand(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fanout ends a crashed plugin's commands on Linux only")
	}
	tests := []struct {
		transport string
		// block declares the transport; installed is true for a
		// third-party plugin to install.
		block     string
		installed bool
		// plugin finds the plugin's process among fanout's children.
		plugin string
	}{
		// Its commands run under the local transport's supervisor, which
		// kills them when the plugin dies; fanout checks that they are
		// gone all the same.
		{transport: "local", plugin: "internal-plugin\x00local"},
		// Its commands run directly under the plugin, as a third-party
		// plugin's may: only fanout can end them.
		{transport: "crashy", block: `transport "crashy" {}`, installed: true, plugin: "fanout-transport-crashy"},
	}
	for _, tt := range tests {
		t.Run(tt.transport, func(t *testing.T) {
			e := newPluginEnv(t, "")
			pidfile, state, done := filepath.Join(e.dir, "pid"), filepath.Join(e.dir, "state"), filepath.Join(e.dir, "done")
			e.write(t, "main.hcl", fmt.Sprintf(`%s

host "box" {
  transport = %q
}

task "slow" {
  run      = "sleep 30 & echo $! > %s; wait; touch %s"
  rollback = %q
}
`, tt.block, tt.transport, pidfile, done, rollbackState(pidfile, state)))
			if tt.installed {
				installPlugin(t, tt.transport, filepath.Join(e.dir, ".fanout", "plugins"))
			}
			cmd := e.command("apply", "main.hcl")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			b := startBG(t, cmd)
			child := readPID(t, pidfile)
			plugin := childWith(cmd.Process.Pid, tt.plugin)
			if plugin == 0 {
				t.Fatalf("no %s plugin process under fanout %d", tt.transport, cmd.Process.Pid)
			}
			if err := syscall.Kill(plugin, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if code := b.wait(t, 60*time.Second); code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, b.out)
			}
			out := b.out.String()
			// The rollback ran, through a new plugin process, and found
			// the command's sleep gone: killed before it started.
			s, err := os.ReadFile(state)
			if err != nil {
				t.Fatalf("the rollback did not run: %v\n%s", err, out)
			}
			if s := strings.TrimSpace(string(s)); s != "gone" && s != "Z" {
				t.Errorf("the command's sleep was in state %s when the rollback started, want gone\n%s", s, out)
			}
			if alive(child) {
				t.Errorf("the command's sleep %d outlived its crashed plugin (state %s)", child, procState(child))
			}
			if _, err := os.Stat(done); err == nil {
				t.Errorf("the command ran on after its plugin died")
			}
			wantInOutput(t, out, out, []string{
				fmt.Sprintf(`plugin %q crashed while task "slow" ran on host "box": transport plugin exited unexpectedly (signal: killed)`, tt.transport),
				"Rolled back, in order: slow.",
			})
			for _, unwanted := range []string{"unreachable", "cannot tell", "Rollback FAILED"} {
				if strings.Contains(out, unwanted) {
					t.Errorf("output says %q:\n%s", unwanted, out)
				}
			}
			e.assertNoLeftovers(t)
		})
	}
}

// failures is a testing.TB that records failures instead of failing the
// test, so that a test can check that a check fails; Fatal ends the
// goroutine that calls it, as testing's does.
type failures struct {
	testing.TB
	mu  sync.Mutex
	msg []string
}

func (f *failures) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msg = append(f.msg, fmt.Sprintf(format, args...))
}

func (f *failures) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}

func (f *failures) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// TestSdktestPluginKill runs the sdk's check that a killed plugin takes its
// commands with it against two real plugin binaries: the built-in local
// transport, which supervises its commands, passes; crashy, the local
// transport without the supervisor, fails, naming what outlived it.
func TestSdktestPluginKill(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sdktest.PluginKill runs on Linux only")
	}
	t.Run("local", func(t *testing.T) {
		sdktest.PluginKill(t, exec.Command(fanoutBin, "internal-plugin", "local"),
			sdktest.PluginKillOptions{Host: "localhost", Dir: t.TempDir()})
	})
	t.Run("unsupervised", func(t *testing.T) {
		f := &failures{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			sdktest.PluginKill(f, exec.Command(pluginBinary(t, "crashy")),
				sdktest.PluginKillOptions{Host: "localhost", Dir: t.TempDir(), Wait: 2 * time.Second})
		}()
		<-done
		if len(f.msg) != 1 || !strings.Contains(f.msg[0], "still run") || !strings.Contains(f.msg[0], "must make the commands it runs die with it") {
			t.Errorf("PluginKill on a plugin whose commands outlive it failed with %q, want what still runs", f.msg)
		}
	})
}

// TestStoppedPluginIsKilled: a plugin that neither stops a command at its
// timeout nor answers at all (stopped here with SIGSTOP, as a wedged
// process would be) is killed and taken for crashed: the rollbacks run
// through a new plugin process, and fanout ends, leaving no plugin behind.
// It held fanout for ever.
func TestStoppedPluginIsKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the plugin process from /proc")
	}
	t.Run("at a timeout", func(t *testing.T) { testStoppedPluginIsKilled(t, `  timeout  = "1s"`, nil) })
	// Ctrl-C, its commands not ended by the grace: the same, at once.
	t.Run("at Ctrl-C", func(t *testing.T) {
		testStoppedPluginIsKilled(t, "", func(cmd *exec.Cmd) {
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func testStoppedPluginIsKilled(t *testing.T, timeout string, then func(*exec.Cmd)) {
	t.Parallel() // half a minute of timeouts
	dir, rec := workdir(t, `
host "h1" {
  transport = "local"
}
task "a" {
  run      = "REC start"
  rollback = "REC start"
}
task "b" {
  run      = "REC start; sleep 60"
`+timeout+`
  rollback = "REC start"
}
`)
	cmd, out, exited := startBackground(t, dir, started(rec, t, "b"), "apply", "main.hcl")
	plugin := childWith(cmd.Process.Pid, "internal-plugin\x00local")
	if plugin == 0 {
		t.Fatalf("no local plugin process under fanout %d", cmd.Process.Pid)
	}
	if err := syscall.Kill(plugin, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if then != nil {
		then(cmd)
	}
	select {
	case <-exited:
	case <-time.After(90 * time.Second):
		t.Fatalf("fanout did not end with its plugin stopped:\n%s", out)
	}
	text := out.String()
	want := exitFailed
	if then != nil {
		want = exitInterrupted
	}
	if code := cmd.ProcessState.ExitCode(); code != want || !strings.Contains(text, "so fanout killed it") {
		t.Errorf("exit %d, want %d and the plugin named as killed:\n%s", code, want, text)
	}
	if got := order(rec.read(t), "rollback", "start"); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("rolled back %v, want [b a]:\n%s", got, text)
	}
	if err := syscall.Kill(plugin, 0); err == nil {
		_ = syscall.Kill(plugin, syscall.SIGKILL)
		t.Errorf("the stopped plugin %d is still there", plugin)
	}
}

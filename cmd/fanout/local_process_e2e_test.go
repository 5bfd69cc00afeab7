package main

// These tests run the real fanout binary and its real local transport
// plugin, and check that nothing a command started survives when the
// command is interrupted or its plugin dies. Processes are read from /proc,
// so they run on Linux only.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk/procstat"
	"github.com/fanout/fanout/sdk/sdktest"
)

// procState is pid's state letter in /proc ("S", "Z"), or "" when it does
// not exist.
func procState(pid int) string {
	s, err := procstat.Read(pid)
	if err != nil {
		return ""
	}
	return string(s.State)
}

// alive reports whether pid runs: it exists and is no zombie waiting for
// pid 1 to reap it.
func alive(pid int) bool {
	s, err := procstat.Read(pid)
	return err == nil && !s.Ended()
}

// childrenOf returns the PIDs of the processes whose parent is ppid: a
// fanout's plugin processes (the commands run under them).
func childrenOf(ppid int) []int {
	all, _ := procstat.All()
	var out []int
	for _, p := range all {
		if p.PPID == ppid {
			out = append(out, p.PID)
		}
	}
	return out
}

// childrenWith returns the PIDs of the children of ppid whose command line
// holds arg (NUL-separated arguments).
func childrenWith(ppid int, arg string) []int {
	var out []int
	for _, pid := range childrenOf(ppid) {
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.Contains(cmdline, []byte(arg)) {
			out = append(out, pid)
		}
	}
	return out
}

// childWith returns the pid of the child of ppid whose command line holds
// arg, or 0.
func childWith(ppid int, arg string) int {
	if pids := childrenWith(ppid, arg); len(pids) > 0 {
		return pids[0]
	}
	return 0
}

// readPID waits for path to hold a pid, as a command writes `$!` to it.
func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	sdktest.Eventually(t, e2eWait, "a pid in "+path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasSuffix(b, []byte("\n")) {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// rollbackState is a rollback command that writes the state of the process
// whose pid is in pidfile to out ("gone" when it does not exist), as the
// rollback starts. "$${" is HCL's escape for the shell's "${".
func rollbackState(pidfile, out string) string {
	return fmt.Sprintf(`s=$(cut -d' ' -f3 /proc/$(cat %s)/stat 2>/dev/null); echo "$${s:-gone}" > %s`, pidfile, out)
}

func TestInterruptEndsBackgroundedChild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	dir, _ := workdir(t, "")
	pidfile, state := filepath.Join(dir, "pid"), filepath.Join(dir, "state")
	// A non-interactive shell starts `sleep 36 &` with SIGINT ignored: the
	// interrupt ends the wait and the shell, not the sleep.
	hcl := fmt.Sprintf(`
task "slow" {
  run      = "sleep 36 & echo $! > %s; wait"
  rollback = %q
}
`, pidfile, rollbackState(pidfile, state))
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, out, exited := startBackground(t, dir, func() bool { _, err := os.Stat(pidfile); return err == nil }, "apply", "main.hcl")
	child := readPID(t, pidfile)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("fanout did not stop after Ctrl-C:\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, out)
	}
	// At once: fanout has exited, and the child must not outlive it.
	if alive(child) {
		t.Errorf("the backgrounded sleep %d outlived the interrupted run (state %s)\n%s", child, procState(child), out)
	}
	b, err := os.ReadFile(state)
	if err != nil {
		t.Fatalf("the rollback did not run: %v\n%s", err, out)
	}
	if s := strings.TrimSpace(string(b)); s != "gone" && s != "Z" {
		t.Errorf("the backgrounded sleep was in state %s when the rollback started, want gone", s)
	}
}

func TestLocalPluginKilledMidCommand(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("commands are supervised on Linux only")
	}
	dir, _ := workdir(t, "")
	pidfile, done := filepath.Join(dir, "pid"), filepath.Join(dir, "done")
	hcl := fmt.Sprintf(`
task "slow" {
  run      = "sleep 20 & echo $! > %s; wait; touch %s"
  rollback = "true"
}
`, pidfile, done)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, out, exited := startBackground(t, dir, func() bool { _, err := os.Stat(pidfile); return err == nil }, "apply", "main.hcl")
	child := readPID(t, pidfile)
	plugin := childWith(cmd.Process.Pid, "internal-plugin\x00local")
	if plugin == 0 {
		t.Fatalf("no local plugin process under fanout %d", cmd.Process.Pid)
	}
	if childWith(plugin, "fanout-local-supervisor") == 0 {
		t.Fatalf("the local plugin runs the command without a supervisor: fanout's main must call local.SupervisorMain() first")
	}
	if err := syscall.Kill(plugin, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("fanout did not end after its plugin died:\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, out)
	}
	// The command's group died with the plugin, before fanout reported the
	// failure and tried its rollback.
	if alive(child) {
		t.Errorf("the command's sleep %d outlived its crashed plugin (state %s)\n%s", child, procState(child), out)
	}
	if _, err := os.Stat(done); err == nil {
		t.Errorf("the command ran on after its plugin died")
	}
}

func TestLocalSignalNames(t *testing.T) {
	dir, _ := workdir(t, `
task "crash" {
  run = "ulimit -c 0; kill -SEGV $$"
}
`)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "killed by SIGSEGV") || !strings.Contains(lineWith(r.stdout, "crash  localhost"), "SIGSEGV") {
		t.Errorf("the recap does not name SIGSEGV:\n%s", r.stdout)
	}
}

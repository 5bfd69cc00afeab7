package reaper_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/reaper"
	"github.com/fanout/fanout/sdk/procstat"
)

// helperEnv makes the test binary, re-executed, play a part instead of
// running tests: "plugin", a plugin process whose commands outlive it, or
// "command", one of those commands.
const helperEnv = "REAPER_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "plugin":
		os.Exit(playPlugin())
	case "command":
		os.Exit(playCommand())
	case "enabled":
		fmt.Println(reaper.Enabled())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// playPlugin starts a command in a process group of its own (as the local
// transport does) and a daemon in a session of its own, prints "COMMAND
// GRANDCHILD DAEMON" and exits without waiting for them, as a plugin that
// crashes mid-command.
func playPlugin() int {
	cmd := helper("command")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	grandchild, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fmt.Fprintln(os.Stderr, "command:", err)
		return 1
	}
	daemon := exec.Command("sleep", "60")
	daemon.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := daemon.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%d %s %d\n", cmd.Process.Pid, strings.TrimSpace(grandchild), daemon.Process.Pid)
	return 0
}

// playCommand starts a child in yet another process group, prints its pid
// and waits: the child is orphaned only once this process is killed.
func playCommand() int {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(cmd.Process.Pid)
	// Closing stdout tells the test the pid is all; an error would show
	// there as a pipe that never ends.
	_ = os.Stdout.Close()
	_ = cmd.Wait()
	return 0
}

func helper(part string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	// Under -race, a process sleeps a second at exit unless told not to.
	cmd.Env = append(os.Environ(), helperEnv+"="+part, "GORACE=atexit_sleep_ms=0")
	return cmd
}

// orphans are what a crashed plugin left: command, a child of this process
// once the plugin is gone; grandchild, command's child in a group of its
// own; daemon, in a session of its own.
type orphans struct {
	plugin, command, grandchild, daemon int
}

// startCrashingPlugin runs a helper plugin to its end and returns what it
// left; they are killed when the test ends.
func startCrashingPlugin(t *testing.T) orphans {
	t.Helper()
	cmd := helper("plugin")
	// In a session of its own, as a plugin host may start it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper plugin: %v", err)
	}
	var o orphans
	if _, err := fmt.Sscan(string(out), &o.command, &o.grandchild, &o.daemon); err != nil {
		t.Fatalf("helper plugin printed %q: %v", out, err)
	}
	o.plugin = cmd.Process.Pid
	t.Cleanup(func() {
		for _, pid := range []int{o.command, o.grandchild, o.daemon} {
			_ = syscall.Kill(-pid, syscall.SIGKILL) // each leads its group
		}
		// Reap what is left; nothing else of this test is a child now.
		_, _ = reaper.KillOrphans(context.Background(), func(reaper.Process) bool { return false })
	})
	return o
}

// state is the process's state letter in /proc ("S", "Z"), or "" when it
// does not exist: exited and reaped.
func state(pid int) string {
	s, err := procstat.Read(pid)
	if err != nil {
		return ""
	}
	return string(s.State)
}

// parent is pid's parent, 0 when it does not exist.
func parent(pid int) int {
	s, err := procstat.Read(pid)
	if err != nil {
		return 0
	}
	return s.PPID
}

func TestKillOrphans(t *testing.T) {
	if err := reaper.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	// A child that os/exec has yet to wait for, as a plugin process that
	// just crashed: exited, it must not be reaped behind os/exec's back.
	kept := exec.Command("true")
	if err := kept.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); state(kept.Process.Pid) != "Z"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the kept child did not exit: state %q", state(kept.Process.Pid))
		}
	}

	o := startCrashingPlugin(t)
	if got := parent(o.command); got != os.Getpid() {
		t.Fatalf("the crashed plugin's command has parent %d, want this process %d: Enable did not make it a subreaper", got, os.Getpid())
	}

	var seen []reaper.Process
	keep := func(p reaper.Process) bool {
		seen = append(seen, p)
		return p.PID == kept.Process.Pid || p.PID == o.daemon
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	killed, err := reaper.KillOrphans(ctx, keep)
	if err != nil {
		t.Fatalf("KillOrphans: %v", err)
	}
	slices.Sort(killed)
	want := []int{o.command, o.grandchild}
	slices.Sort(want)
	if !slices.Equal(killed, want) {
		t.Errorf("killed %v, want the command and its child %v", killed, want)
	}
	// Gone and reaped, not zombies: nothing of them is left.
	for _, pid := range want {
		if s := state(pid); s != "" {
			t.Errorf("process %d is still there, state %s", pid, s)
		}
	}
	// What keep saw describes the processes: the command leads its own
	// group in the crashed plugin's session.
	i := slices.IndexFunc(seen, func(p reaper.Process) bool { return p.PID == o.command })
	if i < 0 {
		t.Fatalf("keep was not asked about the command %d: %+v", o.command, seen)
	}
	if p := seen[i]; p.PGID != o.command || p.SID != o.plugin || p.Zombie {
		t.Errorf("keep saw the command as %+v, want group %d, session %d, alive", p, o.command, o.plugin)
	}

	// Spared: the daemon runs on, and the kept child is still os/exec's to
	// reap.
	if s := state(o.daemon); s == "" || s == "Z" {
		t.Errorf("the spared daemon %d is gone (state %q)", o.daemon, s)
	}
	if err := kept.Wait(); err != nil {
		t.Errorf("Wait of the kept child = %v, want its exit status: was it reaped behind os/exec's back?", err)
	}
}

func TestKillOrphansBySession(t *testing.T) {
	if err := reaper.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	o := startCrashingPlugin(t)
	// The policy a plugin host can use when it starts each plugin in a
	// session of its own: kill only what stayed in the crashed plugin's.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	killed, err := reaper.KillOrphans(ctx, func(p reaper.Process) bool { return p.SID != o.plugin })
	if err != nil {
		t.Fatalf("KillOrphans: %v", err)
	}
	if slices.Contains(killed, o.daemon) || !slices.Contains(killed, o.command) {
		t.Errorf("killed %v: want the command %d, not the daemon %d", killed, o.command, o.daemon)
	}
	if s := state(o.grandchild); s != "" {
		t.Errorf("the command's child %d is still there, state %s", o.grandchild, s)
	}
	if s := state(o.daemon); s == "" || s == "Z" {
		t.Errorf("the daemon %d of another session is gone (state %q)", o.daemon, s)
	}
}

func TestEnabled(t *testing.T) {
	// The test binary is a subreaper once any test enabled it; a fresh
	// child of it is not.
	if err := reaper.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if !reaper.Enabled() {
		t.Error("Enabled() = false after Enable")
	}
	out, err := helper("enabled").Output()
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != "false" {
		t.Errorf("a new process that did not call Enable: Enabled() = %s, want false", got)
	}
}

func TestKillOrphansNone(t *testing.T) {
	if err := reaper.Enable(); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	killed, err := reaper.KillOrphans(context.Background(), func(reaper.Process) bool { return true })
	if err != nil || len(killed) != 0 {
		t.Errorf("KillOrphans with everything kept = %v, %v; want nothing", killed, err)
	}
}

package local_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk/procstat"
	"github.com/fanout/fanout/sdk/sdktest"
)

// firstInt reads the first line of s as an integer, such as a pid a command
// printed with `echo $$`.
func firstInt(t *testing.T, s string) int {
	t.Helper()
	line, _, _ := strings.Cut(s, "\n")
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("want a number on the first line of %q: %v", s, err)
	}
	return n
}

// startedGroup waits for the first line of stdout, where the command
// printed its shell's pid with `echo $$`: the pid is the command's process
// group, which is killed when the test ends. It returns the group.
func startedGroup(t *testing.T, stdout *sdktest.Output) int {
	t.Helper()
	sdktest.WaitSeen(t, stdout, "\n", 10*time.Second)
	pgid := firstInt(t, stdout.String())
	t.Cleanup(func() { killGroup(pgid) })
	return pgid
}

// liveGroupMembers lists the processes of group pgid that are alive, not
// zombies waiting for a parent (in a container, pid 1 may never reap
// them). It reads /proc, so it is Linux only.
func liveGroupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: cannot inspect process groups")
	}
	all, err := procstat.All()
	if err != nil {
		t.Fatal(err)
	}
	var live []int
	for _, p := range all {
		if p.PGID == pgid && !p.Ended() {
			live = append(live, p.PID)
		}
	}
	return live
}

// waitGroupGone fails the test if group pgid still has live members after d.
func waitGroupGone(t *testing.T, pgid int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		live := liveGroupMembers(t, pgid)
		if len(live) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still has live processes %v after %s", pgid, live, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killGroup is cleanup for tests that leave a group behind on purpose.
func killGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// returned reports whether run's Exec has returned already, and how: a
// test that must act while the command still runs checks it first.
func returned(t *testing.T, run *sdktest.Running) (sdktest.Result, bool) {
	t.Helper()
	select {
	case <-run.Done():
		return run.Wait(t, time.Second), true
	default:
		return sdktest.Result{}, false
	}
}

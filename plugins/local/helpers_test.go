package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// waitSeen fails the test if s is not written within d.
func waitSeen(t *testing.T, b *sdktest.Output, s string, d time.Duration) {
	t.Helper()
	select {
	case <-b.Seen(s):
	case <-time.After(d):
		t.Fatalf("%q not written within %s; got %q", s, d, b.String())
	}
}

type execResult struct {
	resp           *sdk.ExecResponse
	err            error
	stdout, stderr *sdktest.Output
}

// startExec runs req on tr in a goroutine; the result arrives on the
// returned channel, and the output buffers fill as the command writes.
func startExec(ctx context.Context, tr sdk.Transport, req *sdk.ExecRequest) (stdout, stderr *sdktest.Output, result <-chan execResult) {
	stdout, stderr = &sdktest.Output{}, &sdktest.Output{}
	ch := make(chan execResult, 1)
	go func() {
		resp, err := tr.Exec(ctx, req, sdk.ExecOutput{Stdout: stdout, Stderr: stderr})
		ch <- execResult{resp: resp, err: err, stdout: stdout, stderr: stderr}
	}()
	return stdout, stderr, ch
}

// await fails the test if the Exec does not return within d.
func await(t *testing.T, ch <-chan execResult, d time.Duration) execResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(d):
		t.Fatalf("exec did not return within %s", d)
		return execResult{}
	}
}

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
	waitSeen(t, stdout, "\n", 10*time.Second)
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
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var live []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited while we looked
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if pg, _ := strconv.Atoi(f[2]); pg == pgid {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			live = append(live, pid)
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

package reaper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/fanout/fanout/sdk/procstat"
)

// poll is how often KillOrphans looks again for what it has not seen end.
const poll = 10 * time.Millisecond

// Enable makes this process a child subreaper: a process orphaned anywhere
// below it (its parent died) becomes its child, instead of init's. It
// affects the whole process and lasts for its life; calling it again does
// nothing more.
//
// Orphans that exit become zombies of this process until KillOrphans reaps
// them or the process exits; os/exec never waits for them.
func Enable() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become a child subreaper: %w", err)
	}
	return nil
}

// Enabled reports whether this process is a child subreaper, as Enable
// makes it: only then do the orphans of its children's crashes become its
// children, for KillOrphans to find. KillOrphans finds nothing otherwise,
// which proves nothing.
func Enabled() bool {
	var v int32
	if err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&v)), 0, 0, 0); err != nil {
		return false
	}
	return v != 0
}

// KillOrphans kills every child of this process for which keep returns
// false, and the whole process group of each, with SIGKILL, then waits
// until they are gone: until this process has no child left that keep
// refuses, and no process is alive in a group it killed. Children of the
// killed processes that are orphaned in turn are killed the same way. It
// returns the pids of the children it killed or reaped, in order, and an
// error wrapping ctx's if ctx ended first: then some may still run.
//
// keep must return true for every child that os/exec (or anything else)
// started and has not yet waited for, exited or not, such as the live
// plugin processes and the crashed one until its Wait has returned:
// KillOrphans reaps the children it kills, with waitid on each one's pid,
// never with a wait for any child, and a child it reaped would be lost to
// its owner's Wait. It may also spare an orphan on purpose, such as a
// daemon from a session other than the crashed plugin's.
//
// A group is killed whole unless it is this process's own group or that of
// a child keep spares; then only the orphan itself is killed.
func KillOrphans(ctx context.Context, keep func(Process) bool) (killed []int, err error) {
	self := os.Getpid()
	ownGroup := syscall.Getpgrp()
	groups := map[int]bool{} // the groups killed
	for {
		children, err := scan(func(p Process, ppid int) bool { return ppid == self })
		if err != nil {
			return killed, err
		}
		spared := map[int]bool{ownGroup: true}
		var orphans []Process
		for _, c := range children {
			if keep(c) {
				spared[c.PGID] = true
			} else {
				orphans = append(orphans, c)
			}
		}
		for _, o := range orphans {
			if !slices.Contains(killed, o.PID) {
				killed = append(killed, o.PID)
			}
			// Killed before it is reaped: while it is unreaped its pid,
			// and so its group, cannot be reused.
			if o.PGID > 0 && !spared[o.PGID] {
				groups[o.PGID] = true
				_ = syscall.Kill(-o.PGID, syscall.SIGKILL)
			} else {
				_ = syscall.Kill(o.PID, syscall.SIGKILL)
			}
			reap(o.PID)
		}
		var pending []int
		if len(orphans) > 0 {
			for _, o := range orphans {
				pending = append(pending, o.PID)
			}
		} else {
			live, err := scan(func(p Process, _ int) bool { return groups[p.PGID] && !p.Zombie })
			if err != nil {
				return killed, err
			}
			if len(live) == 0 {
				return killed, nil
			}
			// Killed but not dead yet, or a member whose parent is not
			// among this process's descendants.
			for _, p := range live {
				pending = append(pending, p.PID)
				_ = syscall.Kill(p.PID, syscall.SIGKILL)
			}
		}
		select {
		case <-ctx.Done():
			return killed, fmt.Errorf("orphaned processes %v still running: %w", pending, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// reap reaps pid if it has exited, without waiting, and leaves any other
// child alone.
func reap(pid int) {
	for {
		err := unix.Waitid(unix.P_PID, pid, new(unix.Siginfo), unix.WEXITED|unix.WNOHANG, nil)
		if !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// scan lists the processes of /proc for which match, given the process
// and its parent's pid, returns true.
func scan(match func(p Process, ppid int) bool) ([]Process, error) {
	all, err := procstat.All()
	if err != nil {
		return nil, err
	}
	var out []Process
	for _, st := range all {
		p := Process{PID: st.PID, PGID: st.PGID, SID: st.SID, Zombie: st.Ended()}
		if match(p, st.PPID) {
			out = append(out, p)
		}
	}
	return out, nil
}

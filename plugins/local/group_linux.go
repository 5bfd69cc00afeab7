package local

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

// groupAlive reports whether a process of the group pgid is still running.
// Zombies do not count: a command's orphaned children are reaped by pid 1,
// which in a container may take seconds, and waiting for that would make
// every stopped command take the whole kill grace period.
func groupAlive(pgid int) bool {
	if !anyInGroup(pgid) {
		return false
	}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return true // no /proc to look in: trust kill(0)
	}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // it exited while we looked
		}
		// "pid (comm) state ppid pgrp ...": comm may hold spaces and
		// parentheses, so the fields are counted after its last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 3 || f[0][0] == 'Z' || f[0][0] == 'X' {
			continue
		}
		if pg, err := strconv.Atoi(string(f[2])); err == nil && pg == pgid {
			return true
		}
	}
	return false
}

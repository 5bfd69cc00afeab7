package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Stat is what the package reads of a process's /proc/PID/stat line.
type Stat struct {
	// PID is the process id.
	PID int
	// Comm is the command name, as the kernel reports it (at most 15
	// bytes of the program's name, or what it set with prctl).
	Comm string
	// State is the state letter: R running, S sleeping, D in disk sleep,
	// T stopped, Z zombie, X dead, and others (proc(5)).
	State byte
	// PPID is the parent's process id.
	PPID int
	// PGID is the process group.
	PGID int
	// SID is the session.
	SID int
}

// Ended reports whether the process has ended: a zombie, which has exited
// and waits for its parent to reap it, or dead. Its pid still names it
// until it is reaped, and kill(2) still finds it.
func (s Stat) Ended() bool {
	return s.State == 'Z' || s.State == 'X' || s.State == 'x'
}

// Parse reads one /proc/PID/stat line: "PID (COMM) STATE PPID PGRP
// SESSION ...". COMM may hold spaces and parentheses, so it runs from the
// first '(' to the last ')'.
func Parse(b []byte) (Stat, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q: no (command name)", truncate(b))
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 4 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q: want state, ppid, pgrp and session after the command name", truncate(b))
	}
	s := Stat{Comm: string(b[open+1 : end]), State: f[0][0]}
	var errs [4]error
	s.PID, errs[0] = strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	s.PPID, errs[1] = strconv.Atoi(string(f[1]))
	s.PGID, errs[2] = strconv.Atoi(string(f[2]))
	s.SID, errs[3] = strconv.Atoi(string(f[3]))
	if err := errors.Join(errs[:]...); err != nil {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q: %w", truncate(b), err)
	}
	return s, nil
}

// Read reads the stat of process pid. An error wrapping fs.ErrNotExist
// means there is no such process (or no /proc).
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return Parse(b)
}

// All reads the stat of every process in /proc, in no particular order.
// A process that ends and is reaped while All reads is left out, and so
// is a line it cannot parse. /proc listing no process at all is an error:
// it is not mounted, or this is not Linux.
func All() ([]Stat, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	if len(paths) == 0 {
		return nil, errors.New("list processes: /proc shows none: is it mounted?")
	}
	out := make([]Stat, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // it ended and was reaped while we looked
		}
		if s, err := Parse(b); err == nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// truncate shortens a line for an error message.
func truncate(b []byte) []byte {
	const limit = 80
	if len(b) > limit {
		return b[:limit]
	}
	return b
}

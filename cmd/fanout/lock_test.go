package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A lock that cannot be emptied on release is said on stderr: the next run
// would otherwise find this one named as a stale holder with no warning.
func TestReleaseLockSaysWhenItFails(t *testing.T) {
	dir := t.TempDir()
	l, _, err := acquireLock(dir, lockInfo{RunID: "run-1", Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	// Closed behind the lock's back: emptying the file fails.
	if err := l.f.Close(); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	releaseLock(&streams{Out: &bytes.Buffer{}, Err: &errb}, "apply", l)
	if got := errb.String(); !strings.HasPrefix(got, "fanout apply: release the run lock "+filepath.Join(dir, runLockName)+": ") {
		t.Errorf("stderr = %q, want the failed release of the lock file", got)
	}

	// And a clean release says nothing and leaves the file empty.
	l, _, err = acquireLock(dir, lockInfo{RunID: "run-2", Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	releaseLock(&streams{Out: &bytes.Buffer{}, Err: &errb}, "apply", l)
	if errb.Len() != 0 {
		t.Errorf("stderr = %q after a clean release, want nothing", errb.String())
	}
	if b, err := os.ReadFile(filepath.Join(dir, runLockName)); err != nil || len(b) != 0 {
		t.Errorf("lock file after release = %q, %v; want it empty", b, err)
	}
}

// TestLockHeldByExecsOverADeadHolder: an apply refused while execs share
// the lock names fanout exec, not the dead apply whose words the file
// still holds.
func TestLockHeldByExecsOverADeadHolder(t *testing.T) {
	dir := t.TempDir()
	host, _ := os.Hostname()
	dead := `{"pid":999999999,"host":"` + host + `","user":"ana","started":"2026-12-01T00:00:00Z","run_id":"old","command":"apply"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, runLockName), []byte(dead), 0o600); err != nil {
		t.Fatal(err)
	}
	shared, err := acquireSharedLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shared.release() }()
	_, _, err = acquireLock(dir, lockInfo{RunID: "new", Command: "apply"})
	if err == nil || !strings.Contains(err.Error(), "already being run by fanout exec (one or more)") {
		t.Errorf("apply while an exec holds the lock: %v", err)
	}
}

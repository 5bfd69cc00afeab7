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

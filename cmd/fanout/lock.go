package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/fanout/fanout/core"
)

// runLockName is the lock file two runs of one configuration contend for,
// in the configuration's .fanout directory beside the journals (runs/).
const runLockName = "lock"

// lockInfo is what a lock file says about its holder, so that whoever is
// refused knows whom to ask.
type lockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	User    string    `json:"user"`
	Started time.Time `json:"started"`
	RunID   string    `json:"run_id"`
	// Command is "apply" or "rollback".
	Command string `json:"command"`
}

func (i *lockInfo) String() string {
	return fmt.Sprintf("pid %d on %s (user %s), %s of run %s since %s",
		i.PID, i.Host, i.User, i.Command, i.RunID, i.Started.Local().Format(time.DateTime))
}

// lockHeldError is a lock some live process holds.
type lockHeldError struct {
	path   string
	holder *lockInfo // nil when the file could not be read, or is empty
	// empty is whether the file was empty: held by fanout exec, which
	// shares the lock with other execs and writes nothing in it.
	empty bool
}

func (e *lockHeldError) Error() string {
	who := "another fanout (its lock file is unreadable)"
	switch {
	case e.holder != nil:
		who = e.holder.String()
	case e.empty:
		who = "fanout exec (one or more)"
	}
	return fmt.Sprintf("a configuration in this directory is already being run by %s; lock file %s", who, e.path)
}

// runLock is a held lock. The kernel lock (flock) goes with the process:
// a holder that dies, even by SIGKILL, leaves a file whose lock anyone can
// take, which is how a stale lock is told from a live one; its contents
// then name the dead holder.
type runLock struct {
	f    *os.File
	path string
	// shared is whether it is held as fanout exec holds it: the file's
	// contents are not its to empty.
	shared bool
}

// acquireLock takes the lock of the configuration whose .fanout directory
// is dir, or fails with a *lockHeldError naming the holder. stale is the
// previous holder when it died without releasing the lock.
func acquireLock(dir string, info lockInfo) (l *runLock, stale *lockInfo, err error) {
	f, path, err := openLock(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := flockExclusive(f); err != nil {
		return nil, nil, refused(f, path, err)
	}
	// Ours now. Contents left behind mean their writer never released.
	prev, _ := readLockInfo(f)
	info.PID = os.Getpid()
	info.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		info.User = u.Username
	}
	info.Started = time.Now()
	b, _ := json.Marshal(info)
	if err := writeAll(f, append(b, '\n')); err != nil {
		_ = f.Close() // the write's error is the one to report
		return nil, nil, fmt.Errorf("write the lock file %s: %w", path, err)
	}
	return &runLock{f: f, path: path}, prev, nil
}

// acquireSharedLock takes the lock of the configuration whose .fanout
// directory is dir as fanout exec does: shared with other execs, which
// may run at once (an ad hoc command changes nothing a rollback would
// undo), never with an apply or a rollback, whose holder the
// *lockHeldError names. It writes nothing in the file, which names an
// exclusive holder only; a holder that died without releasing the lock
// is for the next apply to note.
func acquireSharedLock(dir string) (*runLock, error) {
	f, path, err := openLock(dir)
	if err != nil {
		return nil, err
	}
	if err := flockShared(f); err != nil {
		return nil, refused(f, path, err)
	}
	return &runLock{f: f, path: path, shared: true}, nil
}

// openLock opens, creating it and dir if need be, the lock file of the
// configuration whose .fanout directory is dir.
func openLock(dir string) (*os.File, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, runLockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("open the lock file: %w", err)
	}
	// It names the operator, the host and the run: 0600 whatever the
	// umask, or an older fanout, made it.
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close() // nothing written: the chmod's error is the one to report
		return nil, "", fmt.Errorf("open the lock file: %w", err)
	}
	return f, path, nil
}

// refused closes f, the lock file at path whose flock failed with err,
// and returns why: a *lockHeldError naming the holder when someone holds
// it. A holder the file names that is dead left its words behind: whoever
// holds the lock now shares it and writes nothing, fanout exec.
func refused(f *os.File, path string, err error) error {
	prev, rerr := readLockInfo(f)
	_ = f.Close() // another run's file, only read: nothing of ours to lose
	if !errors.Is(err, errLocked) {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if host, _ := os.Hostname(); prev != nil && prev.Host == host && !processAlive(prev.PID) {
		prev = nil // another host's holder is not known dead
	}
	return &lockHeldError{path: path, holder: prev, empty: prev == nil && rerr == nil}
}

// alive reports whether the holder's process runs on this host.
func (i *lockInfo) alive() bool {
	host, _ := os.Hostname()
	return i.Host == host && processAlive(i.PID)
}

func writeAll(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	return f.Sync()
}

// readLockInfo reads a lock file's holder; nil for an empty file.
func readLockInfo(f *os.File) (*lockInfo, error) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<16))
	if err != nil || len(b) == 0 {
		return nil, err
	}
	var info lockInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// liveHolder returns the lock's holder when one runs now: a run whose
// journal has no end yet and whose ID is the holder's goes on; fanout did
// not die. Read without locking (taking the lock, even shared, could make
// an apply starting at that moment refuse to run); a holder's process
// that is alive on this host is taken as the run.
func liveHolder(state string) *lockInfo {
	f, err := os.Open(filepath.Join(state, runLockName))
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }() // read only
	info, err := readLockInfo(f)
	if err != nil || info == nil || !info.alive() {
		return nil
	}
	return info
}

// markLive holds an exclusive flock on the journal at path for as long as
// the file it returns stays open: how `fanout runs` tells a run that goes
// on from one whose fanout died (see journalLive), whatever lock the run
// holds on its configuration: execs share theirs, and the lock file names
// none of them. nil when the lock cannot be taken: the run is then listed
// as its lock file says.
func markLive(path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	if err := flockExclusive(f); err != nil {
		_ = f.Close() // read only
		return nil
	}
	return f
}

// goesOn reports whether the run rc journals goes on: it has no end yet,
// and either the lock's live holder (liveHolder, read once by callers
// that ask for many runs) runs it, or its fanout holds its journal's
// flock. It returns the holder when that is the run's.
func goesOn(holder *lockInfo, rc *core.Recovery) (bool, *lockInfo) {
	if _, done := rc.Finished(); done {
		return false, nil
	}
	if holder != nil && holder.RunID == rc.Header.RunID {
		return true, holder
	}
	return journalLive(rc.Path), nil
}

// journalLive reports whether the run journaled at path goes on: its
// fanout holds the journal's flock (see markLive).
func journalLive(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }() // read only; drops the flock if taken
	return errors.Is(flockShared(f), errLocked)
}

// release empties the file (a clean exit leaves no stale holder behind)
// and frees the lock. The file stays: removing it would let a waiter lock
// a file no one else can see. The lock is freed even when emptying the
// file fails; the error says that the next run will find this one named
// as a stale holder (and take over, with a note).
func (l *runLock) release() error {
	if l == nil {
		return nil
	}
	var err error
	if !l.shared {
		if err = l.f.Truncate(0); err == nil {
			err = l.f.Sync()
		}
	}
	if cerr := l.f.Close(); err == nil { // closing drops the flock
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("release the run lock %s: %w", l.path, err)
	}
	return nil
}

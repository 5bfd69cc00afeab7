//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is a lock another process holds.
var errLocked = errors.New("locked")

// flockExclusive takes f's exclusive flock without waiting.
func flockExclusive(f *os.File) error { return flock(f, syscall.LOCK_EX) }

// flockShared takes f's shared flock without waiting.
func flockShared(f *os.File) error { return flock(f, syscall.LOCK_SH) }

// flock takes f's flock of kind how without waiting.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return errLocked
		}
		return err
	}
}

// processAlive reports whether process pid exists (one of another user's
// too: EPERM says it exists).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

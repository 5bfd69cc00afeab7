//go:build !unix

package main

import (
	"errors"
	"os"
)

// errLocked is a lock another process holds.
var errLocked = errors.New("locked")

// flockExclusive does nothing where flock does not exist: the lock file
// still names its holder, but two runs are not kept apart.
func flockExclusive(*os.File) error { return nil }

// flockShared does nothing either.
func flockShared(*os.File) error { return nil }

// processAlive cannot tell here: no run is taken for a live one.
func processAlive(int) bool { return false }

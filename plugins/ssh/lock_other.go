//go:build !unix

package ssh

import "os"

// lockFile is a no-op where flock does not exist: the in-process mutex
// still serialises records of one fanout.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }

//go:build !linux

package local

// groupAlive reports whether a process of the group pgid still exists.
// Without /proc, zombies waiting to be reaped count as alive.
func groupAlive(pgid int) bool { return anyInGroup(pgid) }

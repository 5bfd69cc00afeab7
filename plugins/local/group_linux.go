package local

import "github.com/fanout/fanout/sdk/procstat"

// groupAlive reports whether a process of the group pgid is still running.
// Zombies do not count: a command's orphaned children are reaped by pid 1,
// which in a container may take seconds, and waiting for that would make
// every stopped command take the whole kill grace period.
func groupAlive(pgid int) bool {
	if !anyInGroup(pgid) {
		return false
	}
	all, err := procstat.All()
	if err != nil {
		return true // no /proc to look in: trust kill(0)
	}
	for _, p := range all {
		if p.PGID == pgid && !p.Ended() {
			return true
		}
	}
	return false
}

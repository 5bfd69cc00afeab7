// Package reaper lets fanout end what a crashed plugin left running before
// it rolls back what that plugin was doing.
//
// When a process dies, the kernel gives its children to the nearest
// ancestor that is a child subreaper, or to init. Enable makes fanout one,
// so that the commands of a plugin that dies (a panic, SIGKILL) become
// fanout's children; KillOrphans then finds them in /proc, kills their
// process groups and waits until they are gone. Only then is a rollback of
// the crashed plugin's tasks safe: a rollback that runs while the command it
// undoes still runs is the worst outcome a rollout tool can have.
//
// It works on Linux only; elsewhere Enable and KillOrphans return an error
// wrapping errors.ErrUnsupported, and the caller must say that it cannot
// know whether a crashed plugin's commands are gone.
//
// It knows nothing of plugins: which children to spare is the caller's
// decision (see KillOrphans).
package reaper

// Process is a child of this process, as KillOrphans finds it.
type Process struct {
	// PID is its process id.
	PID int
	// PGID is its process group: what KillOrphans kills.
	PGID int
	// SID is its session. A plugin started in a session of its own
	// (Setsid) shares it with every command it starts that does not leave
	// it, which lets a caller tell a crashed plugin's orphans apart from
	// the daemons other tasks left behind on purpose.
	SID int
	// Zombie is true when it has exited and waits to be reaped.
	Zombie bool
}

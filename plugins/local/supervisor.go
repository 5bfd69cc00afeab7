package local

import (
	"os"
	"sync/atomic"
)

// The supervisor is this plugin's own binary, re-executed once per
// transport under the name supervisorArg0, at the first command. It runs no
// command itself: the plugin starts each command's shell directly, in a new
// process group, and tells the supervisor which groups to kill should the
// plugin die. It costs one process start per plugin, not one per command.
//
// The plugin writes to the supervisor's file descriptor 3, a pipe, one line
// per change:
//
//   - "+PGID" once a command's shell has started (PGID is its pid, and its
//     process group);
//   - "-PGID" once the shell has exited, before the plugin reaps it.
//
// The plugin holds the pipe's only write end, so end of file means that
// the plugin is gone, or that its transport was closed: the supervisor then
// sends SIGKILL to every group still registered, and exits. Since the pipe
// keeps the order of the lines, every "-PGID" written before the plugin
// died is read before that end of file.
//
// A group id is a pid, which the system reuses once nothing holds it. The
// supervisor never kills a reused one: a group is unregistered while its
// shell is still a zombie, whose pid cannot be reused until the plugin
// reaps it, and the plugin reaps it only after the line is in the pipe.
const (
	supervisorArg0 = "fanout-local-supervisor"
	controlFD      = 3
)

// supervisorReady is set once SupervisorMain has run in this process and
// returned: the binary then handles supervisorArg0 and can supervise.
var supervisorReady atomic.Bool

// SupervisorMain runs the command supervisor when this process was started
// as one by the local transport, and returns at once otherwise. A binary
// that serves the local transport calls it first thing in main, before
// anything reads flags or arguments:
//
//	func main() {
//		local.SupervisorMain()
//		...
//	}
//
// On Linux the local transport then starts one supervisor per plugin
// process: the binary itself, re-executed, which kills the process group
// of every command still running if the plugin process dies (a panic,
// SIGKILL), so that a crashed plugin leaves nothing running behind the
// rollback that follows. In a binary that does not call SupervisorMain,
// and on other systems, commands outlive a crash of the plugin.
func SupervisorMain() {
	if len(os.Args) > 0 && os.Args[0] == supervisorArg0 {
		os.Exit(supervise())
	}
	supervisorReady.Store(true)
}

// supervisorPath returns the binary to re-execute as the supervisor, or
// false when commands run unsupervised: on systems other than Linux, or in
// a binary that did not call SupervisorMain. It is /proc/self/exe, which
// names the very binary this process runs even if its file was replaced by
// an upgrade since: the supervisor always speaks the plugin's protocol.
func supervisorPath() (string, bool) {
	if !superviseCommands || !supervisorReady.Load() {
		return "", false
	}
	return "/proc/self/exe", true
}

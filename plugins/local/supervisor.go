package local

import (
	"os"
	"sync/atomic"
)

// A command's supervisor is this plugin's own binary, re-executed under the
// name supervisorArg0 with the shell's path and argument list as its
// arguments. It
// starts the shell in a new process group and waits for it; if the plugin
// process dies first, it kills that group with SIGKILL. The plugin runs the
// supervisor in a process group of its own, so that neither a signal for
// the command nor one for the plugin's group reaches it.
//
// The plugin and the supervisor talk over two pipes, passed as the
// supervisor's file descriptors 3 and 4:
//
//   - fd 3, the lifeline, is read by the supervisor. The plugin holds its
//     write end and never writes: end of file means the plugin is gone.
//   - fd 4, the report, is written by the supervisor, one line at a time:
//     "pid N" once the shell started (N is also the command's process
//     group) or "error MESSAGE" if it could not start; then "exit N" or
//     "signal N" once the shell has ended.
const (
	supervisorArg0 = "fanout-local-supervisor"
	lifelineFD     = 3
	reportFD       = 4
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
// On Linux the local transport then runs every command under a supervisor:
// the binary itself, re-executed, which kills the command's process group
// if the plugin process dies while the command runs (a panic, SIGKILL), so
// that a crashed plugin leaves nothing running behind the rollback that
// follows. In a binary that does not call SupervisorMain, and on other
// systems, commands run directly under the plugin process and outlive a
// crash of it.
func SupervisorMain() {
	if len(os.Args) > 0 && os.Args[0] == supervisorArg0 {
		os.Exit(supervise(os.Args[1:]))
	}
	supervisorReady.Store(true)
}

// supervisorPath returns the binary to re-execute as a supervisor, or false
// when commands run unsupervised: on systems other than Linux, or in a
// binary that did not call SupervisorMain. It is /proc/self/exe, which
// names the very binary this process runs even if its file was replaced
// by an upgrade since: a supervisor always speaks the plugin's protocol.
func supervisorPath() (string, bool) {
	if !superviseCommands || !supervisorReady.Load() {
		return "", false
	}
	return "/proc/self/exe", true
}

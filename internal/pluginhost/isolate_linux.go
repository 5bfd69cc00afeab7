package pluginhost

import (
	"os/exec"
	"syscall"
)

// isolate puts the plugin in a session of its own, and so in a process
// group of its own, so that the terminal's Ctrl-C and signals sent to
// fanout's group reach fanout alone: fanout decides when its plugins stop,
// after the rollbacks that need them. The session's id is the plugin's
// pid, and every command the plugin starts stays in it unless it leaves on
// purpose (a daemon): after a crash, that is how Plugin.KillOrphans tells
// the plugin's orphans apart. The kernel sends the plugin SIGTERM if
// fanout dies without stopping it (SIGKILL), which sdk.Serve turns into
// closing the transport, so that no plugin or command outlives fanout.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
}

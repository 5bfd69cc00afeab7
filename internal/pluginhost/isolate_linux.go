package pluginhost

import (
	"os/exec"
	"syscall"
)

// isolate puts the plugin in its own process group, so that the terminal's
// Ctrl-C and signals sent to fanout's group reach fanout alone: fanout
// decides when its plugins stop, after the rollbacks that need them. The
// kernel sends the plugin SIGTERM if fanout dies without stopping it
// (SIGKILL), which sdk.Serve turns into closing the transport, so that no
// plugin or command outlives fanout.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

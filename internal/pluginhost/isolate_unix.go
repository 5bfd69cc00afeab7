//go:build unix && !linux

package pluginhost

import (
	"os/exec"
	"syscall"
)

// isolate puts the plugin in its own process group, so that the terminal's
// Ctrl-C and signals sent to fanout's group reach fanout alone: fanout
// decides when its plugins stop, after the rollbacks that need them.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

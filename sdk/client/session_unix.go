//go:build unix

package client

import (
	"os/exec"
	"syscall"
)

// killSession kills the processes of cmd's session when cmd was started
// as the leader of a session of its own (SysProcAttr.Setsid), its
// process group's id being its pid. Linux does not reuse a pid while a
// group of that id lives, so the group is the plugin's or gone.
func killSession(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil || cmd.SysProcAttr == nil || !cmd.SysProcAttr.Setsid {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH: gone already
}

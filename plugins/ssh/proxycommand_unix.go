//go:build unix

package ssh

import (
	"os/exec"
	"syscall"
)

const (
	hangup = syscall.SIGHUP
	kill   = syscall.SIGKILL
)

// setProcessGroup starts cmd in a process group of its own, so that what
// it starts ends with it.
func setProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends sig to cmd's process group.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process != nil {
		// Gone already is fine: it is what the signal is for.
		_ = syscall.Kill(-cmd.Process.Pid, sig)
	}
}

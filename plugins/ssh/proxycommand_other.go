//go:build !unix

package ssh

import (
	"os"
	"os/exec"
)

var (
	hangup = os.Kill
	kill   = os.Kill
)

// setProcessGroup does nothing where there are no process groups.
func setProcessGroup(*exec.Cmd) {}

// signalGroup kills cmd's process, the one signal there is.
func signalGroup(cmd *exec.Cmd, _ os.Signal) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill() // gone already is fine
	}
}

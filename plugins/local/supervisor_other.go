//go:build !linux

package local

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// superviseCommands is false: commands run directly under the plugin, and
// a plugin that crashes leaves them running. Fanout's host side cannot
// reap them either (it is a subreaper on Linux only).
const superviseCommands = false

// supervise is never started on this system; see superviseCommands.
func supervise() int {
	fmt.Fprintln(os.Stderr, "fanout: the local transport's command supervisor runs on Linux only")
	return 2
}

// killOnParentDeath does nothing: there is no supervisor to cover for.
func killOnParentDeath(*syscall.SysProcAttr) {}

// waitExited is not called on this system, where commands are never
// supervised: a process cannot be waited for without reaping it.
func waitExited(int) error { return errors.ErrUnsupported }

//go:build !unix

package sdk

import (
	"strconv"
	"syscall"
)

// SignalName returns the number of sig in decimal: this system has no
// POSIX signal names. See the Unix version for what ExecResponse.Signal
// takes.
func SignalName(sig syscall.Signal) string { return strconv.Itoa(int(sig)) }

// SignalNum reports false: this system has no POSIX signal names.
func SignalNum(string) (syscall.Signal, bool) { return 0, false }

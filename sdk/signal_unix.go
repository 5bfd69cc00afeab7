//go:build unix

package sdk

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SignalName returns the name of sig as the protocol carries it: the POSIX
// name without its SIG prefix ("SEGV", "TERM", "KILL"). It is what
// ExecResponse.Signal takes for a command a signal killed, which fanout
// shows as "killed by SIGSEGV"; never sig.String(), which is a description
// ("segmentation fault"). A number this system has no name for is
// returned in decimal ("42").
//
// Fill ExecResponse from a local process's wait status with:
//
//	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
//		return &sdk.ExecResponse{ExitCode: -1, Signal: sdk.SignalName(ws.Signal())}, nil
//	}
//
// A remote transport that learns a name ("SEGV" from SSH's exit-signal)
// passes it on as it is.
func SignalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return strings.TrimPrefix(name, "SIG")
	}
	return strconv.Itoa(int(sig))
}

// SignalNum returns the signal a SignalRequest.Signal names ("INT",
// "TERM"; a SIG prefix is accepted too), and false for a name this system
// does not know, which Signal should report as an error.
func SignalNum(name string) (syscall.Signal, bool) {
	if name == "" {
		return 0, false
	}
	sig := unix.SignalNum("SIG" + strings.TrimPrefix(name, "SIG"))
	return sig, sig != 0
}

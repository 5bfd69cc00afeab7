package local

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// parseSignal reads a signal name as the sdk sends it: "TERM", "SIGTERM"
// and "term" are the same signal. Names are the system's, through
// golang.org/x/sys/unix, so that every signal it knows is accepted.
func parseSignal(name string) (syscall.Signal, error) {
	n := strings.ToUpper(name)
	if !strings.HasPrefix(n, "SIG") {
		n = "SIG" + n
	}
	if sig := unix.SignalNum(n); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", name)
}

// signalName names sig as the sdk does, without the SIG prefix ("TERM",
// "SEGV"); a signal the system has no name for (a real-time signal) is its
// number.
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return strings.TrimPrefix(n, "SIG")
	}
	return strconv.Itoa(int(sig))
}

// endsCommand reports whether sig, sent by Signal, asks the command to end
// rather than to do something else (USR1 to reload, STOP to pause): once
// its shell has exited, Exec then stops what the command left running in
// its process group, as a timeout or a cancellation does. Without this, an
// interrupted `sleep 36 & wait` would leave sleep running: a
// non-interactive shell's background jobs ignore SIGINT.
func endsCommand(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGKILL:
		return true
	}
	return false
}

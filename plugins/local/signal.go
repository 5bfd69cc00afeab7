package local

import (
	"fmt"
	"strings"
	"syscall"

	"github.com/fanout/fanout/sdk"
)

// parseSignal reads a signal name as the sdk sends it: "TERM", "SIGTERM"
// and "term" are the same signal. Names are sdk.SignalNum's, the system's
// through golang.org/x/sys/unix, so that every signal it knows is
// accepted; sdk.SignalName names a signal back.
func parseSignal(name string) (syscall.Signal, error) {
	if sig, ok := sdk.SignalNum(strings.ToUpper(name)); ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", name)
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

package local

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// signals are the signals Signal accepts, by their POSIX names without the
// SIG prefix, as the sdk names them on the wire.
var signals = []struct {
	name string
	sig  syscall.Signal
}{
	{"HUP", syscall.SIGHUP},
	{"INT", syscall.SIGINT},
	{"QUIT", syscall.SIGQUIT},
	{"ABRT", syscall.SIGABRT},
	{"KILL", syscall.SIGKILL},
	{"USR1", syscall.SIGUSR1},
	{"USR2", syscall.SIGUSR2},
	{"PIPE", syscall.SIGPIPE},
	{"ALRM", syscall.SIGALRM},
	{"TERM", syscall.SIGTERM},
	{"CONT", syscall.SIGCONT},
	{"STOP", syscall.SIGSTOP},
	{"TSTP", syscall.SIGTSTP},
	{"WINCH", syscall.SIGWINCH},
}

// parseSignal reads a signal name; "SIGTERM", "term" and "TERM" are the
// same signal.
func parseSignal(name string) (syscall.Signal, error) {
	n := strings.TrimPrefix(strings.ToUpper(name), "SIG")
	for _, s := range signals {
		if s.name == n {
			return s.sig, nil
		}
	}
	return 0, fmt.Errorf("unknown signal %q", name)
}

// signalName names sig as the sdk does ("TERM"); a signal without a name
// here is its number.
func signalName(sig syscall.Signal) string {
	for _, s := range signals {
		if s.sig == sig {
			return s.name
		}
	}
	return strconv.Itoa(int(sig))
}

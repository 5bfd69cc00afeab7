package local

import (
	"syscall"
	"testing"

	"github.com/fanout/fanout/sdk"
)

// TestParseSignal: every spelling the sdk allows names the same signal,
// which sdk.SignalName names back as fanout shows it; anything else is an
// error naming what was asked.
func TestParseSignal(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want syscall.Signal
		name string
	}{
		{"TERM", syscall.SIGTERM, "TERM"},
		{"SIGTERM", syscall.SIGTERM, "TERM"},
		{"term", syscall.SIGTERM, "TERM"},
		{"sigusr1", syscall.SIGUSR1, "USR1"},
		{"CONT", syscall.SIGCONT, "CONT"},
		{"WINCH", syscall.SIGWINCH, "WINCH"},
	} {
		sig, err := parseSignal(tt.in)
		if err != nil || sig != tt.want || sdk.SignalName(sig) != tt.name {
			t.Errorf("parseSignal(%q) = %v (%s), %v; want %v (%s)", tt.in, sig, sdk.SignalName(sig), err, tt.want, tt.name)
		}
	}
	for _, in := range []string{"", "NOPE", "SIG", "15", "TERM "} {
		if sig, err := parseSignal(in); err == nil || err.Error() != `unknown signal "`+in+`"` {
			t.Errorf("parseSignal(%q) = %v, %v; want unknown signal", in, sig, err)
		}
	}
}

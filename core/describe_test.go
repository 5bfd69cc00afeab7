package core

import (
	"strings"
	"testing"
	"time"
)

func TestPhaseResultDescribe(t *testing.T) {
	tests := []struct {
		r    PhaseResult
		want string
	}{
		{PhaseResult{Status: StatusOK}, "ok"},
		{PhaseResult{Status: StatusFailed, ExitCode: 3}, "exit 3"},
		{PhaseResult{Status: StatusFailed, ExitCode: -1, Signal: "KILL"}, "killed by SIGKILL"},
		{PhaseResult{Status: StatusFailed, ExitCode: -1, Signal: "RTMIN+3"}, "killed by SIGRTMIN+3"},
		// A transport's description, not a name: quoted as it came.
		{PhaseResult{Status: StatusFailed, ExitCode: -1, Signal: "segmentation fault"}, `killed by signal "segmentation fault"`},
		{PhaseResult{Status: StatusFailed, ExitCode: -1, Signal: "SIGKILL"}, "killed by SIGKILL"},
		{PhaseResult{Status: StatusFailed, ExitCode: -1, Signal: strings.Repeat("A", 5000)}, `killed by signal "` + strings.Repeat("A", 64) + `..."`},
		{PhaseResult{Status: StatusTimedOut, Timeout: time.Second, Duration: 3006 * time.Millisecond}, "timed out after 1s (stopped 2s later)"},
		{PhaseResult{Status: StatusTimedOut, Timeout: 2 * time.Minute, Duration: 2*time.Minute + 20*time.Millisecond}, "timed out after 2m0s"},
		{PhaseResult{Status: StatusTimedOut, Timeout: 500 * time.Millisecond, Duration: 760 * time.Millisecond}, "timed out after 500ms (stopped 300ms later)"},
		// A transport that never said it stopped the command: nothing
		// is known of when it stopped.
		{PhaseResult{Status: StatusTimedOut, Timeout: time.Second, Duration: 16 * time.Second, Err: "the transport did not stop the command at its timeout"}, "timed out after 1s: the transport did not stop the command at its timeout"},
		// Recovered from a journal, which keeps no timeout.
		{PhaseResult{Status: StatusTimedOut, Duration: 3006 * time.Millisecond}, "timed out after 3.006s"},
		{PhaseResult{Status: StatusUnreachable, Err: "dial: refused"}, "unreachable: dial: refused"},
	}
	for _, tt := range tests {
		if got := tt.r.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

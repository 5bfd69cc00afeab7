package procstat_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/sdk/procstat"
)

// tail is what follows the session in a real line (tty_nr onwards).
const tail = " 34816 4242 0 0 0 0 0 0 0 0 20 0 1 0 12345 2375680 219 18446744073709551615\n"

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want procstat.Stat
	}{
		{"plain", "4242 (sleep) S 4100 4242 4100" + tail,
			procstat.Stat{PID: 4242, Comm: "sleep", State: 'S', PPID: 4100, PGID: 4242, SID: 4100}},
		{"comm with a space", "17 (tmux: server) R 1 17 17" + tail,
			procstat.Stat{PID: 17, Comm: "tmux: server", State: 'R', PPID: 1, PGID: 17, SID: 17}},
		{"comm with parentheses", "99 ((a) b)) S 98 97 96" + tail,
			procstat.Stat{PID: 99, Comm: "(a) b)", State: 'S', PPID: 98, PGID: 97, SID: 96}},
		{"comm that looks like fields", "7 (x) Z 1 2 3) T 5 6 7" + tail,
			procstat.Stat{PID: 7, Comm: "x) Z 1 2 3", State: 'T', PPID: 5, PGID: 6, SID: 7}},
		{"kernel thread", "12 (kworker/0:1-events) I 2 0 0" + tail,
			procstat.Stat{PID: 12, Comm: "kworker/0:1-events", State: 'I', PPID: 2, PGID: 0, SID: 0}},
		{"zombie, no newline", "300 (sh) Z 1 300 300 0",
			procstat.Stat{PID: 300, Comm: "sh", State: 'Z', PPID: 1, PGID: 300, SID: 300}},
		{"empty comm", "5 () S 1 5 5" + tail,
			procstat.Stat{PID: 5, Comm: "", State: 'S', PPID: 1, PGID: 5, SID: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procstat.Parse([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	for _, line := range []string{
		"",
		"42 sleep S 1 42 42",     // no parentheses
		"42 (sleep S 1 42 42",    // no closing one
		"42 )sleep( S 1 42 42",   // the wrong way round
		"42 (sleep) S 1 42",      // no session
		"42 (sleep) SS 1 42 42",  // a state of two letters
		"x42 (sleep) S 1 42 42",  // a pid that is no number
		"42 (sleep) S one 42 42", // a ppid that is no number
		"42 (sleep) S 1 42 4294967296000000000000", // out of range
	} {
		if s, err := procstat.Parse([]byte(line)); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", line, s)
		}
	}
}

func TestEnded(t *testing.T) {
	for state, want := range map[byte]bool{'R': false, 'S': false, 'D': false, 'T': false, 'I': false, 'Z': true, 'X': true, 'x': true} {
		if got := (procstat.Stat{State: state}).Ended(); got != want {
			t.Errorf("state %c: Ended() = %v, want %v", state, got, want)
		}
	}
}

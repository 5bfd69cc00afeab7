package client

import "testing"

// TestStderrSummary: what a plugin that died said on stderr is summed up
// by the line that explains it: a panic, a fatal error, the runtime's
// words before an abort; else its last lines.
func TestStderrSummary(t *testing.T) {
	for _, tt := range []struct{ stderr, want string }{
		{"starting\npanic: boom\n\ngoroutine 1 [running]:\nmain.main()\n", "panic: boom"},
		{"fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1:\n", "fatal error: all goroutines are asleep - deadlock!"},
		{"runtime/cgo: pthread_create failed: Resource temporarily unavailable\nSIGABRT: abort\nPC=0x0 m=0 sigcode=18446744073709551610\n\ngoroutine 0 gp=0x0 m=0 mp=0x0 [idle]:\nrax 0x0\ncs 0x33\nfs 0x0\ngs 0x0\n",
			"runtime/cgo: pthread_create failed: Resource temporarily unavailable"},
		{"one\ntwo\nthree\nfour\n", "two three four"},
		{`{"@level":"info"}` + "\n", ""},
	} {
		s := &stderrLog{}
		_, _ = s.Write([]byte(tt.stderr))
		if got := s.summary(); got != tt.want {
			t.Errorf("summary of %q = %q, want %q", tt.stderr, got, tt.want)
		}
	}
}

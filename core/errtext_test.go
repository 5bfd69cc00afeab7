package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestCleanText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"host unreachable", "host unreachable"},
		{"two\nlines\n", "two; lines"},
		{"crlf\r\nline", "crlf; line"},
		{"bad\x1b[2J\x1b]0;pwned\x07\rRun 1 succeeded.", "bad^[[2J^[]0;pwned^G^MRun 1 succeeded."},
		{"tab\there", "tab here"},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"invalid \xff byte", `invalid \xff byte`},
		{"naïve ✓", "naïve ✓"},
	} {
		if got := cleanText(tt.in); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	huge := strings.Repeat("line\n", 1<<20)
	got := cleanText(huge)
	if len(got) > maxErrText+64 || !strings.HasSuffix(got, "bytes more]") || strings.Contains(got, "\n") {
		t.Errorf("a 5 MB error: %d bytes, ending %q", len(got), got[max(0, len(got)-40):])
	}
}

// TestBoundedNamesTheHungCall: a plugin call that outlives its bound ends
// with an error naming the plugin and the call; one its caller's ctx ends
// keeps that error.
func TestBoundedNamesTheHungCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
		_, err := bounded(context.Background(), time.Minute, "docker", "Connect", hang)
		if err == nil || !strings.Contains(err.Error(), `transport plugin "docker" did not answer Connect within 1m0s`) {
			t.Errorf("err = %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		if _, err := bounded(ctx, time.Minute, "docker", "Connect", hang); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: err = %v, want context.Canceled", err)
		}
	})
}

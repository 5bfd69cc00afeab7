package views

import (
	"bytes"
	"testing"

	"github.com/fanout/fanout/core"
)

// TestApplyPipe: stdout holds the hosts' stdout lines alone, each as
// "host: line"; stderr lines go to the other stream; a long line's pieces
// make one line, its prefix once; a secret is hidden and, for a terminal,
// control characters escaped.
func TestApplyPipe(t *testing.T) {
	p, _ := oneTaskPlan("exec", "h", 2)
	for _, tt := range []struct {
		name    string
		escape  bool
		events  []core.Output
		out, er string
	}{
		{
			name: "streams apart",
			events: []core.Output{
				{Host: "h1", Stream: core.Stdout, Data: []byte("one\ntwo\n")},
				{Host: "h2", Stream: core.Stderr, Data: []byte("oops\n")},
				{Host: "h2", Stream: core.Stdout, Data: []byte("three\n")},
			},
			out: "h1: one\nh1: two\nh2: three\n",
			er:  "h2: oops\n",
		},
		{
			name: "a long line in pieces",
			events: []core.Output{
				{Host: "h1", Stream: core.Stdout, Data: []byte("aaa"), Partial: true},
				{Host: "h1", Stream: core.Stdout, Data: []byte("bbb"), Partial: true},
				{Host: "h1", Stream: core.Stdout, Data: []byte("ccc\nnext\n")},
			},
			out: "h1: aaabbbccc\nh1: next\n",
		},
		{
			name:   "a secret, escapes for a terminal",
			escape: true,
			events: []core.Output{{Host: "h1", Stream: core.Stdout, Data: []byte("token s3cret \x1b[31mred\n")}},
			out:    "h1: token (sensitive) ^[[31mred\n",
		},
		{
			name:   "bytes as they are for a pipe",
			events: []core.Output{{Host: "h1", Stream: core.Stdout, Data: []byte("\x1b[31mred\n")}},
			out:    "h1: \x1b[31mred\n",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, er bytes.Buffer
			rd := NewRedactor([]string{"s3cret"})
			v := NewApplyPipe(&out, &er, p, ApplyOptions{Options: Options{Redact: rd}}, Options{Redact: rd, Escape: tt.escape})
			for _, e := range tt.events {
				e.Task, e.Phase = "exec", core.PhaseRun
				v.Event(e)
			}
			if out.String() != tt.out || er.String() != tt.er {
				t.Errorf("stdout %q, stderr %q; want %q, %q", out.String(), er.String(), tt.out, tt.er)
			}
		})
	}
}

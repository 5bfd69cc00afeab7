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
			name: "long lines of two hosts at once",
			events: []core.Output{
				{Host: "h1", Stream: core.Stdout, Data: []byte("111"), Partial: true},
				{Host: "h2", Stream: core.Stdout, Data: []byte("222"), Partial: true},
				{Host: "h1", Stream: core.Stdout, Data: []byte("111\n")},
				{Host: "h2", Stream: core.Stdout, Data: []byte("222\n")},
			},
			out: "h1: 111111\nh2: 222222\n",
		},
		{
			name: "a secret cut between pieces",
			events: []core.Output{
				{Host: "h1", Stream: core.Stdout, Data: []byte("token s3c"), Partial: true},
				{Host: "h1", Stream: core.Stdout, Data: []byte("ret\n")},
			},
			out: "h1: token (sensitive)\n",
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

// TestApplyPipeHoldsBounded: a line longer than pipeHold comes out in
// prefixed pieces of about that size, not held whole.
func TestApplyPipeHoldsBounded(t *testing.T) {
	p, _ := oneTaskPlan("exec", "h", 1)
	var out bytes.Buffer
	v := NewApplyPipe(&out, &bytes.Buffer{}, p, ApplyOptions{}, Options{})
	piece := bytes.Repeat([]byte("x"), 64<<10)
	for range 10 {
		v.Event(core.Output{Task: "exec", Host: "h1", Phase: core.PhaseRun, Stream: core.Stdout, Data: piece, Partial: true})
	}
	v.Event(core.Output{Task: "exec", Host: "h1", Phase: core.PhaseRun, Stream: core.Stdout, Data: []byte("end\n")})
	lines := bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n"))
	total := 0
	for _, l := range lines {
		if !bytes.HasPrefix(l, []byte("h1: ")) || len(l) > pipeHold+len("h1: ") {
			t.Fatalf("a line of %d bytes starting %.10q", len(l), l)
		}
		total += len(l) - len("h1: ")
	}
	if len(lines) < 3 || total != 10*len(piece)+3 {
		t.Errorf("%d lines holding %d bytes, want the 640 KiB and more in pieces", len(lines), total)
	}
}

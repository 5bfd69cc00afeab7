package main

import (
	"bytes"
	"fmt"
	"testing"
)

// TestOutputWriterKeepsTheTail: while the stream is stalled, the last
// writes are kept, whole, up to keptTail, and the older ones counted as
// dropped; once it takes output again, the note comes first, then the
// kept writes in order.
func TestOutputWriterKeepsTheTail(t *testing.T) {
	var out bytes.Buffer
	o := &outputWriter{w: &out}
	line := bytes.Repeat([]byte("x"), 999)
	const n = 3000 // 3 MB written while stalled
	for i := range n {
		o.keep(fmt.Appendf(nil, "%s %04d\n", line, i))
	}
	each := len(line) + 6
	if o.keptBytes > keptTail || o.keptBytes+each <= keptTail {
		t.Errorf("%d bytes kept, want the most whole writes within %d", o.keptBytes, keptTail)
	}
	if o.dropped+o.keptBytes != n*each {
		t.Errorf("%d dropped + %d kept, want %d in all", o.dropped, o.keptBytes, n*each)
	}
	dropped := o.dropped
	if !o.resume(outputStall) {
		t.Fatal("resume did not write")
	}
	got := out.String()
	want := fmt.Sprintf("[fanout: %d bytes of output not shown here", dropped)
	if !bytes.HasPrefix(out.Bytes(), []byte(want)) {
		t.Errorf("output starts %.80q, want %q", got, want)
	}
	if !bytes.HasSuffix(out.Bytes(), fmt.Appendf(nil, "%s %04d\n", line, n-1)) {
		t.Error("the last write is not last")
	}
	if len(o.kept) > 0 || o.keptBytes != 0 || o.dropped != 0 {
		t.Errorf("after resume: %d kept (%d bytes), %d dropped", len(o.kept), o.keptBytes, o.dropped)
	}
}

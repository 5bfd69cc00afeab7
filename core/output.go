package core

import (
	"bytes"
	"sync"
)

// maxLine bounds how much of a line without a newline is held before it is
// passed on anyway, so one endless line cannot grow memory without limit.
const maxLine = 64 << 10

// lineWriter turns a command's output into Output events that hold whole
// lines only, so that a renderer never interleaves two hosts mid-line.
// The transport writes each stream from one goroutine at a time.
type lineWriter struct {
	r      *run
	task   string
	host   string
	phase  Phase
	stream Stream
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(w.buf) == 0 {
		// The usual case: nothing pending, so whole lines go straight from
		// p (send copies them) and only a trailing part line is held.
		if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
			w.send(p[:i+1], false)
			p = p[i+1:]
		}
		if len(p) < maxLine {
			w.buf = append(w.buf, p...)
			return n, nil
		}
	}
	w.buf = append(w.buf, p...)
	if i := bytes.LastIndexByte(w.buf, '\n'); i >= 0 {
		w.send(w.buf[:i+1], false)
		rest := copy(w.buf, w.buf[i+1:])
		w.buf = w.buf[:rest]
	} else if len(w.buf) >= maxLine {
		w.send(w.buf, true) // a piece of a longer line
		w.buf = w.buf[:0]
	}
	return n, nil
}

// flush passes on a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.send(w.buf, false)
		w.buf = nil
	}
}

// send passes on b; partial says it ends inside a line the next send
// continues.
func (w *lineWriter) send(b []byte, partial bool) {
	data := append(getOutputBuf(len(b)), b...)
	w.r.emit(Output{Task: w.task, Host: w.host, Phase: w.phase, Stream: w.stream, Data: data, Partial: partial})
}

// outputBufs recycles Output events' data: a busy command sends thousands
// of events a second, each rendered and dropped within the observer's
// Event call, and allocating each made the garbage collector the largest
// cost of streaming output.
var outputBufs sync.Pool

// maxPooledOutput is the size of the buffers kept for reuse: what one
// event of a transport's output carries (sdk sends at most 32 KiB), not
// the rare event of one very long line.
const maxPooledOutput = 32 << 10

// getOutputBuf returns an empty buffer with room for n bytes.
func getOutputBuf(n int) []byte {
	if n <= maxPooledOutput {
		if bp, ok := outputBufs.Get().(*[]byte); ok {
			return (*bp)[:0]
		}
		return make([]byte, 0, maxPooledOutput)
	}
	return make([]byte, 0, n)
}

// putOutputBuf takes back an Output's data once the observer is done.
func putOutputBuf(b []byte) {
	if cap(b) == maxPooledOutput {
		outputBufs.Put(&b)
	}
}

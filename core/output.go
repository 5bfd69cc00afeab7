package core

import "bytes"

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
			w.send(p[:i+1])
			p = p[i+1:]
		}
		if len(p) < maxLine {
			w.buf = append(w.buf, p...)
			return n, nil
		}
	}
	w.buf = append(w.buf, p...)
	if i := bytes.LastIndexByte(w.buf, '\n'); i >= 0 {
		w.send(w.buf[:i+1])
		rest := copy(w.buf, w.buf[i+1:])
		w.buf = w.buf[:rest]
	} else if len(w.buf) >= maxLine {
		w.send(w.buf)
		w.buf = w.buf[:0]
	}
	return n, nil
}

// flush passes on a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.send(w.buf)
		w.buf = nil
	}
}

func (w *lineWriter) send(b []byte) {
	w.r.emit(Output{Task: w.task, Host: w.host, Phase: w.phase, Stream: w.stream, Data: bytes.Clone(b)})
}

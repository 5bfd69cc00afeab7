package core

import (
	"bytes"
	"sync"
	"unicode/utf8"
)

// maxLine bounds the bytes of one line an Output event carries: a longer
// line goes on in pieces of maxLine bytes (fewer, by at most three, where
// the cut would split a UTF-8 character: see pieceEnd), each but the last
// marked Partial. Splitting at fixed offsets, not where the command's
// writes happened to end, makes the pieces the same on every run, and
// one endless line cannot grow memory without limit.
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
	buf    []byte // the start of a line whose end has not arrived
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == 0 {
			// The usual case: nothing pending, so p's whole lines go
			// straight out in one event (send copies them), up to the
			// first line too long for one.
			if end := wholeLines(p); end > 0 {
				w.send(p[:end], false)
				p = p[end:]
				continue
			}
		} else if i := bytes.IndexByte(p, '\n'); i >= 0 && len(w.buf)+i <= maxLine {
			// The other usual case: the held start of a line ends in p.
			// It goes out in one event with p's whole lines after it,
			// which would otherwise be a second event: a transport's
			// writes end mid-line, so each would make two, one of them
			// a single line, and every event costs the observer a
			// render and a write.
			end := i + 1 + wholeLines(p[i+1:])
			if len(w.buf)+end <= maxPooledOutput {
				w.sendHeld(p[:end])
				p = p[end:]
				continue
			}
		}
		// A part line, or a line too long for one event: held, and
		// passed on in pieces once it is longer than maxLine.
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			w.spill()
			break
		}
		w.buf = append(w.buf, p[:i+1]...)
		p = p[i+1:]
		w.spill()
		w.send(w.buf, false)
		w.buf = w.buf[:0]
	}
	return n, nil
}

// wholeLines returns the length of p's whole lines, up to the first line
// longer than maxLine: what one event can carry as it is.
func wholeLines(p []byte) int {
	end := 0
	for end < len(p) {
		i := bytes.IndexByte(p[end:], '\n')
		if i < 0 || i > maxLine {
			break
		}
		end += i + 1
	}
	return end
}

// sendHeld passes on the held start of a line followed by rest, which
// ends it and may hold more whole lines, in one event.
func (w *lineWriter) sendHeld(rest []byte) {
	data := append(append(getOutputBuf(len(w.buf)+len(rest)), w.buf...), rest...)
	w.buf = w.buf[:0]
	w.r.emit(Output{Task: w.task, Host: w.host, Phase: w.phase, Stream: w.stream, Data: data})
}

// spill passes on pieces of maxLine bytes while the held line has more
// than maxLine bytes besides its newline; the rest stays held.
func (w *lineWriter) spill() {
	for {
		content := len(w.buf)
		if content > 0 && w.buf[content-1] == '\n' {
			content--
		}
		if content <= maxLine {
			return
		}
		end := pieceEnd(w.buf)
		w.send(w.buf[:end], true) // a piece of a longer line
		w.buf = w.buf[:copy(w.buf, w.buf[end:])]
	}
}

// pieceEnd is where the first piece of b, a line longer than maxLine, ends:
// at maxLine, or before the UTF-8 character the cut would split, so that
// each piece is text a JSON stream or a terminal shows as written (a
// character split in two is two invalid bytes, each U+FFFD in -json).
func pieceEnd(b []byte) int {
	for back := 0; back < utf8.UTFMax && maxLine-back > 0; back++ {
		i := maxLine - back
		if utf8.RuneStart(b[i]) {
			if back > 0 {
				// b[i:] starts a character running past the cut: end
				// before it when it is a whole, valid one.
				if r, size := utf8.DecodeRune(b[i:]); (r != utf8.RuneError || size > 1) && i+size > maxLine {
					return i
				}
			}
			break
		}
	}
	return maxLine
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
// event of a transport's output carries (sdk sends at most 32 KiB) with
// the start of a line held from the one before (see sendHeld), not the
// rare event of one very long line.
const maxPooledOutput = 40 << 10

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

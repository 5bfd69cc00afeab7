package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fanout/fanout/cmd/fanout/internal/views"
)

// outputStall is how long a write to stdout or stderr may block before
// the stream counts as stalled: a pipe nobody reads, a terminal paused
// with Ctrl-S, a stuck log shipper. A run must not wait on its reader:
// its timeouts, Ctrl-C and rollback run on.
const outputStall = 5 * time.Second

// outputEnd is how long fanout waits, once a run is over, for a stalled
// stdout to take the end of its output: a pager read slowly gets the
// recap. The run's journal and lock are released by then; Ctrl-C ends the
// wait.
const outputEnd = time.Minute

// outputWriter is stdout or stderr as the commands write to them. It is
// safe for concurrent use, and never fails nor blocks a run for long:
//
//   - after the first failed write (a closed pipe, a hung-up terminal, a
//     full disk) it drops everything, so that output stops but the run it
//     reports on does not, and a dead pipe costs no further system calls;
//   - a write the stream has not taken within outputStall goes on in the
//     background while the stream counts as stalled: of what is written
//     meanwhile, the last keptTail bytes are kept (whole writes: whole
//     lines, whole -json events) and the rest dropped and counted; once
//     the stream takes output again, a note says how much was dropped
//     (noted) and the kept writes follow. So a reader back at the end (a
//     pager read slowly, a consumer of -json that paused) still gets the
//     recap and run_finished. A slow reader that keeps reading slows the
//     run down, as before; only one that stops reading loses output.
//
// The journal, not the terminal, is the run's record.
type outputWriter struct {
	w io.Writer

	mu sync.Mutex
	// guarded by mu
	json    bool // the note of dropped output is a line of the -json stream
	failed  bool
	pending chan error // the stalled write's end, nil when none is
	dropped int        // bytes dropped while stalled, not yet noted
	lostAny bool       // output was dropped at some point
	// kept are the last writes made while stalled, keptBytes long at
	// most keptTail (and one write), written once the stream takes
	// output again.
	kept      [][]byte
	keptBytes int

	writes chan *[]byte // to the writer goroutine, made with it by the first write
	done   chan error   // its writes' ends
}

// writeBufs are the copies Write hands the writer goroutine, used again:
// a run's output is tens of MB in writes of a few KB.
var writeBufs = sync.Pool{New: func() any { return new([]byte) }}

func (o *outputWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed {
		return len(p), nil
	}
	if o.pending != nil {
		select {
		case err := <-o.pending:
			o.pending = nil
			if err != nil {
				o.failed = true
				return len(p), nil
			}
		default:
			o.keep(p)
			return len(p), nil
		}
	}
	if !o.resume(outputStall) {
		o.keep(p)
		return len(p), nil
	}
	// Stalled or not, p is written: in the background when stalled.
	o.write(p, outputStall)
	return len(p), nil
}

// keptTail is how much of what is written while the stream is stalled is
// kept, the last writes, to be written once it takes output again.
const keptTail = 1 << 20

// keep keeps a copy of p, written while the stream is stalled, dropping
// (and counting) the oldest kept writes past keptTail. Called with o.mu
// held.
func (o *outputWriter) keep(p []byte) {
	o.lostAny = true
	o.kept = append(o.kept, append([]byte(nil), p...))
	o.keptBytes += len(p)
	for len(o.kept) > 1 && o.keptBytes > keptTail {
		o.dropped += len(o.kept[0])
		o.keptBytes -= len(o.kept[0])
		o.kept[0] = nil
		o.kept = o.kept[1:]
	}
}

// resume writes, once the stream takes output again, the note of what was
// dropped and then the kept writes, each waiting up to wait, and reports
// whether all of it went: if the stream stalls again, what is left stays
// kept. Called with o.mu held and no write pending.
func (o *outputWriter) resume(wait time.Duration) bool {
	if o.dropped > 0 {
		note := o.note(o.dropped)
		o.dropped = 0
		if !o.write(note, wait) {
			return false
		}
	}
	for len(o.kept) > 0 {
		k := o.kept[0]
		o.kept[0] = nil
		o.kept = o.kept[1:]
		o.keptBytes -= len(k)
		if !o.write(k, wait) || o.failed {
			return false
		}
	}
	return true
}

// write hands b to the writer goroutine and waits up to wait for it to be
// written; past that the stream is stalled (o.pending) and write reports
// false. Called with o.mu held.
func (o *outputWriter) write(b []byte, wait time.Duration) bool {
	if o.writes == nil {
		o.writes, o.done = make(chan *[]byte), make(chan error, 1)
		go o.run()
	}
	// A copy: the caller may reuse its buffer once Write returns, which
	// it does while a stalled write still holds it.
	bp := writeBufs.Get().(*[]byte)
	*bp = append((*bp)[:0], b...)
	o.writes <- bp
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-o.done:
		if err != nil {
			o.failed = true
		}
		return true
	case <-t.C:
		o.pending = o.done
		return false
	}
}

// run writes what Write hands it, one write at a time, for the life of
// the process: a write that never returns (a reader that never reads)
// holds only this goroutine.
func (o *outputWriter) run() {
	for bp := range o.writes {
		_, err := o.w.Write(*bp)
		if cap(*bp) <= 1<<20 { // a rare huge one is not kept
			writeBufs.Put(bp)
		}
		o.done <- err
	}
}

// setJSON makes the note of dropped output a line of the -json stream.
func (o *outputWriter) setJSON(on bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.json = on
}

// note is what stands for n bytes dropped while the stream was stalled.
func (o *outputWriter) note(n int) []byte {
	if o.json {
		return fmt.Appendf(nil, `{"type":"output_dropped","@timestamp":%q,"bytes":%d}`+"\n", time.Now().UTC().Format(time.RFC3339Nano), n)
	}
	return fmt.Appendf(nil, "[fanout: %d bytes of output not shown here: this output took none for %s, and the run went on]\n", n, outputStall)
}

// flush waits up to wait for a stalled write to end, or until stop is
// closed, then writes the note of what was dropped and what was kept: at
// the end of a command, so that a reader that comes back gets the end of
// the output (the recap) and learns what it missed, and one that never
// does holds fanout no longer than wait.
func (o *outputWriter) flush(wait time.Duration, stop <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed {
		return
	}
	if o.pending != nil {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case err := <-o.pending:
			o.pending = nil
			if err != nil {
				o.failed = true
				return
			}
		case <-t.C:
			return
		case <-stop:
			return
		}
	}
	o.resume(outputStall)
}

// lost reports whether output went missing: a write failed, or some were
// dropped while the stream was stalled.
func (o *outputWriter) lost() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed || o.lostAny
}

// noteLostOutput tells the operator, on stderr, where the part of a run's
// output that stdout could not take went: the journal keeps the run.
// It waits up to outputEnd for a stalled stdout to take the end of the
// output, the recap, or until stop is closed (an interrupt).
func noteLostOutput(s *streams, cmd, runID, cfgPath string, stop <-chan struct{}) {
	ow, ok := s.Out.(*outputWriter)
	if !ok {
		return
	}
	ow.flush(outputEnd, stop)
	if ow.lost() {
		printf(s.Err, "fanout %s: standard output was closed or stopped taking output mid-run; the run went on to its end. \"%s\" prints its recap.\n", cmd, views.Suggest("runs show", runID, cfgPath))
	}
}

package views

import (
	"io"
	"sync"

	"github.com/fanout/fanout/core"
)

// ApplyPipe renders a run for a pipe, as pdsh prints one (fanout exec
// -pipe): each line of a command's stdout on out, and of its stderr on
// errOut, as "host: line", and nothing else on out; what fanout says
// itself (a failure, the stop, the recap) goes to errOut, as a quiet
// ApplyHuman writes it. `fanout exec -pipe -- cat /etc/os-release | grep
// VERSION` then sees the hosts' lines alone.
type ApplyPipe struct {
	*ApplyHuman // on errOut, quiet: fanout's own lines

	out, errOut io.Writer
	o           Options // for out: its Escape, the redaction

	mu sync.Mutex
	// guarded by mu: the start of each stream's line longer than one
	// event, held until its end comes (see output).
	held map[tailKey][]byte
	buf  []byte
}

// pipeHold bounds the start of a line a stream may hold: a line longer
// than that comes out in pieces of about that size, each its own line with
// its host's prefix, rather than grow memory without limit.
const pipeHold = 256 << 10

// NewApplyPipe returns the view of -pipe: lines to out and errOut, fanout's
// own to errOut through an ApplyHuman made quiet with human's options.
// outOpts are out's: Escape when it is a terminal.
func NewApplyPipe(out, errOut io.Writer, p *core.Plan, human ApplyOptions, outOpts Options) *ApplyPipe {
	human.Quiet, human.Group, human.Progress = true, false, false
	return &ApplyPipe{ApplyHuman: NewApplyHuman(errOut, p, human), out: out, errOut: errOut, o: outOpts, held: map[tailKey][]byte{}}
}

// Event implements core.Observer: a command's output is written here,
// and every event goes on to the quiet view, which keeps the tails the
// recap shows.
func (v *ApplyPipe) Event(e core.Event) {
	if o, ok := e.(core.Output); ok {
		v.output(o)
	}
	v.ApplyHuman.Event(e)
}

// output writes an Output event's lines, each prefixed by its host, in one
// write. A piece of a line longer than one event is held until the line's
// end comes, so that the line goes out whole, its prefix once: written
// piece by piece, other hosts' lines came between the pieces, and a secret
// cut in two escaped redaction.
func (v *ApplyPipe) output(e core.Output) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := tailKey{e.Task, e.Host, e.Phase, e.Stream}
	data := e.Data
	if held, ok := v.held[k]; ok || e.Partial {
		data = append(held, data...)
		if e.Partial && len(data) < pipeHold {
			v.held[k] = data
			return
		}
		delete(v.held, k)
	}
	rd := v.o.Redact
	if !rd.active() {
		rd = nil
	}
	b := v.buf[:0]
	for line := range lines(data) {
		b = append(b, e.Host...)
		b = append(b, ": "...)
		switch {
		case rd != nil:
			b = append(b, terminalSafe(rd.String(string(line)), v.o)...)
		case v.o.Escape:
			b = appendTerminalSafe(b, line)
		default:
			b = append(b, line...)
		}
		b = append(b, '\n')
	}
	w := v.out
	if e.Stream == core.Stderr {
		w = v.errOut
	}
	_, _ = w.Write(b) // a reader gone: the run goes on, and the journal keeps it
	v.buf = b[:0]
}

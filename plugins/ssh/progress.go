package ssh

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
)

// progress reads the markers fanout's scripts write on a command's stdout
// ("w", the wrapper ran; a command list's, see listScript), and passes the
// rest of the stdout on to w. Only the stdout copier writes to it; its
// results are read once copying is over (session.end).
type progress struct {
	w     io.Writer
	token []byte // a marker's start: "\037fanout:NONCE:"
	held  []byte // the end of the output so far that may begin a marker

	// ran is set by "w", which the script prints before anything else it
	// runs: without it, something other than fanout's script ran (see
	// wrapperNotRun). Output before it is the login shell's (a greeting
	// of a startup file): passed on as ssh shows it, unless skip.
	ran   bool
	ranCh chan struct{} // closed with ran set
	skip  bool
	// plain says no marker follows "w" (a lone command): the output after
	// it goes through unread (passing).
	plain bool

	current int // the command running: the last "s I"
	exited  int // the command that exited by itself ("e I S"), -1 if none
	status  int // its status
}

// newProgress returns a progress for a new Exec with its nonce, which
// the markers carry.
func newProgress() (*progress, string) {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	nonce := hex.EncodeToString(b[:])
	return &progress{token: []byte("\037fanout:" + nonce + ":"), exited: -1, ranCh: make(chan struct{})}, nonce
}

// passing reports whether the rest of the output goes through unread: the
// mark has come and no other follows.
func (p *progress) passing() bool { return p.ran && p.plain }

// started returns a channel closed once the wrapper's mark has come.
func (p *progress) started() <-chan struct{} { return p.ranCh }

// ranMarker is the line a script prints first (see progress.ran).
func ranMarker(nonce string) string {
	return `printf '\037fanout:` + nonce + `:w\n'`
}

// Write passes p on without the markers in it. A marker cut between
// writes is held back until its end arrives, as is an end of p that may
// be the start of one (rare: it begins with byte 037).
func (p *progress) Write(b []byte) (int, error) {
	if p.passing() {
		p.emit(b)
		return len(b), nil
	}
	p.held = append(p.held, b...)
	data := p.held
	for {
		i := bytes.Index(data, p.token)
		if i < 0 {
			break
		}
		rest := data[i+len(p.token):]
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			p.emit(data[:i])
			p.keep(data[i:])
			return len(b), nil
		}
		if p.ran || !p.skip {
			p.emit(data[:i])
		}
		p.record(string(rest[:j]))
		data = rest[j+1:]
		if p.passing() {
			p.emit(data)
			p.held = p.held[:0]
			return len(b), nil
		}
	}
	n := partialPrefix(data, p.token)
	if !p.ran && p.skip {
		// The login shell's: not the output's.
		p.keep(data[len(data)-n:])
		return len(b), nil
	}
	p.emit(data[:len(data)-n])
	p.keep(data[len(data)-n:])
	return len(b), nil
}

// flush passes on what was held back: the output has ended.
func (p *progress) flush() {
	if p.ran || !p.skip {
		p.emit(p.held)
	}
	p.held = p.held[:0]
}

func (p *progress) emit(b []byte) {
	if len(b) > 0 {
		_, _ = p.w.Write(b)
	}
}

// keep makes b, the end of held, all of held.
func (p *progress) keep(b []byte) {
	p.held = p.held[:copy(p.held, b)]
}

// record reads one marker's text: "w", "s I" or "e I S".
func (p *progress) record(m string) {
	f := strings.Fields(m)
	switch {
	case len(f) == 1 && f[0] == "w" && !p.ran:
		p.ran = true
		close(p.ranCh)
	case len(f) == 2 && f[0] == "s":
		if i, err := strconv.Atoi(f[1]); err == nil {
			p.current = i
		}
	case len(f) == 3 && f[0] == "e":
		i, err1 := strconv.Atoi(f[1])
		s, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			p.exited, p.status = i, s
		}
	}
}

// partialPrefix returns the length of the longest end of data, shorter
// than token, that token begins with.
func partialPrefix(data, token []byte) int {
	for n := min(len(data), len(token)-1); n > 0; n-- {
		if data[len(data)-n] == token[0] && bytes.HasPrefix(token, data[len(data)-n:]) {
			return n
		}
	}
	return 0
}

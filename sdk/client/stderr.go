package client

import (
	"bytes"
	"strings"
	"sync"
)

// stderrTailLines is how many lines of a plugin's unstructured standard
// error stderrLog keeps.
const stderrTailLines = 3

// stderrLog keeps what a plugin process wrote to its standard error outside
// its JSON log lines: the panic of a crash, or what a binary that is not a
// plugin printed. go-plugin copies every stderr line to it (besides logging
// it), so that the error of a plugin that died can say why. It is safe for
// concurrent use.
type stderrLog struct {
	mu sync.Mutex
	// guarded by mu
	partial []byte
	panic   string   // the first "panic:" or "fatal error:" line
	tail    []string // the last stderrTailLines other lines
}

func (s *stderrLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(strings.TrimSpace(string(s.partial[:i])))
		s.partial = s.partial[i+1:]
	}
	// A line without an end is kept to a bound: go-plugin splits long
	// lines itself.
	if len(s.partial) > 64<<10 {
		s.partial = s.partial[:0]
	}
	return len(p), nil
}

// line records one complete line; called with mu held.
func (s *stderrLog) line(l string) {
	switch {
	case l == "" || strings.HasPrefix(l, "{"):
		// JSON log lines reach the logger; they explain nothing here.
	case s.panic == "" && crashLine(l):
		s.panic = l
	case s.panic != "":
		// The stack trace that follows a panic would only push out the
		// lines that matter.
	default:
		s.tail = append(s.tail, l)
		if len(s.tail) > stderrTailLines {
			s.tail = s.tail[len(s.tail)-stderrTailLines:]
		}
	}
}

// summary returns the panic line if there was one, else the last lines
// joined, or "".
func (s *stderrLog) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.panic != "" {
		return s.panic
	}
	return strings.Join(s.tail, " ")
}

// crashLine reports whether l is the first line of a Go program's crash:
// a panic, a fatal error, or the runtime's own words before its abort
// ("runtime/cgo: pthread_create failed", then "SIGABRT: abort" and the
// registers, which said nothing to an operator).
func crashLine(l string) bool {
	for _, p := range []string{"panic: ", "fatal error: ", "runtime/cgo: ", "runtime: "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

package sdktest

import (
	"bytes"
	"strings"
	"sync"
)

// Output collects what an Exec writes to one stream: give one as
// sdk.ExecOutput.Stdout or Stderr. It is safe for concurrent use, so a test
// can read it while the command still writes, and Seen tells when a string
// has been written. The zero value is ready to use.
type Output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters map[string]chan struct{}
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	for s, ch := range o.waiters {
		if strings.Contains(o.buf.String(), s) {
			close(ch)
			delete(o.waiters, s)
		}
	}
	return len(p), nil
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Seen returns a channel closed once what was written contains s.
func (o *Output) Seen(s string) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(o.buf.String(), s) {
		close(ch)
		return ch
	}
	if ch, ok := o.waiters[s]; ok {
		return ch
	}
	if o.waiters == nil {
		o.waiters = map[string]chan struct{}{}
	}
	o.waiters[s] = ch
	return ch
}

package sdktest

import (
	"bytes"
	"strings"
	"sync"
)

// output collects what an Exec writes to one stream. It is safe for
// concurrent use and tells when a string has been written.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters map[string]chan struct{}
}

func (o *output) Write(p []byte) (int, error) {
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

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// seen returns a channel closed once s has been written.
func (o *output) seen(s string) <-chan struct{} {
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

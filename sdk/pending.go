package sdk

import "sync"

// maxPending bounds how many signals a PendingSignals holds.
const maxPending = 4096

// PendingSignals holds signals sent to Execs a plugin has not started:
// fanout signals a run's commands at Ctrl-C while some of its Exec calls
// may still be on their way, and a signal that finds no command would be
// lost, the command then starting after the interrupt and running to its
// end. Signal notes a signal for an ID it does not know (Note); Exec takes
// it before starting its command (Take) and, if there was one, reports the
// command as ended by it without running it. A signal for an Exec that
// already ended is noted too, and never taken: at most the last 4,096
// are kept. The zero value is ready to use, and safe for concurrent use.
type PendingSignals struct {
	mu    sync.Mutex
	m     map[string]string
	order []string
}

// Note keeps signal, a name such as "INT", for the Exec of ID id.
func (p *PendingSignals) Note(id, signal string) {
	if id == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]string{}
	}
	if _, ok := p.m[id]; !ok {
		p.order = append(p.order, id)
	}
	p.m[id] = signal
	for len(p.order) > maxPending {
		delete(p.m, p.order[0])
		p.order = p.order[1:]
	}
}

// Take returns and forgets the signal noted for the Exec of ID id, if any.
func (p *PendingSignals) Take(id string) (signal string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	signal, ok = p.m[id]
	if ok {
		delete(p.m, id)
	}
	return signal, ok
}

package wire

import "sync"

// Recent remembers the last few results of a conversion that fleets
// repeat with equal inputs (the hosts' settings of each Connect, at both
// ends of the channel), so that equal inputs are converted once. It is
// safe for concurrent use; its zero value is empty.
type Recent[K, V any] struct {
	mu      sync.Mutex
	entries [8]recentEntry[K, V]
	next    int // the entry replaced next
}

type recentEntry[K, V any] struct {
	key K
	val V
	set bool
}

// Get returns the value of the most recent entry whose key same accepts.
func (r *Recent[K, V]) Get(same func(K) bool) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range len(r.entries) {
		e := &r.entries[(r.next-1-i+2*len(r.entries))%len(r.entries)]
		if e.set && same(e.key) {
			return e.val, true
		}
	}
	var zero V
	return zero, false
}

// Put remembers val for key, in place of the oldest entry.
func (r *Recent[K, V]) Put(key K, val V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries[r.next] = recentEntry[K, V]{key: key, val: val, set: true}
	r.next = (r.next + 1) % len(r.entries)
}

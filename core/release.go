package core

import (
	"context"
	"time"

	"github.com/fanout/fanout/sdk"
)

// releaseTimeout bounds one Release call: it only closes a connection,
// and a plugin that does not answer must not hold the end of the run.
const releaseTimeout = 10 * time.Second

// releaseLinger is how long a release waits for other hosts to join its
// call: on a fleet, hosts end one every few milliseconds, and a call per
// host cost ~0.2 ms of CPU here and in the plugin, as much as the work
// it saves. A connection held 100 ms longer costs nothing. The wait ends
// at once when the run stops (a rollback may be waiting to connect a
// host being released) or its roots have all run.
const releaseLinger = 100 * time.Millisecond

// A host's connection is released (sdk.Releaser, protocol 1.3) as soon as
// nothing in the run can need it without reconnecting: on a fleet of
// thousands of hosts, 100 at a time, every connection was otherwise kept
// to the end of the run, with its sshd processes on the host, its file
// descriptor, buffers and goroutines here, and its keepalives, and all of
// them were torn down at once when the run ended.
//
// The rule, decided when a pair's run phase ends (unitEnded):
//   - every run-phase pair of the host has ended (r.pending), the run is
//     not stopping (a stop means a rollback cascade may follow, which
//     would need the host again at once), and no task that started there
//     has a rollback a later failure would run (r.undo): the README
//     promises one connection per host for the whole run, and a rollback
//     must not depend on logging in again after what the task changed
//     (a firewall rule, sshd's config, a certificate or agent key that
//     expired meanwhile). A fleet's read-only or rollback-less tasks
//     (W6's `true`) are released as they end;
//   - or the host was just dropped within a failure budget and rolled back
//     whole: nothing runs there again, and the cascade skips it.
//
// A host released before a later failure elsewhere starts the cascade is
// connected again on demand by the cascade's own connect (no preflight:
// the cascade reports an unreachable host as any rollback does).

// unitEnded notes that a run-phase pair of h has ended, and releases h
// when nothing in the run can need it any more. dropped is true when the
// caller has just dropped h and rolled it back whole (budget.go).
func (r *run) unitEnded(h *Host, dropped bool) {
	r.mu.Lock()
	r.pending[h.Name]--
	done := r.pending[h.Name] <= 0 && !r.undo[h.Name] && !r.stopping && r.ctx.Err() == nil
	r.mu.Unlock()
	// A host another pair is dropping is that pair's to release: its
	// rollback may be using the connection now.
	if dropped || (done && !r.ro.isDropped(h.Name)) {
		r.release(h)
	}
}

// release lets h's transport close h's connection, when the transport
// declares it can (sdk.Capabilities.Release) and h is connected. The
// calls run on a goroutine per transport, owned by the run (r.releases):
// the pair that ended must not wait for them, and the hosts that end
// while one call is in flight go together in the next, so that a fleet's
// hosts finishing together cost a few calls, not one each. A connect of h
// meanwhile waits for its release to finish, then connects again.
func (r *run) release(h *Host) {
	r.mu.Lock()
	c := r.conns[h.Name]
	r.mu.Unlock()
	// c.t is set before c.done is closed, and read only after.
	if c == nil || !isClosed(c.done) || c.t == nil {
		return // never connected, still connecting, or failed
	}
	_, desc, err := r.opts.Transports.get(r.ctx, h.Transport)
	if err != nil {
		return
	}
	rel, ok := releaser(c.t, desc)
	if !ok {
		return
	}
	r.mu.Lock()
	if r.conns[h.Name] != c {
		r.mu.Unlock()
		return // released already, or connected again after a crash
	}
	delete(r.conns, h.Name)
	wait := make(chan struct{})
	r.releasing[h.Name] = wait
	q := r.releaseQueue[h.Transport]
	if q == nil {
		q = &releaseQueue{}
		r.releaseQueue[h.Transport] = q
	}
	q.hosts = append(q.hosts, queuedRelease{host: h, rel: rel, done: wait})
	start := !q.busy
	q.busy = true
	r.mu.Unlock()
	if start {
		r.releases.Go(func() { r.releaseLoop(q) })
	}
}

// releaseQueue is what waits to be released on one transport; guarded by
// run.mu.
type releaseQueue struct {
	hosts []queuedRelease
	busy  bool // a releaseLoop runs for the queue
}

type queuedRelease struct {
	host *Host
	rel  sdk.Releaser
	done chan struct{} // closed once released (or failed to be)
}

// releaseLoop releases what q holds, in one call, then what came in
// meanwhile, until q is empty; each call waits releaseLinger for company.
func (r *run) releaseLoop(q *releaseQueue) {
	for {
		r.linger()
		r.mu.Lock()
		batch := q.hosts
		q.hosts = nil
		if len(batch) == 0 {
			q.busy = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		names := make([]string, len(batch))
		for i, b := range batch {
			names[i] = b.host.Name
		}
		ctx, cancel := context.WithTimeout(r.ctx, releaseTimeout)
		// The newest entry's: after a plugin restart, the old one's
		// connections are gone with it anyway.
		_, err := batch[len(batch)-1].rel.Release(ctx, &sdk.ReleaseRequest{Hosts: names})
		cancel()
		r.mu.Lock()
		for _, b := range batch {
			delete(r.releasing, b.host.Name)
		}
		r.mu.Unlock()
		for _, b := range batch {
			close(b.done)
		}
		if err != nil {
			// A failure costs only the connections kept to the end, as
			// before protocol 1.3; a host is connected again if needed.
			r.logger.Debug("release failed", "hosts", len(names), "error", err)
			continue
		}
		now := time.Now()
		for _, b := range batch {
			r.emit(HostReleased{Host: b.host.Name, Transport: b.host.Transport, Time: now})
		}
	}
}

// linger waits releaseLinger, or less when the run stops, ends its roots
// or is aborted.
func (r *run) linger() {
	timer := time.NewTimer(releaseLinger)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-r.rootsEnded:
	case <-r.ro.stopped():
	case <-r.ctx.Done():
	}
}

// rootsDone notes that the roots have run (or never will); idempotent.
func (r *run) rootsDone() {
	r.rootsEndedOnce.Do(func() { close(r.rootsEnded) })
}

// awaitRelease waits for a release of host name in progress, if any, and
// reports whether the run may go on (false when it was aborted).
func (r *run) awaitRelease(wait chan struct{}) bool {
	select {
	case <-wait:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// isClosed reports whether ch is closed, without blocking.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

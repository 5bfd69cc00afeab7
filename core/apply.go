package core

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/go-hclog"
)

// ApplyOptions are the inputs of Apply besides the plan.
type ApplyOptions struct {
	// Transports must be the value the plan was built with.
	Transports *Transports
	// Observer receives the run's events; nil discards them.
	Observer Observer
	// RunID identifies the run to its commands (FANOUT_RUN_ID); the plan's
	// RunID when empty, generated when that is empty too.
	RunID string
	// Interrupt, when closed, stops the run as an operator's first Ctrl-C
	// does: nothing new starts, running commands get SIGINT (and are
	// cancelled InterruptGrace later), then the rollback cascade runs when
	// on_failure is "rollback". Cancelling Apply's ctx instead aborts at
	// once, rollbacks included.
	Interrupt <-chan struct{}
	// InterruptReason says what closed Interrupt, for the run's cause
	// (read once it is closed): "interrupted by SIGTERM". nil or "" is
	// "interrupted by the operator", a Ctrl-C.
	InterruptReason func() string
	// InterruptGrace is how long interrupted commands get to exit after
	// SIGINT; 5s when zero.
	InterruptGrace time.Duration
	// Input answers transports' questions (a key's passphrase); nil when
	// nobody can be asked, and the hosts that need an answer fail.
	Input Input
	// SudoPassword is the password of fanout { sudo_password }, sent to
	// the hosts whose sudo asks for one; empty when not set, and the
	// password is then asked on Input, once for the run (sudo.go).
	SudoPassword string
	Logger       hclog.Logger
	// Journal, when set, records the run durably as it happens (see
	// Journal). Apply runs nothing if its first record fails; a later
	// failure stops new work and rolls back, as a failed task does, since
	// the run would go on unrecorded.
	Journal Journal
}

// timeoutGrace is how long past a command's timeout the core waits for the
// transport to report it before giving up on the transport itself.
const timeoutGrace = 15 * time.Second

// Apply runs the plan and returns its record. It blocks until every
// command it started has ended and the last event has been delivered.
// The returned Result is complete even when the run failed; Apply does not
// close the transports (the caller owns Transports).
func Apply(ctx context.Context, plan *Plan, opts ApplyOptions) *Result {
	if opts.RunID == "" {
		opts.RunID = plan.RunID
	}
	if opts.RunID == "" {
		opts.RunID = NewRunID()
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	r := newRun(ctx, plan, opts)
	return r.execute()
}

// NewRunID returns a fresh run identifier: the start time and a random
// suffix, sortable and unique enough for journals and logs.
func NewRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// run is the state of one Apply. Only its own goroutines touch it.
type run struct {
	plan   *Plan
	opts   ApplyOptions
	logger hclog.Logger

	// ctx aborts everything; execCtx additionally ends InterruptGrace after
	// an interrupt, so that run-phase commands stop while rollbacks can
	// still run under ctx.
	ctx        context.Context
	execCtx    context.Context
	cancelExec context.CancelFunc
	// transfers is cancelled by the operator's first interrupt, which
	// stops file transfers at once (commands get SIGINT and a grace);
	// interruptTransfers cancels it.
	transfers          context.Context
	interruptTransfers context.CancelFunc

	events     chan Event
	dispatched chan struct{}
	asker      *asker
	sudo       *sudoState
	execSeq    atomic.Uint64

	mu sync.Mutex
	// guarded by mu
	stopping    bool
	interrupted bool
	// rollingBack is set once the rollback cascade has begun.
	rollingBack bool
	failed      bool
	cause       string
	first       *UnitResult
	firstTask   *TaskNode
	units       map[unitKey]*UnitResult
	started     map[*TaskNode][]*Host
	running     map[string]sdk.Transport
	inflight    map[string]inflightExec // every phase's commands, by exec id
	crashes     map[string]*pluginCrash // by transport: its plugin's last death
	conns       map[string]*hostConn
	// pending counts, per host, the run-phase pairs not yet ended;
	// releasing holds the releases in progress, by host, closed when
	// done; releases is how the run waits for them (release.go).
	pending      map[string]int
	undo         map[string]bool // hosts a started pair may roll back
	releasing    map[string]chan struct{}
	releaseQueue map[string]*releaseQueue // by transport
	releases     sync.WaitGroup
	// rootsEnded is closed once the roots have run (rootsDone): releases
	// waiting for company go at once then.
	rootsEnded     chan struct{}
	rootsEndedOnce sync.Once
	// ahead bounds the connections made ahead of their host's turn
	// (without preflight) that are in progress at once; aheadWG is how
	// the run waits for them before it finishes.
	ahead      semaphore
	aheadWG    sync.WaitGroup
	rolledBack []string
	rbFailed   []string
	preflight  []HostError
	journalErr error
	// ro is the state rollouts share (wave.go), with its own lock.
	ro rolloutState
}

type unitKey struct {
	task *TaskNode
	host string
}

type hostConn struct {
	done chan struct{}
	t    sdk.Transport
	err  error
}

func newRun(ctx context.Context, plan *Plan, opts ApplyOptions) *run {
	execCtx, cancel := context.WithCancel(ctx)
	transfers, stopTransfers := context.WithCancel(execCtx)
	return &run{
		plan:       plan,
		opts:       opts,
		logger:     opts.Logger.Named("run"),
		ctx:        ctx,
		execCtx:    execCtx,
		cancelExec: cancel,
		transfers:  transfers,

		interruptTransfers: stopTransfers,
		events:             make(chan Event, 64),
		ahead:              newSemaphore(max(2, runtime.NumCPU())),
		asker:              &asker{input: opts.Input},
		sudo:               newSudoState(opts),
		dispatched:         make(chan struct{}),
		units:              map[unitKey]*UnitResult{},
		started:            map[*TaskNode][]*Host{},
		running:            map[string]sdk.Transport{},
		inflight:           map[string]inflightExec{},
		crashes:            map[string]*pluginCrash{},
		conns:              map[string]*hostConn{},
		pending:            map[string]int{},
		undo:               map[string]bool{},
		releasing:          map[string]chan struct{}{},
		releaseQueue:       map[string]*releaseQueue{},
		rootsEnded:         make(chan struct{}),
	}
}

func (r *run) execute() *Result {
	start := time.Now()
	go r.dispatch()

	var ordered []*UnitResult
	r.plan.Walk(func(t *TaskNode) {
		for _, h := range t.Hosts {
			u := &UnitResult{Task: t.Name, Host: h.Name, Run: PhaseResult{Status: StatusSkipped, Command: -1}}
			r.units[unitKey{t, h.Name}] = u
			r.pending[h.Name]++
			ordered = append(ordered, u)
		}
	})
	r.emit(RunStarted{RunID: r.opts.RunID, Time: start, Units: len(ordered), Hosts: len(r.plan.Hosts)})
	// When this fails nothing runs (record stops the run): a run that
	// cannot be recorded could not be rolled back after a crash.
	r.record(&JournalRecord{Type: RecordRunStarted, RunID: r.opts.RunID})

	// The interrupt watcher is owned here and waited for below.
	finished := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Go(func() { r.watchInterrupt(finished) })

	root := &undoFrame{}
	if !r.isStopping() && r.preflightOK() && r.sudoPreflightOK() {
		r.connectEarly()
		for i, n := range r.plan.Roots {
			if r.isStopping() {
				break
			}
			r.runNode(n, root, []int{i})
		}
		r.rootsDone()
		if r.startRollback() {
			r.rollback(root)
		}
	}
	r.rootsDone()
	// Their HostConnected and HostReleased events must come before
	// RunFinished.
	r.aheadWG.Wait()
	r.releases.Wait()
	close(finished)
	watcher.Wait()
	r.cancelExec()

	res := r.result(ordered, start)
	r.recordEnd(res, &JournalRecord{Type: RecordRunFinished, Status: res.Status, Reason: res.Cause})
	r.emit(RunFinished{Result: res})
	close(r.events)
	<-r.dispatched
	return res
}

// dispatch delivers events to the observer from one goroutine, in order.
func (r *run) dispatch() {
	defer close(r.dispatched)
	for e := range r.events {
		if r.opts.Observer != nil {
			r.opts.Observer.Event(e)
		}
		if o, ok := e.(Output); ok {
			putOutputBuf(o.Data)
		}
	}
}

func (r *run) emit(e Event) {
	if _, ok := e.(Stopping); ok {
		// Every stop is announced once, by this event: pauses and retry
		// delays wait for it.
		r.ro.noteStopping()
	}
	r.events <- e
}

// isStopping reports whether new work must not start: after a failure
// (unless on_failure is "continue"), an interrupt, or an abort.
func (r *run) isStopping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopping || r.ctx.Err() != nil
}

// startRollback reports whether the run rolls back now that its roots
// have run, and if so marks the cascade begun: an interrupt from then on
// lets it go on (watchInterrupt).
func (r *run) startRollback() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rollingBack = (r.failed || r.interrupted) && r.plan.OnFailure == config.OnFailureRollback && r.ctx.Err() == nil
	return r.rollingBack
}

// fail records a failed pair: the first one becomes the run's cause and,
// unless on_failure is "continue", stops new work.
func (r *run) fail(t *TaskNode, u *UnitResult) {
	r.mu.Lock()
	r.failed = true
	var stop *Stopping
	var rec *JournalRecord
	if r.first == nil && !r.interrupted {
		r.first, r.firstTask = u, t
		r.cause = fmt.Sprintf("task %q failed on host %q: %s", t.Name, u.Host, u.Run.Describe())
		if u.Run.Status == StatusPluginCrashed {
			// The crash is the cause, not the pair that reported it:
			// each pair it interrupted fails the same way.
			r.cause = r.crashCause(t, u)
		}
		rec = &JournalRecord{Type: RecordStopping, Task: t.Name, Host: u.Host, Reason: r.cause}
		if r.plan.OnFailure != config.OnFailureContinue && !r.stopping {
			r.stopping = true
			stop = &Stopping{Reason: r.cause, Rollback: r.plan.OnFailure == config.OnFailureRollback, Time: time.Now()}
		}
	}
	r.mu.Unlock()
	if rec != nil {
		// The first failure is what a later rollback undoes first.
		r.record(rec)
	}
	if stop != nil {
		r.emit(*stop)
	}
}

// halt stops new work for reason when on_failure, being "continue", did
// not: a failed canary stops the run whatever on_failure says. The
// rollback, when on_failure asks for one, was decided by fail already.
func (r *run) halt(reason string, t *TaskNode, host string) {
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		return
	}
	r.stopping = true
	r.mu.Unlock()
	r.record(&JournalRecord{Type: RecordStopping, Task: t.Name, Host: host, Reason: reason})
	r.emit(Stopping{Reason: reason, Time: time.Now()})
}

// record writes rec to the journal, if any, before the caller goes on, and
// reports whether it did. A failure is handled here, not by the callers:
// the first one stops the run as a failed task would (nothing new starts,
// work in flight finishes, and the rollback cascade follows when
// on_failure is "rollback"), since work that cannot be recorded must not
// start; it becomes the run's JournalError and part of its cause, so the
// recap says it. Rollbacks still run when their records fail: undoing is
// what the journal is for. It must not be called with r.mu held.
func (r *run) record(rec *JournalRecord) bool {
	if r.opts.Journal == nil {
		return true
	}
	err := r.opts.Journal.Record(r.sudo.hideAsked(rec))
	if err == nil {
		return true
	}
	r.mu.Lock()
	first := r.journalErr == nil
	var stop *Stopping
	if first {
		r.journalErr = err
		r.failed = true
		reason := "cannot write the run journal: " + err.Error()
		r.cause = joinCause(r.cause, reason)
		if !r.stopping {
			r.stopping = true
			stop = &Stopping{Reason: reason, Rollback: r.plan.OnFailure == config.OnFailureRollback, Time: time.Now()}
		}
	}
	r.mu.Unlock()
	if first {
		r.logger.Error("journal write failed", "error", err)
	}
	if stop != nil {
		r.emit(*stop)
	}
	return false
}

// recordEnd writes a run's (or a recovery's) last record, once res is
// known; when it fails, res says so, since the journal will show the run
// unfinished although it ended.
func (r *run) recordEnd(res *Result, rec *JournalRecord) {
	if r.record(rec) {
		res.JournalEnded = res.JournalError != ""
		return
	}
	if res.JournalError != "" {
		return
	}
	r.mu.Lock()
	res.JournalError = errString(r.journalErr)
	r.mu.Unlock()
	res.Cause = joinCause(res.Cause, "cannot write the run journal's last record: "+res.JournalError)
}

// joinCause adds a later cause to what the run already says.
func joinCause(cause, more string) string {
	if cause == "" {
		return more
	}
	return cause + "; then " + more
}

// watchInterrupt turns the first close of opts.Interrupt into: stop
// starting work, SIGINT to what runs, and after the grace, cancellation.
func (r *run) watchInterrupt(finished <-chan struct{}) {
	select {
	case <-r.opts.Interrupt:
	case <-finished:
		return
	}
	reason := "interrupted by the operator"
	if r.opts.InterruptReason != nil {
		reason = cmp.Or(r.opts.InterruptReason(), reason)
	}
	r.mu.Lock()
	if r.rollingBack {
		// Nothing of the run is left to stop, and stopping the
		// rollback half-way would leave hosts half undone: it goes on,
		// the run's record stays the failure's, and only a second
		// interrupt (an abort) cuts it short.
		r.mu.Unlock()
		r.emit(RollbackGoesOn{Reason: reason, Time: time.Now()})
		return
	}
	r.interrupted = true
	r.stopping = true
	// Transfers have no signal to take: the first interrupt ends them.
	r.interruptTransfers()
	if r.cause == "" {
		r.cause = reason
	} else {
		r.cause += "; then " + reason
	}
	running := make(map[string]sdk.Transport, len(r.running))
	for id, t := range r.running {
		running[id] = t
	}
	r.mu.Unlock()
	r.ro.noteInterrupt()
	r.record(&JournalRecord{Type: RecordStopping, Reason: reason})
	r.emit(Stopping{Reason: reason, Rollback: r.plan.OnFailure == config.OnFailureRollback, Time: time.Now()})

	// The grace runs from the interrupt, and the signals go out side by
	// side: one after another, a plugin that does not answer cost 2 s
	// each before the grace began (45 s for 20 hosts).
	grace := time.NewTimer(r.opts.InterruptGrace)
	defer grace.Stop()
	sem := newSemaphore(signalFanout)
	var sent sync.WaitGroup
	for id, t := range running {
		sem.acquire()
		sent.Go(func() {
			defer sem.release()
			sctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
			defer cancel()
			if _, err := t.Signal(sctx, &sdk.SignalRequest{ExecID: id, Signal: "INT"}); err != nil {
				r.logger.Debug("signal failed", "exec", id, "error", err)
			}
		})
	}
	sent.Wait()
	select {
	case <-grace.C:
		r.cancelExec()
	case <-finished:
	}
}

// signalFanout is how many of an interrupt's signals are in flight at once.
const signalFanout = 64

// preflightOK connects every host of the plan in parallel when the plan
// asks for preflight, and reports whether all of them succeeded.
func (r *run) preflightOK() bool {
	if !r.plan.Preflight {
		return true
	}
	// connect keeps each host's error in r.conns, read below.
	r.connectAll(true)
	r.mu.Lock()
	for _, h := range r.plan.Hosts {
		if c := r.conns[h.Name]; c != nil && c.err != nil {
			r.preflight = append(r.preflight, HostError{Host: h.Name, Err: hostErrText(c.err, h.Name)})
		}
	}
	failed := slices.Clone(r.preflight)
	if len(failed) > 0 {
		r.failed = true
		r.cause = fmt.Sprintf("%d of %d hosts failed preflight; nothing was run", len(failed), len(r.plan.Hosts))
	}
	r.mu.Unlock()
	for _, he := range failed {
		// Nothing runs after a failed preflight anyway; a failure to
		// record it is still the run's JournalError.
		r.record(&JournalRecord{Type: RecordHostError, Host: he.Host, Reason: he.Err})
	}
	return len(failed) == 0
}

// maxConnecting bounds the Connects the core has in flight at once when it
// connects many hosts (preflight, connectEarly). Transports bound their
// own handshakes (ssh: max_connects, 32 by default); a Connect per host
// of a 2,000-host plan in flight at once only waited there, each holding
// a goroutine and a gRPC stream at both ends: 90 MB before the first
// handshake ended.
const maxConnecting = 64

// connectAll connects every host of the plan, at most maxConnecting at
// once, in the plan's order (the first task's first hosts first), and
// returns when all have connected or failed; each host's outcome is kept
// in r.conns.
func (r *run) connectAll(preflight bool) {
	sem := newSemaphore(maxConnecting)
	var wg sync.WaitGroup
	for _, h := range r.plan.Hosts {
		sem.acquire()
		if r.ctx.Err() != nil || (!preflight && r.isStopping()) {
			sem.release()
			break
		}
		wg.Go(func() {
			defer sem.release()
			if preflight {
				_, _ = r.connect(h, true)
			} else {
				_, _ = r.connectPending(h)
			}
		})
	}
	wg.Wait()
}

// connectEarly, without preflight, connects every host as the run starts
// when nothing can stop the run (on_failure "continue": fanout exec's
// default): every host will be connected anyway, so the handshakes need
// not wait for each host's turn, one window of max_hosts at a time. A
// host that fails is reported at its turn, as without it. The run, not a
// task, waits for it (r.aheadWG).
func (r *run) connectEarly() {
	if !r.connectsEarly() {
		return
	}
	r.aheadWG.Go(func() { r.connectAll(false) })
}

// connectsEarly reports whether the run connects its hosts as it starts
// without preflight (connectEarly).
func (r *run) connectsEarly() bool {
	return !r.plan.Preflight && r.plan.OnFailure == config.OnFailureContinue
}

// connect returns the host's transport, connecting it first; concurrent
// callers for one host share a single Connect.
func (r *run) connect(h *Host, preflight bool) (sdk.Transport, error) {
	return r.connectFor(h, preflight, false, false)
}

// connectForRollback connects h for a rollback, which the operator's
// first interrupt does not stop (connect's connects end with it).
func (r *run) connectForRollback(h *Host) (sdk.Transport, error) {
	return r.connectFor(h, false, false, true)
}

// connectPending connects h ahead of the pairs still to run there
// (connectEarly, connectAhead), and does nothing, returning nil and no
// error, once none will (hasPending): the host's pairs connected it
// themselves and ended, or it was dropped, and it is released or being
// released. Connecting it again would be a handshake that nothing uses,
// whose connection nothing releases: at 200 hosts without preflight, 96
// of them, and a run twice as long.
func (r *run) connectPending(h *Host) (sdk.Transport, error) {
	return r.connectFor(h, false, true, false)
}

// connectFor connects h, or waits for the connect of h in flight. A
// connect for the run's work (preflight, ahead, a run phase) ends with the
// operator's first interrupt, as transfers do: nothing has run on a host
// still connecting, and a plugin's Connect that never returns must not
// keep fanout from stopping. One for a rollback goes on until an abort.
func (r *run) connectFor(h *Host, preflight, pendingOnly, rollback bool) (sdk.Transport, error) {
	ctx := r.transfers
	if rollback {
		ctx = r.ctx
	}
	r.mu.Lock()
	if pendingOnly && !r.hasPending(h.Name) {
		r.mu.Unlock()
		return nil, nil
	}
	c, ok := r.conns[h.Name]
	for !ok && r.releasing[h.Name] != nil {
		// Released a moment ago: connect again once the transport has
		// let go of the old connection.
		wait := r.releasing[h.Name]
		r.mu.Unlock()
		if !r.awaitRelease(wait) {
			return nil, r.ctx.Err()
		}
		r.mu.Lock()
		c, ok = r.conns[h.Name]
	}
	if !ok {
		c = &hostConn{done: make(chan struct{})}
		r.conns[h.Name] = c
	}
	r.mu.Unlock()
	if ok {
		select {
		case <-c.done:
			return c.t, c.err
		case <-ctx.Done():
			return nil, interruptedConnect(ctx)
		}
	}
	defer close(c.done)
	start := time.Now()
	t, _, err := r.opts.Transports.get(r.ctx, h.Transport)
	if err == nil {
		err = r.connectHost(ctx, t, h)
	}
	if err != nil && ctx.Err() != nil && r.ctx.Err() == nil {
		// Cut short by the interrupt, not failed: a rollback that needs
		// the host later connects it anew.
		err = interruptedConnect(ctx)
		r.mu.Lock()
		if r.conns[h.Name] == c {
			delete(r.conns, h.Name)
		}
		r.mu.Unlock()
	}
	ev := HostConnected{Host: h.Name, Transport: h.Transport, Time: time.Now(), Duration: time.Since(start), Preflight: preflight}
	if err != nil {
		c.err = err
		ev.Err = hostErrText(err, h.Name)
	} else {
		c.t = t
	}
	r.emit(ev)
	return c.t, c.err
}

// hasPending reports whether a run-phase pair of host name may still run:
// one has not ended (r.pending), and the host was not dropped, which
// skips the rest of its pairs. Called with r.mu held.
func (r *run) hasPending(name string) bool {
	return r.pending[name] > 0 && !r.ro.isDropped(name)
}

func (r *run) result(ordered []*UnitResult, start time.Time) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{
		RunID:          r.opts.RunID,
		Cause:          r.cause,
		Preflight:      r.preflight,
		RolledBack:     r.rolledBack,
		RollbackFailed: r.rbFailed,
		JournalError:   errString(r.journalErr),
		Started:        start,
		Duration:       time.Since(start),
	}
	res.Units, res.FirstFailure = copyUnits(ordered, r.first)
	switch {
	case r.interrupted || r.ctx.Err() != nil:
		res.Status = RunInterrupted
		if r.ctx.Err() != nil {
			res.Aborted = true
			if r.cause == "" {
				res.Cause = "aborted"
			} else {
				res.Cause = r.cause + ", then aborted"
			}
			res.NotRolledBack = r.notRolledBack(ordered)
		}
	case r.failed:
		res.Status = RunFailed
	default:
		res.Status = RunSucceeded
	}
	if (r.stopping || res.Aborted) && r.plan.OnFailure != config.OnFailureRollback {
		// Stopped (a failure under "stop", a failed canary, an
		// interrupt, an abort) where on_failure rolls nothing back:
		// what ran is left as it is, as it would have been without an
		// abort, for `fanout rollback` to undo if need be.
		res.NotRolledBack = r.notRolledBack(ordered)
		if len(res.NotRolledBack) > 0 {
			res.NoRollback = string(r.plan.OnFailure)
		}
	}
	r.rolloutResult(res)
	return res
}

// notRolledBack lists, in the order they ran, the pairs of ordered whose
// task has a rollback that never started there, though the pair ran
// something: what an abort, or on_failure "stop" or "continue", left for
// `fanout rollback`. Called with r.mu held.
func (r *run) notRolledBack(ordered []*UnitResult) []string {
	tasks := map[string]*TaskNode{}
	for t := range r.started {
		tasks[t.Name] = t
	}
	var out []string
	for _, u := range ordered {
		t := tasks[u.Task]
		// A dropped host's pairs count too: an abort can cut its
		// drop short.
		if t == nil || len(t.Rollback) == 0 || u.Rollback != nil || nothingRan(u.Run) {
			continue
		}
		out = append(out, u.Task+" on "+u.Host)
	}
	return out
}

// copyUnits copies units for a Result, which must not share the run's
// state, and returns the copy of first among them (nil when it is not).
func copyUnits(units []*UnitResult, first *UnitResult) (out []*UnitResult, firstCopy *UnitResult) {
	for _, u := range units {
		c := *u
		if u.Rollback != nil {
			rb := *u.Rollback
			c.Rollback = &rb
		}
		out = append(out, &c)
		if u == first {
			firstCopy = &c
		}
	}
	return out, firstCopy
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// interruptedConnect is the error of a connect that ctx ended.
func interruptedConnect(ctx context.Context) error {
	return fmt.Errorf("connecting was interrupted: %w", context.Cause(ctx))
}

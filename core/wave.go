package core

import (
	"sync"
	"time"

	"github.com/fanout/fanout/config"
)

// rolloutState is what a run's rollouts share across tasks: the hosts
// dropped, the tasks that started on each host (for a drop's rollback,
// newest first), the pairs running on each host, and the waves so far.
// Its zero value is ready. It has its own lock: one who holds run.mu may
// take it, never the other way round.
type rolloutState struct {
	mu sync.Mutex
	// guarded by mu
	dropped   map[string]*DroppedHost
	order     []*DroppedHost
	hostTasks map[string][]*TaskNode
	busy      map[string]int
	idle      *sync.Cond
	waves     []*WaveResult
	stop      chan struct{}
	interrupt chan struct{}
}

// init makes the maps; called with mu held.
func (s *rolloutState) init() {
	if s.busy != nil {
		return
	}
	s.dropped = map[string]*DroppedHost{}
	s.hostTasks = map[string][]*TaskNode{}
	s.busy = map[string]int{}
	s.idle = sync.NewCond(&s.mu)
	s.stop = make(chan struct{})
	s.interrupt = make(chan struct{})
}

// stopped returns a channel closed once the run stops starting work.
func (s *rolloutState) stopped() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.stop
}

// interrupted returns a channel closed once the operator interrupts.
func (s *rolloutState) interrupted() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.interrupt
}

// closeOnce closes *ch unless it is closed.
func (s *rolloutState) closeOnce(ch *chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	select {
	case <-*ch:
	default:
		close(*ch)
	}
}

// noteStopping is called as the run announces it stops (the Stopping
// event): pauses and retry delays end at once.
func (s *rolloutState) noteStopping() { s.closeOnce(&s.stop) }

// noteInterrupt is called on the operator's interrupt: checks waiting for
// their next attempt end too.
func (s *rolloutState) noteInterrupt() { s.closeOnce(&s.interrupt) }

// claim marks t starting on h, unless h was dropped: it returns the drop
// then. Checked and marked under one lock, so a drop never misses a pair
// starting on its host.
func (s *rolloutState) claim(t *TaskNode, h string) *DroppedHost {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if d := s.dropped[h]; d != nil {
		return d
	}
	s.busy[h]++
	s.hostTasks[h] = append(s.hostTasks[h], t)
	return nil
}

// release marks a pair on h ended.
func (s *rolloutState) release(h string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy[h]--
	s.idle.Broadcast()
}

// isDropped reports whether h was dropped.
func (s *rolloutState) isDropped(h string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped[h] != nil
}

// waves returns the task's waves: one of all its hosts when the plan
// gives none.
func (t *TaskNode) waves() []Wave {
	if len(t.Waves) > 0 {
		return t.Waves
	}
	return []Wave{{Hosts: t.Hosts}}
}

// runTask runs t on its hosts wave by wave, and reports whether it
// started on any host. A wave ends, every host's run and check done,
// before the pause and the next wave; nothing starts once the run stops.
func (r *run) runTask(t *TaskNode) bool {
	waves := t.waves()
	started := false
	offset := 0
	for i, w := range waves {
		if i > 0 && !r.pause(t, i+1) {
			break
		}
		if r.isStopping() {
			break
		}
		waveStarted, failed := r.runWave(t, w, i+1, len(waves), offset)
		started = started || waveStarted
		if failed {
			// Over its budget, or a failed canary: the task failed, and
			// its rollout goes no further, whatever on_failure lets the
			// rest of the run do.
			break
		}
		offset += len(w.Hosts)
	}
	return started
}

// pause waits t.Pause before wave next, and reports whether the run may
// go on: a stop (a failure elsewhere, Ctrl-C) ends the pause at once.
func (r *run) pause(t *TaskNode, next int) bool {
	if t.Pause <= 0 || r.isStopping() {
		// Stopping: no pause to announce before a wave that will not
		// start.
		return !r.isStopping()
	}
	r.emit(Pausing{Task: t.Name, Next: next, Duration: t.Pause, Time: time.Now()})
	return r.sleep(t.Pause, r.ro.stopped())
}

// sleep waits d, or until stop is closed or the run is cancelled, and
// reports whether the whole d passed with the run still going.
func (r *run) sleep(d time.Duration, stop <-chan struct{}) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return !r.isStopping()
	case <-stop:
	case <-r.ctx.Done():
	}
	return false
}

// runWave runs t on the hosts of one wave, at most MaxHosts at once, and
// waits for all of them; offset is the wave's first host's index in
// t.Hosts. A host that fails within the wave's budget is dropped
// (budget.go); over it the task fails. It reports whether the wave
// started on any host, and whether the task failed in it.
func (r *run) runWave(t *TaskNode, w Wave, index, of, offset int) (started, failed bool) {
	wr := r.waveStarted(t, w, index, of)
	sem := newSemaphore(min(t.MaxHosts, max(len(w.Hosts), 1)))
	var wg sync.WaitGroup
	whole := true
	for k, h := range w.Hosts {
		if r.isStopping() {
			whole = false
			break
		}
		sem.acquire()
		r.mu.Lock()
		if r.stopping || r.ctx.Err() != nil {
			r.mu.Unlock()
			sem.release()
			whole = false
			break
		}
		u := r.units[unitKey{t, h.Name}]
		if d := r.ro.claim(t, h.Name); d != nil {
			u.Run = PhaseResult{Status: StatusSkipped, ExitCode: -1, Command: -1,
				Err: "host dropped after task " + quote(d.Task) + " failed on it"}
			r.mu.Unlock()
			sem.release()
			r.emit(HostSkipped{Task: t.Name, Host: h.Name, Reason: u.Run.Err})
			continue
		}
		r.started[t] = append(r.started[t], h)
		if r.plan.OnFailure == config.OnFailureRollback && len(t.Commands(h.Name, PhaseRollback)) > 0 {
			r.undo[h.Name] = true
		}
		r.mu.Unlock()
		started = true
		wg.Go(func() {
			defer sem.release()
			res := r.runUnit(r.execCtx, t, h, PhaseRun)
			r.mu.Lock()
			u.Run = res
			r.mu.Unlock()
			r.ro.release(h.Name)
			// Skipped: the journal refused its start record, which already
			// stopped the run with that cause.
			dropped := false
			if unitFailed(res) {
				dropped = r.hostFailed(t, w, wr, u)
			}
			r.unitEnded(h, dropped)
		})
		r.connectAhead(t, offset+k)
	}
	wg.Wait()
	r.waveFinished(t, wr, whole)
	r.ro.mu.Lock()
	failed = wr.taskFailed
	r.ro.mu.Unlock()
	return started, failed
}

// unitFailed reports whether a run phase counts as a failure: neither
// success nor a skip (by a condition, or by a journal that refused its
// start, which stopped the run already).
func unitFailed(res PhaseResult) bool {
	switch res.Status {
	case StatusOK, StatusSkipped, StatusConditionSkipped:
		return false
	}
	return true
}

// waveStarted opens a wave: its record, which counts its failures, and
// for a task of several waves its journal record and event.
func (r *run) waveStarted(t *TaskNode, w Wave, index, of int) *WaveResult {
	names := planHostNames(w.Hosts)
	wr := &WaveResult{Task: t.Name, Index: index, Of: of, Hosts: names, Budget: w.Budget, Started: time.Now()}
	if of <= 1 {
		return wr
	}
	r.ro.mu.Lock()
	r.ro.init()
	r.ro.waves = append(r.ro.waves, wr)
	r.ro.mu.Unlock()
	r.record(&JournalRecord{Type: RecordWaveStarted, Task: t.Name, Wave: index, Waves: of, Hosts: names})
	r.emit(WaveStarted{Task: t.Name, Index: index, Of: of, Hosts: names, Budget: w.Budget, Time: wr.Started})
	return wr
}

// waveFinished closes a wave; whole is false when the run stopped before
// every host of it had its turn.
func (r *run) waveFinished(t *TaskNode, wr *WaveResult, whole bool) {
	now := time.Now()
	r.ro.mu.Lock()
	wr.Finished = whole
	wr.Duration = now.Sub(wr.Started)
	failed := append([]string(nil), wr.Failed...)
	r.ro.mu.Unlock()
	if wr.Of <= 1 {
		return
	}
	if whole {
		// A wave the run stopped in stays open in the journal, as it
		// stays "stopped" in the recap.
		r.record(&JournalRecord{Type: RecordWaveFinished, Task: t.Name, Wave: wr.Index, Failed: failed})
	}
	r.emit(WaveFinished{Task: t.Name, Index: wr.Index, Of: wr.Of, Failed: failed, Time: now})
}

func planHostNames(hosts []*Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}

func quote(s string) string { return `"` + s + `"` }

package core

import (
	"sync"
	"time"
)

// undoFrame is the undo stack of one group (or of the run's roots): its
// members in the order they finished. A member group holds its own frame,
// so unwinding rolls back an inner group whole before what finished
// before it in the outer one.
type undoFrame struct {
	mu sync.Mutex
	// guarded by mu
	entries []undoEntry
}

// undoEntry is a finished task, or a finished group's frame.
type undoEntry struct {
	task  *TaskNode
	frame *undoFrame
}

// push adds e; journal, when not nil, records it while the frame is
// locked, so the journal holds a frame's entries in the frame's order.
func (f *undoFrame) push(e undoEntry, journal func()) {
	f.mu.Lock()
	if journal != nil {
		journal()
	}
	f.entries = append(f.entries, e)
	f.mu.Unlock()
}

func (f *undoFrame) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries)
}

// order unwinds the frame: newest entry first, inner frames whole.
func (f *undoFrame) order(out []*TaskNode) []*TaskNode {
	f.mu.Lock()
	entries := append([]undoEntry(nil), f.entries...)
	f.mu.Unlock()
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.task != nil {
			out = append(out, e.task)
		} else {
			out = e.frame.order(out)
		}
	}
	return out
}

// rollback runs the cascade: the task that failed first, then every other
// task that started, newest first. Tasks roll back one at a time; each on
// the hosts its run started on, under its max_hosts. A failing rollback is
// recorded and the cascade goes on; nothing is rolled back twice.
// Cancelling the run's ctx abandons what has not started.
func (r *run) rollback(root *undoFrame) {
	for _, step := range r.rollbackSteps(root) {
		if r.ctx.Err() != nil {
			return
		}
		if len(step.task.Rollback) == 0 || len(step.hosts) == 0 {
			continue
		}
		r.rollbackTask(step.task, step.hosts)
	}
}

// rollbackStep is one task of the cascade: the hosts to roll it back on,
// and those skipped because an earlier rollback of them succeeded.
type rollbackStep struct {
	task  *TaskNode
	hosts []*Host
	done  []*Host
}

// rollbackSteps is the cascade's order, each task once, with its hosts.
func (r *run) rollbackSteps(root *undoFrame) []rollbackStep {
	var order []*TaskNode
	r.mu.Lock()
	if r.firstTask != nil {
		order = append(order, r.firstTask)
	}
	r.mu.Unlock()
	order = root.order(order)

	var steps []rollbackStep
	seen := map[*TaskNode]bool{}
	for _, t := range order {
		if seen[t] {
			continue
		}
		seen[t] = true
		step := rollbackStep{task: t}
		r.mu.Lock()
		for _, h := range r.started[t] {
			u := r.units[unitKey{t, h.Name}]
			// A host the run never reached, or never sent a command to,
			// has nothing to undo; a dropped host was rolled back whole
			// when it was dropped (budget.go).
			if nothingRan(u.Run) || r.ro.isDropped(h.Name) {
				continue
			}
			// Rolled back already, by an earlier `fanout rollback` of
			// the same journal: nothing is rolled back twice.
			if u.Rollback != nil && u.Rollback.Status == StatusOK {
				step.done = append(step.done, h)
				continue
			}
			step.hosts = append(step.hosts, h)
		}
		r.mu.Unlock()
		steps = append(steps, step)
	}
	return steps
}

func (r *run) rollbackTask(t *TaskNode, hosts []*Host) {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	r.record(&JournalRecord{Type: RecordRollbackStarted, Task: t.Name, Hosts: names})
	r.emit(RollbackStarted{Task: t.Name, Hosts: names, Time: time.Now()})
	r.mu.Lock()
	r.rolledBack = append(r.rolledBack, t.Name)
	r.mu.Unlock()

	sem := newSemaphore(t.MaxHosts)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for _, h := range hosts {
		sem.acquire()
		if r.ctx.Err() != nil {
			// Aborted: a rollback not started here is not started,
			// to fail at once as cancelled; the recap and `fanout
			// rollback` have it as not rolled back (notRolledBack).
			sem.release()
			break
		}
		wg.Go(func() {
			defer sem.release()
			res := r.runUnit(r.ctx, t, h, PhaseRollback)
			r.mu.Lock()
			r.units[unitKey{t, h.Name}].Rollback = &res
			if res.Status != StatusOK {
				r.rbFailed = append(r.rbFailed, t.Name+" on "+h.Name)
			}
			r.mu.Unlock()
			if res.Status != StatusOK {
				mu.Lock()
				failed = append(failed, h.Name)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.record(&JournalRecord{Type: RecordRollbackFinished, Task: t.Name, Failed: failed})
	r.emit(RollbackFinished{Task: t.Name, Failed: failed, Time: time.Now()})
}

package core

import (
	"fmt"
	"slices"
	"time"
)

// hostFailed handles a failed pair of a wave. Within the wave's failure
// budget, the host is dropped: rolled back whole and left out of the rest
// of the run, which goes on. Over it, or for a canary (a wave of one),
// or once the run is stopping anyway, the task fails as any task does and
// on_failure applies; its later waves never start, even under
// "continue", which goes on with the other tasks; a failed canary stops
// the whole run, whatever on_failure says. It reports whether it dropped
// the host (and rolled it back), which leaves the host to this caller to
// release.
func (r *run) hostFailed(t *TaskNode, w Wave, wr *WaveResult, u *UnitResult) bool {
	stopping := r.isStopping()
	r.mu.Lock()
	cause := fmt.Sprintf("task %q failed: %s", t.Name, u.Run.Describe())
	r.mu.Unlock()
	r.ro.mu.Lock()
	r.ro.init()
	if r.ro.dropped[u.Host] != nil {
		// Another task failed there first and is dropping the host; it
		// waited for this pair and rolls it back with the rest.
		r.ro.mu.Unlock()
		return false
	}
	wr.Failed = append(wr.Failed, u.Host)
	within := !stopping && len(w.Hosts) > 1 && len(wr.Failed) <= w.Budget
	var d *DroppedHost
	if within {
		d = &DroppedHost{Host: u.Host, Task: t.Name, Cause: cause}
		r.ro.dropped[u.Host] = d
		r.ro.order = append(r.ro.order, d)
	}
	// A budget of 0 is exceeded too, where waves make it one (a task of
	// one wave without max_failures has no budget to speak of).
	over := !within && !stopping && len(w.Hosts) > 1 && (w.Budget > 0 || wr.Of > 1) && len(wr.Failed) == w.Budget+1
	canary := !within && len(w.Hosts) == 1 && wr.Of > 1 && leadsRollout(t.waves(), wr.Index)
	if !within {
		wr.taskFailed = true
	}
	failed := slices.Clone(wr.Failed)
	r.ro.mu.Unlock()
	if !within {
		if over {
			r.emit(BudgetExceeded{Task: t.Name, Index: wr.Index, Of: wr.Of, Failed: failed, Budget: w.Budget, Time: time.Now()})
		}
		r.fail(t, u)
		if canary {
			r.halt(fmt.Sprintf("the canary of task %q failed on host %q: %s", t.Name, u.Host, u.Run.Describe()), t, u.Host)
		}
		return false
	}
	r.dropHost(t, u, d)
	return true
}

// leadsRollout reports whether wave index (from 1) of waves is a canary's:
// it and every wave before it hold one host. The last wave of a rollout
// of waves of 2 (1, 2, 2, 1) holds one host too, the rest of the hosts,
// and is no canary: under "continue" its failure stopped the whole run,
// where one in the wave before it let the other tasks go on.
func leadsRollout(waves []Wave, index int) bool {
	for _, w := range waves[:min(index, len(waves))] {
		if len(w.Hosts) != 1 {
			return false
		}
	}
	return true
}

// dropHost rolls back every task that started on the dropped host, newest
// first, each on that host only. Pairs still running there (tasks beside
// this one) are waited for first: they are the newest. A rollback that
// fails leaves the host in a state nobody knows, which no budget covers:
// the task fails then.
func (r *run) dropHost(t *TaskNode, u *UnitResult, d *DroppedHost) {
	r.record(&JournalRecord{Type: RecordHostDropped, Task: t.Name, Host: d.Host, Reason: d.Cause})
	r.emit(HostDropped{Host: d.Host, Task: t.Name, Cause: d.Cause, Time: time.Now()})

	r.ro.mu.Lock()
	for r.ro.busy[d.Host] > 0 {
		r.ro.idle.Wait()
	}
	tasks := slices.Clone(r.ro.hostTasks[d.Host])
	r.ro.mu.Unlock()

	h := hostOf(t, d.Host)
	failed := false
	for _, tt := range slices.Backward(tasks) {
		if r.ctx.Err() != nil {
			break
		}
		r.mu.Lock()
		uu := r.units[unitKey{tt, d.Host}]
		skip := len(tt.Rollback) == 0 || nothingRan(uu.Run) || uu.Rollback != nil
		r.mu.Unlock()
		if skip {
			continue
		}
		res := r.runUnit(r.ctx, tt, h, PhaseRollback)
		r.mu.Lock()
		uu.Rollback = &res
		if res.Status != StatusOK {
			r.rbFailed = append(r.rbFailed, tt.Name+" on "+d.Host)
		}
		r.mu.Unlock()
		r.ro.mu.Lock()
		d.noteRollback(tt.Name, res.Status)
		failed = failed || res.Status != StatusOK
		r.ro.mu.Unlock()
	}
	if failed {
		r.fail(t, u)
	}
}

// nothingRan reports whether a run phase sent no command of the task to
// its host: it never connected, never started, or its only_if or unless
// left it out, failed or was interrupted (conditions are not the task's
// run). Such a pair has nothing to roll back, whatever ended it, an
// interrupt too: a pair interrupted in its run's commands, transfers or
// check has Command or Attempts set.
func nothingRan(res PhaseResult) bool {
	return res.Command == -1 && res.Attempts == 0
}

// hostOf returns t's host named name.
func hostOf(t *TaskNode, name string) *Host {
	for _, h := range t.Hosts {
		if h.Name == name {
			return h
		}
	}
	panic("core: host " + name + " is not one of task " + t.Name + "'s")
}

// rolloutResult adds the waves and the dropped hosts to res; a run that
// would have succeeded but for hosts dropped within a budget is partial.
// Called with r.mu held.
func (r *run) rolloutResult(res *Result) {
	r.ro.mu.Lock()
	defer r.ro.mu.Unlock()
	for _, w := range r.ro.waves {
		c := *w
		c.Hosts, c.Failed = slices.Clone(w.Hosts), slices.Clone(w.Failed)
		res.Waves = append(res.Waves, c)
	}
	for _, d := range r.ro.order {
		c := *d
		c.RolledBack, c.FailedRollbacks = slices.Clone(d.RolledBack), slices.Clone(d.FailedRollbacks)
		res.Dropped = append(res.Dropped, c)
	}
	droppedOutcome(res)
	if res.Status == RunSucceeded && len(res.Dropped) > 0 {
		res.Status = RunPartial
		res.Cause = fmt.Sprintf("partial: %d of %d hosts dropped, rolled back", len(res.Dropped), len(r.plan.Hosts))
	}
}

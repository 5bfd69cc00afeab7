package core

import (
	"slices"
	"strings"
)

// rolloutRecord takes a journal record of a rollout into the result a
// journal rebuilds, for `fanout runs show`: the waves, and the dropped
// hosts with the tasks their drop rolled back. What to roll back is read
// from the unit records alone, as for any run.
func rolloutRecord(res *Result, rec *JournalRecord) {
	switch rec.Type {
	case RecordWaveStarted:
		res.Waves = append(res.Waves, WaveResult{Task: rec.Task, Index: rec.Wave, Of: rec.Waves, Hosts: slices.Clone(rec.Hosts), Started: rec.Time})
	case RecordWaveFinished:
		for i := range res.Waves {
			if w := &res.Waves[i]; w.Task == rec.Task && w.Index == rec.Wave {
				w.Finished, w.Failed, w.Duration = true, slices.Clone(rec.Failed), rec.Time.Sub(w.Started)
			}
		}
	case RecordHostDropped:
		res.Dropped = append(res.Dropped, DroppedHost{Host: rec.Host, Task: rec.Task, Cause: rec.Reason})
	case RecordUnitFinished:
		if rec.Phase != PhaseRollback || rec.Result == nil {
			return
		}
		for i := range res.Dropped {
			if d := &res.Dropped[i]; d.Host == rec.Host {
				d.noteRollback(rec.Task, rec.Result.Status)
			}
		}
	}
}

// droppedOutcome completes what the journal's records say of each dropped
// host with the pairs' own results, for a drop cut short: a rollback that
// started and has no end (fanout died, or an abort cut it) did not finish,
// and a rollback that never started is not rolled back.
func droppedOutcome(res *Result) {
	if len(res.Dropped) == 0 {
		return
	}
	at := map[string]*DroppedHost{}
	for i := range res.Dropped {
		d := &res.Dropped[i]
		at[d.Host], d.NotRolledBack = d, nil
	}
	for _, u := range res.Units {
		d := at[u.Host]
		if d == nil || u.Rollback == nil || slices.Contains(d.RolledBack, u.Task) || slices.Contains(d.FailedRollbacks, u.Task) ||
			slices.Contains(d.Unfinished, u.Task) {
			continue
		}
		if u.Rollback.Status == StatusInterrupted {
			d.Unfinished = append(d.Unfinished, u.Task)
			continue
		}
		d.noteRollback(u.Task, u.Rollback.Status)
	}
	for _, p := range res.NotRolledBack {
		if task, host, ok := strings.Cut(p, " on "); ok && at[host] != nil {
			at[host].NotRolledBack = append(at[host].NotRolledBack, task)
		}
	}
}

// noteRollback takes the outcome of task's rollback on the dropped host:
// the latest of a pair counts, as a later `fanout rollback` may do what
// had failed.
func (d *DroppedHost) noteRollback(task string, st Status) {
	d.RolledBack = slices.DeleteFunc(d.RolledBack, func(t string) bool { return t == task })
	d.FailedRollbacks = slices.DeleteFunc(d.FailedRollbacks, func(t string) bool { return t == task })
	if st == StatusOK {
		d.RolledBack = append(d.RolledBack, task)
	} else {
		d.FailedRollbacks = append(d.FailedRollbacks, task)
	}
}

package core

import (
	"time"

	"github.com/fanout/fanout/config"
)

// Rollout is how a task rolls out over its hosts: in waves, each with a
// failure budget, each host gated by a check, its run retried, and hosts
// left out by conditions. The zero Rollout, with its hosts in one wave, is
// a task as it ran before rollouts: every host at once (under MaxHosts),
// any failure failing the task.
type Rollout struct {
	// Waves split the task's hosts, in order; a wave ends, every host's
	// run and check done, before the next starts.
	Waves []Wave
	// Batch and MaxFailures are the settings the waves came from, for
	// showing; empty when not set.
	Batch       []config.Size
	MaxFailures config.Size
	// Pause is the wait between two waves.
	Pause time.Duration
	// Check gates each host after its run succeeded; nil for none.
	Check *Check
	// Retries is how many more times the run commands are tried on a host
	// before it counts as failed, RetryDelay the wait before each.
	Retries    int
	RetryDelay time.Duration
	// OnlyIf and Unless are run on each host before the task: it is
	// skipped there when an OnlyIf command exits non-zero or every Unless
	// command exits 0.
	OnlyIf []string
	Unless []string
}

// Wave is some of a task's hosts, run together.
type Wave struct {
	Hosts []*Host
	// Budget is how many of its hosts may fail, each then rolled back
	// whole and dropped from the run, before the task fails. Always less
	// than the wave's size: a wave that fails everywhere fails the task,
	// and a wave of one host (a canary) has none.
	Budget int
}

// Check is a task's health gate on each host.
type Check struct {
	// Run are the commands of one attempt, in order.
	Run []string
	// Interval is from the start of one attempt to the next.
	Interval time.Duration
	// Timeout bounds all attempts on a host together.
	Timeout time.Duration
}

// planRollout splits hosts into the task's waves and copies its other
// rollout settings.
func planRollout(t *config.Task, hosts []*Host) Rollout {
	ro := Rollout{
		Batch: t.Batch, MaxFailures: t.MaxFailures, Pause: t.Pause,
		Retries: t.Retries, RetryDelay: t.RetryDelay, OnlyIf: t.OnlyIf, Unless: t.Unless,
	}
	if c := t.Check; c != nil {
		ro.Check = &Check{Run: c.Run, Interval: c.Interval, Timeout: c.Timeout}
	}
	ro.Waves = splitWaves(hosts, t.Batch, t.MaxFailures)
	return ro
}

// splitWaves cuts hosts into waves of the batch's sizes, the last size
// repeating; a percentage is of all the hosts, rounded up, at least one.
// Without a batch every host is in one wave.
func splitWaves(hosts []*Host, batch []config.Size, budget config.Size) []Wave {
	var waves []Wave
	for i, rest := 0, hosts; len(rest) > 0; i++ {
		n := len(rest)
		if len(batch) > 0 {
			n = waveSize(batch[min(i, len(batch)-1)], len(hosts))
		}
		n = min(n, len(rest))
		w := Wave{Hosts: rest[:n:n]}
		w.Budget = waveBudget(budget, n)
		waves = append(waves, w)
		rest = rest[n:]
	}
	if len(waves) == 0 {
		waves = []Wave{{}}
	}
	return waves
}

// waveSize is a batch size for a task of total hosts: a percentage rounded
// up, never under one host.
func waveSize(s config.Size, total int) int {
	if !s.Percent {
		return max(s.N, 1)
	}
	return max((s.N*total+99)/100, 1)
}

// waveBudget is a wave's failure budget: a percentage of the wave rounded
// down, and never the whole wave.
func waveBudget(s config.Size, wave int) int {
	n := s.N
	if s.Percent {
		n = s.N * wave / 100
	}
	return max(min(n, wave-1), 0)
}

// widestWave is the size of the task's largest wave.
func (t *TaskNode) widestWave() int {
	w := 0
	for _, wv := range t.Waves {
		w = max(w, len(wv.Hosts))
	}
	return w
}

package core

import "time"

// The events of a rollout; like the others, Apply delivers them in order
// from one goroutine.

// WaveStarted is a wave of a task starting. A task with one wave has
// none of these.
type WaveStarted struct {
	Task string
	// Index counts from 1; Of is the task's number of waves.
	Index, Of int
	Hosts     []string
	// Budget is how many of its hosts may fail and be dropped.
	Budget int
	Time   time.Time
}

// WaveFinished is a wave ending, every host's run and check done.
type WaveFinished struct {
	Task      string
	Index, Of int
	// Failed lists the wave's hosts that failed, dropped or not.
	Failed []string
	Time   time.Time
}

// Pausing is the wait between two waves of a task: the next wave starts
// Duration from Time, unless the run stops first.
type Pausing struct {
	Task string
	// Next is the index of the wave that waits.
	Next     int
	Duration time.Duration
	Time     time.Time
}

// AttemptFailed is one attempt of a task's run on a host that failed and
// will be tried again after Delay.
type AttemptFailed struct {
	Task, Host string
	// Attempt counts from 1; Of is 1 + the task's retries.
	Attempt, Of int
	Result      PhaseResult
	Delay       time.Duration
}

// CheckAttempt is one attempt of a task's check on a host. Its output is
// not passed on as Output events, which would flood the run's output
// once a second per host; Last is its last line.
type CheckAttempt struct {
	Task, Host string
	// Attempt counts from 1.
	Attempt int
	Result  PhaseResult
	Last    string
	Time    time.Time
}

// HostDropped is a host dropped within its wave's failure budget: it is
// rolled back whole (UnitStarted and UnitFinished events of the rollback
// phase follow) and later tasks skip it.
type HostDropped struct {
	Host, Task string
	// Cause says how Task failed there.
	Cause string
	Time  time.Time
}

// BudgetExceeded is a wave failing on more hosts than its budget allows
// (Budget > 0): the task fails, and on_failure applies to the run.
type BudgetExceeded struct {
	Task      string
	Index, Of int
	Failed    []string
	Budget    int
	Time      time.Time
}

// HostSkipped is a task leaving out a host that an earlier failure
// dropped from the run.
type HostSkipped struct {
	Task, Host string
	Reason     string
}

func (WaveStarted) event()    {}
func (WaveFinished) event()   {}
func (Pausing) event()        {}
func (AttemptFailed) event()  {}
func (CheckAttempt) event()   {}
func (HostDropped) event()    {}
func (HostSkipped) event()    {}
func (BudgetExceeded) event() {}

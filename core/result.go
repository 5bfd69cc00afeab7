package core

import (
	"fmt"
	"time"
)

// Status is how one phase of a (task, host) pair ended.
type Status int

const (
	// StatusSkipped is a pair that never started: the run stopped first.
	StatusSkipped Status = iota
	// StatusOK is a pair whose every command exited 0.
	StatusOK
	// StatusFailed is a command that exited non-zero or was killed.
	StatusFailed
	// StatusTimedOut is a pair stopped by its task's timeout.
	StatusTimedOut
	// StatusUnreachable is a host that could not be connected or
	// authenticated, or lost its connection.
	StatusUnreachable
	// StatusInterrupted is a pair stopped by Ctrl-C or cancellation.
	StatusInterrupted
	// StatusCheckFailed is a pair whose run succeeded but whose check
	// did not pass before its timeout.
	StatusCheckFailed
	// StatusConditionSkipped is a pair its task's only_if or unless left
	// out: nothing of the task ran there, which is no failure.
	StatusConditionSkipped
)

// String returns the status as the summary table shows it.
func (s Status) String() string {
	switch s {
	case StatusSkipped:
		return "skipped"
	case StatusOK:
		return "ok"
	case StatusFailed:
		return "failed"
	case StatusTimedOut:
		return "timed out"
	case StatusUnreachable:
		return "unreachable"
	case StatusInterrupted:
		return "interrupted"
	case StatusCheckFailed:
		return "check failed"
	case StatusConditionSkipped:
		return "skipped (condition)"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// PhaseResult is how one phase (run or rollback) of a pair went.
type PhaseResult struct {
	Status Status
	// ExitCode is the failing command's exit code, 0 on success, -1 when
	// the command was killed or its outcome is unknown.
	ExitCode int
	// Signal names the signal that killed the command, if any.
	Signal string
	// Command is the index of the command that failed; -1 when none did.
	Command int
	// Err explains a failure that is not an exit code (unreachable host,
	// lost connection, timeout).
	Err      string
	Started  time.Time
	Duration time.Duration
	// Attempts is how many times the run commands ran (retries), 0 when
	// they never did; CheckAttempts how many times the check ran.
	Attempts      int
	CheckAttempts int
	// CheckTail is the last lines the check's last attempt wrote, when
	// the check failed.
	CheckTail []string
}

// Describe renders the result in a few words: "exit 3", "timed out after 2s".
func (r PhaseResult) Describe() string {
	switch r.Status {
	case StatusOK:
		return "ok"
	case StatusFailed:
		if r.Signal != "" {
			return "killed by SIG" + r.Signal
		}
		return fmt.Sprintf("exit %d", r.ExitCode)
	case StatusTimedOut:
		return "timed out after " + r.Duration.Round(time.Millisecond).String()
	case StatusCheckFailed, StatusConditionSkipped:
		if r.Err != "" {
			return r.Status.String() + ": " + r.Err
		}
	case StatusUnreachable, StatusInterrupted:
		if r.Err != "" {
			return r.Status.String() + ": " + r.Err
		}
	}
	return r.Status.String()
}

// UnitResult is everything that happened to one (task, host) pair.
type UnitResult struct {
	Task string
	Host string
	Run  PhaseResult
	// Rollback is nil when the pair was not rolled back.
	Rollback *PhaseResult
}

// RunStatus is how a whole run ended.
type RunStatus int

const (
	// RunSucceeded means every pair ran and exited 0.
	RunSucceeded RunStatus = iota
	// RunFailed means a pair failed (or a host failed preflight).
	RunFailed
	// RunInterrupted means the run was interrupted or cancelled.
	RunInterrupted
	// RunPartial means every host succeeded or was skipped by a condition
	// except those dropped within their wave's failure budget, which were
	// rolled back.
	RunPartial
)

// String returns "succeeded", "failed" or "interrupted".
func (s RunStatus) String() string {
	switch s {
	case RunSucceeded:
		return "succeeded"
	case RunFailed:
		return "failed"
	case RunInterrupted:
		return "interrupted"
	case RunPartial:
		return "partial"
	}
	return fmt.Sprintf("RunStatus(%d)", int(s))
}

// HostError is a host that failed to connect in preflight.
type HostError struct {
	Host string
	Err  string
}

// Result is the record of a run: what ran where, how it ended, what was
// rolled back. It is complete even when the run failed.
type Result struct {
	RunID  string
	Status RunStatus
	// Cause is one sentence naming the first failure (task, host, exit
	// code), or the interrupt; empty on success.
	Cause string
	// FirstFailure is the pair that stopped the run, if a pair did.
	FirstFailure *UnitResult
	// Preflight lists the hosts that failed preflight; when any did,
	// nothing ran.
	Preflight []HostError
	// Units holds every pair of the plan, in plan order.
	Units []*UnitResult
	// RolledBack lists the tasks whose rollback ran, in the order it ran.
	RolledBack []string
	// RollbackFailed lists "task on host" for every failed rollback.
	RollbackFailed []string
	// Waves lists the waves of the tasks that ran in more than one, in the
	// order they started.
	Waves []WaveResult
	// Dropped lists the hosts dropped within a failure budget, in the
	// order they were dropped.
	Dropped []DroppedHost
	// JournalError is the first failure to write the run's journal; the
	// run stopped there. Empty when the journal was written (or none).
	JournalError string
	Started      time.Time
	Duration     time.Duration
}

// OK reports whether the run succeeded.
func (r *Result) OK() bool { return r.Status == RunSucceeded }

// WaveResult is one wave of a task, as it ran.
type WaveResult struct {
	Task string
	// Index counts the task's waves from 1; Of is how many it has.
	Index, Of int
	Hosts     []string
	// Budget is how many hosts of the wave could fail and be dropped.
	Budget int
	// Failed are the hosts that failed in the wave, dropped or not.
	Failed []string
	// Finished is false for a wave the run stopped before it ended.
	Finished bool
	Started  time.Time
	Duration time.Duration
}

// DroppedHost is a host dropped within its wave's failure budget: rolled
// back whole, then left out of the rest of the run.
type DroppedHost struct {
	Host string
	// Task is the task that failed there, Cause how.
	Task  string
	Cause string
	// RolledBack lists the tasks rolled back on the host, in the order
	// they were; RollbackFailed is set when one of those failed.
	RolledBack     []string
	RollbackFailed bool
}

package core

import (
	"fmt"
	"strings"
	"time"
)

// The journal stores statuses as words (MarshalText), apart from how the
// views show them (String): the two happen to agree today, but a change of
// display must not change what old journals mean, and a word the journal
// does not know is an error, never a guess.

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
	// StatusPluginCrashed is a pair whose transport plugin process died
	// while its command ran (or while it connected the host): its outcome
	// is unknown. Err says how the plugin ended.
	StatusPluginCrashed
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
	case StatusPluginCrashed:
		return "plugin crashed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// statusWords are the journal's words for Status, in Status order.
var statusWords = [...]string{
	StatusSkipped:     "skipped",
	StatusOK:          "ok",
	StatusFailed:      "failed",
	StatusTimedOut:    "timed out",
	StatusUnreachable: "unreachable",
	StatusInterrupted: "interrupted",
	// Added by rollouts; a reader without them refuses such a journal
	// rather than misread it.
	StatusCheckFailed:      "check failed",
	StatusConditionSkipped: "skipped (condition)",
	// Added with plugin crash handling (protocol 1.2).
	StatusPluginCrashed: "plugin crashed",
}

// MarshalText returns the journal's word for s; a Status out of range is
// an error, since no reader could make sense of it.
func (s Status) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(statusWords) {
		return nil, fmt.Errorf("unknown unit status %d", int(s))
	}
	return []byte(statusWords[s]), nil
}

// UnmarshalText reads a word MarshalText wrote; an unknown word is an
// error.
func (s *Status) UnmarshalText(b []byte) error {
	for st, w := range statusWords {
		if w == string(b) {
			*s = Status(st)
			return nil
		}
	}
	return fmt.Errorf("unknown unit status %q", b)
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
	// Timeout is the task's timeout when it stopped the pair
	// (StatusTimedOut), so that Describe can say it apart from the time
	// the command took to die; 0 when unknown.
	Timeout time.Duration
	// Attempts is how many times the run commands ran (retries), 0 when
	// they never did; CheckAttempts how many times the check ran.
	Attempts      int
	CheckAttempts int
	// CheckTail is the last lines the check's last attempt wrote, when
	// the check failed.
	CheckTail []string
	// StderrTail is the last lines the failing command wrote to stderr
	// (a few, each cut short), when a command exited non-zero, was killed
	// or timed out; the journal keeps them for `fanout runs show -html`.
	StderrTail []string
}

// Describe renders the result in a few words: "exit 3", "timed out after
// 1s (stopped 2s later)".
func (r PhaseResult) Describe() string {
	switch r.Status {
	case StatusOK:
		return "ok"
	case StatusFailed:
		if r.Signal != "" {
			return killedBy(r.Signal)
		}
		if r.Err != "" && (r.Command < 0 || r.ExitCode == -1) {
			// No command ran: a transfer failed, or sudo refused to
			// start the command (sudo.go).
			return r.Err
		}
		return fmt.Sprintf("exit %d", r.ExitCode)
	case StatusTimedOut:
		if r.Timeout <= 0 {
			return "timed out after " + r.Duration.Round(time.Millisecond).String()
		}
		// The command gets a grace period to stop after its timeout; how
		// long it took is said apart, not added to the timeout.
		s := "timed out after " + r.Timeout.String()
		if r.Err != "" {
			// The transport never said it stopped the command: how
			// long after is not known.
			return s + ": " + r.Err
		}
		// Over several attempts (retries) the duration is theirs together.
		if late := (r.Duration - r.Timeout).Round(100 * time.Millisecond); late > 0 && r.Attempts <= 1 {
			s += fmt.Sprintf(" (stopped %s later)", late)
		}
		return s
	case StatusCheckFailed, StatusConditionSkipped:
		if r.Err != "" {
			return r.Status.String() + ": " + r.Err
		}
	case StatusUnreachable, StatusInterrupted, StatusPluginCrashed:
		if r.Err != "" {
			return r.Status.String() + ": " + r.Err
		}
	}
	return r.Status.String()
}

// killedBy says which signal killed a command: "killed by SIGTERM" for a
// signal's name, as RFC 4254 and sdk.ExecResponse give it; anything else
// a transport sent (a description, "segmentation fault") is quoted as it
// is, not made into a name that does not exist.
func killedBy(signal string) string {
	name := strings.TrimPrefix(signal, "SIG") // a transport that said SIGKILL
	quoted := len(name) == 0 || len(name) > 16
	for i, c := range name {
		if !(c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-')) {
			quoted = true
		}
	}
	if quoted {
		if len(signal) > 64 {
			signal = signal[:64] + "..."
		}
		return fmt.Sprintf("killed by signal %q", cleanText(signal))
	}
	return "killed by SIG" + name
}

// ownWords are the words core writes around values in a Result's causes
// and in PhaseResult.Describe; Plan.Labels lists them for redaction.
var ownWords = []string{
	"task", "failed on host", "hosts failed preflight", "nothing was run", "exit", "killed by SIG",
	"timed out after", "unreachable", "interrupted by the operator", "interrupted", "cancelled",
	"interrupted by SIGTERM", "interrupted by SIGHUP", "the terminal or its SSH session went away",
	"interrupted by the operator (SIGQUIT)",
	"aborted", "then", "rollbacks failed", "the rollback was aborted", "skipped",
	"cannot write the run journal", "the run journal's last record", "not started",
	"fanout stopped before the run finished", "the journal has no final record",
	"no record of its end", "fanout stopped while it ran", "fanout stopped while its conditions ran",
	"the transport did not stop the command at its timeout", "transport",
	// Rollouts'.
	"partial", "hosts dropped, rolled back", "host dropped after task", "failed on it", "check failed",
	"attempts after", "the last", "during check attempt", "skipped (condition)", "only_if command",
	"unless command", "every unless command succeeded",
	// Plugin crashes'.
	"plugin crashed", "plugin", "crashed while", "ran on host",
	"fanout cannot tell whether the commands it started have ended",
}

// UnitResult is everything that happened to one (task, host) pair.
type UnitResult struct {
	Task string
	Host string
	Run  PhaseResult
	// Rollback is nil when the pair was not rolled back.
	Rollback *PhaseResult
}

// RunStatus is how a whole run ended. The zero RunStatus is no status:
// a run that has not ended, which a journal leaves out.
type RunStatus int

const (
	// RunSucceeded means every pair ran and exited 0.
	RunSucceeded RunStatus = iota + 1
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

// runStatusWords are the journal's words for RunStatus.
var runStatusWords = map[RunStatus]string{
	RunSucceeded:   "succeeded",
	RunFailed:      "failed",
	RunInterrupted: "interrupted",
	RunPartial:     "partial",
}

// MarshalText returns the journal's word for s.
func (s RunStatus) MarshalText() ([]byte, error) {
	w, ok := runStatusWords[s]
	if !ok {
		return nil, fmt.Errorf("unknown run status %d", int(s))
	}
	return []byte(w), nil
}

// UnmarshalText reads a word MarshalText wrote; an unknown word is an
// error.
func (s *RunStatus) UnmarshalText(b []byte) error {
	for st, w := range runStatusWords {
		if w == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown run status %q", b)
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
	// Aborted is set when the run, or `fanout rollback`, was aborted
	// (Ctrl-C twice): NotRolledBack is what it left.
	Aborted bool
	// Unfinished is set for a run read back from a journal with no end:
	// fanout stopped (was killed) before it finished, and Duration runs to
	// its last record, not to an end nobody saw.
	Unfinished bool
	// NotRolledBack lists "task on host" for every pair with a rollback
	// that a run aborted (Ctrl-C twice) before its rollback started, or
	// that a run which stopped (a failure, an interrupt) left because its
	// on_failure rolls nothing back (NoRollback): what `fanout rollback
	// RUN` would still undo.
	NotRolledBack []string
	// NoRollback is the run's on_failure, "stop" or "continue", when the
	// run stopped and, by it, left the pairs of NotRolledBack without
	// their rollback; empty otherwise.
	NoRollback string
	// Waves lists the waves of the tasks that ran in more than one, in the
	// order they started.
	Waves []WaveResult
	// Dropped lists the hosts dropped within a failure budget, in the
	// order they were dropped.
	Dropped []DroppedHost
	// JournalError is the first failure to write the run's journal; the
	// run stopped there. Empty when the journal was written (or none).
	JournalError string
	// JournalEnded is set when the journal records the run's end all the
	// same: the disk filled, and the journal's reserve took the rest
	// (journal_reserve.go), rollbacks included.
	JournalEnded bool
	Started      time.Time
	Duration     time.Duration
}

// OK reports whether the run succeeded.
func (r *Result) OK() bool { return r.Status == RunSucceeded }

// UndoIncomplete reports whether the run left hosts without a rollback it
// meant to run: one failed, or an abort kept some from starting (what
// on_failure "stop" or "continue" leaves by design does not count). Such
// a run needs someone to look at its hosts (exit 4).
func (r *Result) UndoIncomplete() bool {
	return len(r.RollbackFailed) > 0 || len(r.NotRolledBack) > 0 && r.NoRollback == ""
}

// RollbackFailed reports whether a rollback failed on the dropped host.
func (d DroppedHost) RollbackFailed() bool { return len(d.FailedRollbacks) > 0 }

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
	// Finished is false for a wave the run stopped before every host of
	// it had its turn.
	Finished bool
	Started  time.Time
	Duration time.Duration

	// taskFailed is set when a host failed the task in this wave rather
	// than being dropped: the task's later waves do not start.
	taskFailed bool
}

// DroppedHost is a host dropped within its wave's failure budget: rolled
// back whole, then left out of the rest of the run.
type DroppedHost struct {
	Host string
	// Task is the task that failed there, Cause how.
	Task  string
	Cause string
	// RolledBack lists the tasks whose rollback succeeded on the host, in
	// the order they ran; FailedRollbacks those whose rollback failed
	// there.
	RolledBack      []string
	FailedRollbacks []string
	// NotRolledBack lists the tasks of the host whose rollback never
	// started, and Unfinished those whose rollback started and did not
	// end: an abort, or fanout's death, cut its drop short.
	NotRolledBack []string
	Unfinished    []string
}

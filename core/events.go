package core

import (
	"fmt"
	"time"
)

// Observer receives a run's events. Apply calls Event from one goroutine,
// in order, and returns only after the last call; an implementation needs
// no locking of its own. Events are copies: an observer may keep them.
// An observer cannot steer the run, and a slow one slows the run down
// (output is not dropped).
type Observer interface {
	Event(e Event)
}

// Event is one of the event types of this file.
type Event interface {
	event()
}

// Phase tells a task's run from its rollback.
type Phase string

const (
	// PhaseRun is a task's run commands.
	PhaseRun Phase = "run"
	// PhaseRollback is a task's rollback commands.
	PhaseRollback Phase = "rollback"
)

// UnmarshalText reads a phase as the journal and the JSON output write
// it; another word is an error, never taken for the run phase.
func (p *Phase) UnmarshalText(b []byte) error {
	switch ph := Phase(b); ph {
	case PhaseRun, PhaseRollback:
		*p = ph
		return nil
	}
	return fmt.Errorf("unknown phase %q", b)
}

// Stream tells stdout from stderr.
type Stream string

const (
	// Stdout is the command's standard output.
	Stdout Stream = "stdout"
	// Stderr is the command's standard error.
	Stderr Stream = "stderr"
)

// RunStarted opens every run.
type RunStarted struct {
	RunID string
	Time  time.Time
	// Units is the number of (task, host) pairs the plan may run.
	Units int
	// Hosts is the number of hosts the plan touches.
	Hosts int
}

// HostConnected reports the outcome of connecting one host, in preflight
// or before its first command (and again before a rollback on a host
// released earlier: HostReleased).
type HostConnected struct {
	Host      string
	Transport string
	Time      time.Time
	Duration  time.Duration
	// Err is the reason the host could not be connected; empty on success.
	Err string
	// Preflight is true when the connection was made before any task.
	Preflight bool
}

// HostReleased reports that the run let go of a host's connection (the
// transport's Release, protocol 1.3) once nothing left in the run needed
// it. A rollback that needs the host later connects it again, with a new
// HostConnected.
type HostReleased struct {
	Host      string
	Transport string
	Time      time.Time
}

// UnitStarted is a task starting on one host, in either phase.
type UnitStarted struct {
	Task  string
	Host  string
	Phase Phase
	Time  time.Time
	// Unreachable is set when the host could not be connected: the
	// pair's UnitFinished, unreachable, follows at once.
	Unreachable bool
}

// Output is one or more whole lines a command wrote, each ending in "\n"
// except possibly the last chunk of a stream that did not end in one.
// Data is valid only during the Observer's Event call, as a bufio.Scanner's
// Bytes are until the next Scan: the run reuses it afterwards, so an
// observer that keeps output must copy it.
type Output struct {
	Task   string
	Host   string
	Phase  Phase
	Stream Stream
	Data   []byte
	// Partial is set when Data ends inside a line: one longer than the
	// run holds at once (64 KiB) is passed on in pieces, and the next
	// Output of the same pair and stream continues it.
	Partial bool
}

// UnitFinished is a task finishing on one host, in either phase.
type UnitFinished struct {
	Task   string
	Host   string
	Phase  Phase
	Result PhaseResult
}

// Stopping says the run will start nothing new, and why.
type Stopping struct {
	// Reason is one sentence: the first failure, or an interrupt.
	Reason string
	// Rollback is true when the rollback cascade will follow.
	Rollback bool
	Time     time.Time
}

// RollbackGoesOn says the run was interrupted (Reason) while its rollback
// cascade ran: the cascade goes on, since stopping it half-way would leave
// hosts half undone, and the run's cause and status stay those of the
// failure that started it; cancelling Apply's ctx (a second Ctrl-C)
// aborts it.
type RollbackGoesOn struct {
	Reason string
	Time   time.Time
}

// RollbackStarted is a task's rollback starting on the hosts its run
// started on.
type RollbackStarted struct {
	Task  string
	Hosts []string
	Time  time.Time
}

// RollbackFinished is a task's rollback ending on all its hosts.
type RollbackFinished struct {
	Task string
	// Failed lists the hosts where the rollback did not succeed.
	Failed []string
	Time   time.Time
}

// RunFinished closes every run; it is the last event.
type RunFinished struct {
	Result *Result
}

func (RunStarted) event()       {}
func (HostConnected) event()    {}
func (HostReleased) event()     {}
func (UnitStarted) event()      {}
func (Output) event()           {}
func (UnitFinished) event()     {}
func (Stopping) event()         {}
func (RollbackGoesOn) event()   {}
func (RollbackStarted) event()  {}
func (RollbackFinished) event() {}
func (RunFinished) event()      {}

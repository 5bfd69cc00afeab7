package core

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/fanout/fanout/sdk"
)

// runPhase is a task's run on one host: its conditions first, then its
// commands, tried again up to t.Retries times, then its check. A host a
// condition leaves out ends StatusConditionSkipped with nothing run.
func (r *run) runPhase(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host) PhaseResult {
	if res, done := r.conditions(ctx, tr, t, h); done {
		return res
	}
	// Durable before anything of the task is sent, as its start is: until
	// this record, the journal has the pair as having run nothing, and
	// `fanout rollback` after a crash leaves it alone.
	if t.hasConditions() && !r.record(&JournalRecord{Type: RecordConditionsPassed, Task: t.Name, Host: h.Name, Phase: PhaseRun}) {
		return notStarted(time.Now())
	}
	// Uploads are part of the pair, before its commands and once, whatever
	// the retries: one that fails fails the pair, and the task's rollback
	// applies (files.go).
	if res, ok := r.uploads(ctx, tr, t, h); !ok {
		return res
	}
	of := t.Retries + 1
	var res PhaseResult
	for a := 1; ; a++ {
		// The task's timeout counts per attempt: runCommands starts it anew.
		res = r.runCommands(ctx, tr, t, h, PhaseRun, t.Commands(h.Name, PhaseRun))
		res.Attempts = a
		if a == 1 && res.Command == -1 && res.Status == StatusFailed && !uploaded(t, h) {
			// sudo refused before the first command (sudoExec): like a
			// host never reached, the pair ran nothing to roll back.
			res.Attempts = 0
			break
		}
		// Another attempt is new work: once the run stops (a failure
		// elsewhere, an interrupt), none starts, and the pair ends with
		// the attempt it had in flight, which ran to its end as a
		// running command does.
		if res.Status == StatusOK || a == of || !retryable(res) || ctx.Err() != nil || r.isStopping() {
			break
		}
		r.record(&JournalRecord{Type: RecordAttempt, Task: t.Name, Host: h.Name, Attempt: a, Result: journalResult(res)})
		r.emit(AttemptFailed{Task: t.Name, Host: h.Name, Attempt: a, Of: of, Result: res, Delay: t.RetryDelay})
		// A stop during the delay ends it, and the retry with it.
		if !r.sleepInFlight(ctx, t.RetryDelay, r.ro.stopped()) || r.isStopping() {
			break
		}
	}
	if res.Status == StatusOK && t.Check != nil {
		res = r.check(ctx, tr, t, h, res)
	}
	if res.Status != StatusOK {
		return res
	}
	// Downloads come last, from a host that passed its check.
	if fres, ok := r.downloads(ctx, tr, t, h); !ok {
		fres.Attempts = res.Attempts
		return fres
	}
	return res
}

// hasConditions reports whether t has only_if or unless commands, which
// run on each host before anything else of the task.
func (t *TaskNode) hasConditions() bool { return len(t.OnlyIf) > 0 || len(t.Unless) > 0 }

// uploaded reports whether t sends files to h before its commands.
func uploaded(t *TaskNode, h *Host) bool {
	f := t.Files[h.Name]
	return f != nil && len(f.Uploads) > 0
}

// retryable reports whether another attempt may end differently: a
// command failed or timed out. An unreachable host or an interrupt is not
// retried.
func retryable(res PhaseResult) bool {
	return res.Status == StatusFailed || res.Status == StatusTimedOut
}

// conditions runs t's only_if and unless commands on h. It reports done
// with the pair's result when the task must not run there: skipped, or
// failed because a condition could not be run to an exit code.
func (r *run) conditions(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host) (PhaseResult, bool) {
	if !t.hasConditions() {
		return PhaseResult{}, false
	}
	env := r.env(t, h, PhaseRun)
	env["FANOUT_PHASE"] = "condition"
	run := func(name string, i int, cmd string) (ok bool, fail *PhaseResult) {
		res := r.exec(ctx, tr, t, h, PhaseRun, i, cmd, env, t.Timeout)
		switch {
		case res.Status == StatusOK:
			return true, nil
		case res.Status == StatusFailed && res.Signal == "" && !r.isInterrupted() && !cannotRun(res.ExitCode):
			return false, nil
		}
		// Nothing of the task ran: Command -1 keeps the rollback away.
		res.Command = -1
		res.Err = fmt.Sprintf("%s command %d: %s", name, i+1, res.Describe())
		if res.Status == StatusFailed && cannotRun(res.ExitCode) {
			// A typo in a guard must not pass for its answer: an unless
			// that cannot run would run the task everywhere.
			res.Err += map[int]string{126: ", not executable", 127: ", not found"}[res.ExitCode] + ": a condition that cannot run fails the task"
		}
		return false, &res
	}
	for i, cmd := range t.OnlyIf {
		ok, fail := run("only_if", i, cmd)
		if fail != nil {
			return *fail, true
		}
		if !ok {
			return PhaseResult{Status: StatusConditionSkipped, ExitCode: -1, Command: -1,
				Err: fmt.Sprintf("only_if command %d failed", i+1)}, true
		}
	}
	if len(t.Unless) == 0 {
		return PhaseResult{}, false
	}
	for i, cmd := range t.Unless {
		ok, fail := run("unless", i, cmd)
		if fail != nil {
			return *fail, true
		}
		if !ok {
			return PhaseResult{}, false
		}
	}
	return PhaseResult{Status: StatusConditionSkipped, ExitCode: -1, Command: -1,
		Err: "every unless command succeeded"}, true
}

// cannotRun reports whether a shell's exit code says the command never
// ran: 126, found but not executable, or 127, not found (POSIX).
func cannotRun(code int) bool { return code == 126 || code == 127 }

func (r *run) isInterrupted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.interrupted
}

// check runs t's check on h after its run succeeded (ran): an attempt every
// Interval until one exits 0 or Timeout passes. Attempts' output is kept
// to their last lines, not passed on as Output: a check failing once a
// second for a minute on a hundred hosts would drown the run's output. A
// stop elsewhere does not end a check in flight (work in flight runs to
// its end); an interrupt does.
func (r *run) check(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, ran PhaseResult) PhaseResult {
	c := t.Check
	start := time.Now()
	deadline := start.Add(c.Timeout)
	env := r.env(t, h, PhaseRun)
	env["FANOUT_PHASE"] = "check"
	var last PhaseResult
	var tail *tailWriter
	n := 0
	for {
		n++
		began := time.Now()
		tail = &tailWriter{}
		last = PhaseResult{Status: StatusOK, Command: -1}
		for i, cmd := range t.CheckCommands(h.Name) {
			remaining := time.Until(deadline)
			if remaining <= 0 {
				last = PhaseResult{Status: StatusTimedOut, ExitCode: -1, Command: i}
				break
			}
			last = r.execTo(ctx, tr, t, h, PhaseRun, i, cmd, env, remaining, sdk.ExecOutput{Stdout: tail, Stderr: tail})
			if last.Status != StatusOK {
				break
			}
		}
		last.Started, last.Duration = began, time.Since(began)
		// Stamped when the attempt ended, as every event is; its result
		// says when it began.
		r.emit(CheckAttempt{Task: t.Name, Host: h.Name, Attempt: n, Result: last, Last: tail.last(), Time: time.Now()})
		if last.Status == StatusOK {
			ran.CheckAttempts = n
			return ran
		}
		// An attempt that ran into the deadline is the last: another
		// would be one of no time, its output none.
		if last.Status == StatusInterrupted || ctx.Err() != nil || !time.Now().Before(deadline) {
			break
		}
		next := began.Add(c.Interval)
		if !next.Before(deadline) || !r.sleepInFlight(ctx, time.Until(next), nil) {
			break
		}
	}
	res := PhaseResult{Status: StatusCheckFailed, ExitCode: last.ExitCode, Signal: last.Signal, Command: -1,
		Attempts: ran.Attempts, CheckAttempts: n, CheckTail: tail.lines()}
	switch {
	case last.Status == StatusInterrupted || ctx.Err() != nil || r.isInterrupted():
		res.Status, res.ExitCode, res.Err = StatusInterrupted, -1, fmt.Sprintf("during check attempt %d", n)
	default:
		res.Err = fmt.Sprintf("%s after %s, the last %s", plural(n, "attempt"),
			time.Since(start).Round(time.Millisecond), last.Describe())
	}
	return res
}

// sleepInFlight waits d before a retry or a check's next attempt, and
// reports whether it did: an interrupt, cancellation or the close of stop
// (nil for none) ends the wait.
func (r *run) sleepInFlight(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.ro.interrupted():
	case <-stop:
	case <-ctx.Done():
	}
	return false
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// checkTailLines and checkTailWidth bound what a check attempt's output
// keeps: enough to see why it failed.
const (
	checkTailLines = 5
	checkTailWidth = 240
)

// tailWriter keeps the last lines written to it, both streams of one
// command together. The transport may write the two streams from two
// goroutines.
type tailWriter struct {
	mu sync.Mutex
	// guarded by mu
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	// Keep a bounded window: the last lines fit in it.
	if limit := 4 * checkTailLines * checkTailWidth; len(w.buf) > 2*limit {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-limit:]...)
	}
	return len(p), nil
}

// lines returns the last non-empty lines written, oldest first, each cut
// to checkTailWidth.
func (w *tailWriter) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, l := range bytes.Split(w.buf, []byte("\n")) {
		s := strings.TrimRight(string(l), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		if len(s) > checkTailWidth {
			s = s[:checkTailWidth] + "…"
		}
		out = append(out, s)
	}
	if len(out) > checkTailLines {
		out = out[len(out)-checkTailLines:]
	}
	return out
}

// last returns the last non-empty line written, or "".
func (w *tailWriter) last() string {
	if l := w.lines(); len(l) > 0 {
		return l[len(l)-1]
	}
	return ""
}

package core

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
)

// maxJournalLine bounds one journal line when reading: a header holds the
// whole plan, so it may be large, but not without limit.
const maxJournalLine = 64 << 20

// Recovery is a run as its journal records it: enough to show it, and to
// roll back what it started after fanout died mid-run (`fanout rollback`).
// It is not safe for concurrent use: it keeps what it rebuilt from the
// journal the first time it is asked.
type Recovery struct {
	// Path is the journal's file.
	Path   string
	Header *JournalHeader
	// Records are the journal's records after the header, in order.
	Records []*JournalRecord
	// Truncated is true when the last line was cut short, as a crash in
	// the middle of a write leaves it; that line is ignored.
	Truncated bool

	// rebuilt and rebuildErr keep what shown built, until RollbackJournal
	// uses it.
	rebuilt    *recovered
	rebuildErr error
}

// ReadJournal reads and checks a journal. A last line cut short is
// ignored (Truncated); any other malformed line is an error.
func ReadJournal(path string) (*Recovery, error) {
	// A FIFO would hold the open for ever, a device give no end.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read the journal: %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	return readJournal(f, path)
}

// readJournal reads a journal from r; path names it in errors.
func readJournal(r io.Reader, path string) (*Recovery, error) {
	rc := &Recovery{Path: path}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxJournalLine)
	var bad error
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if bad != nil {
			// A bad line followed by more lines is not a torn write.
			return nil, bad
		}
		var rec JournalRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			var syntax *json.SyntaxError
			if !errors.As(err, &syntax) {
				// Whole JSON with a value this fanout does not know (a
				// status, a kind): not a torn write, and never a guess.
				return nil, fmt.Errorf("journal %s line %d: %w", path, n, err)
			}
			bad = fmt.Errorf("journal %s line %d: %w", path, n, err)
			continue
		}
		if n == 1 || rc.Header == nil {
			if rec.Type != RecordHeader || rec.Header == nil {
				return nil, fmt.Errorf("journal %s: line %d is not a header: not a fanout journal", path, n)
			}
			if rec.Header.Version != journalVersion {
				return nil, fmt.Errorf("journal %s: format version %d; this fanout reads version %d", path, rec.Header.Version, journalVersion)
			}
			if rec.Header.Plan == nil {
				return nil, fmt.Errorf("journal %s: the header holds no plan", path)
			}
			rc.Header = rec.Header
			continue
		}
		rc.Records = append(rc.Records, &rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the journal %s: %w", path, err)
	}
	if rc.Header == nil {
		if bad != nil {
			return nil, bad
		}
		return nil, fmt.Errorf("journal %s is empty", path)
	}
	rc.Truncated = bad != nil
	return rc, nil
}

// Finished reports how the apply ended, and whether it recorded its end
// at all: false when fanout stopped before it could.
func (rc *Recovery) Finished() (RunStatus, bool) {
	for _, r := range rc.Records {
		if r.Type == RecordRunFinished {
			return r.Status, true
		}
	}
	return 0, false
}

// Status is the run's state in one word or a few: the apply's status,
// "failed, rollback incomplete" (or "interrupted, ...") when it left
// hosts without a rollback it meant to run (a rollback failed, or an
// abort kept some from starting: exit 4), "unfinished" when fanout
// stopped without recording its end, then what the last `fanout rollback`
// of it did ("rolled back", "rollback failed").
func (rc *Recovery) Status() string {
	// A later `fanout rollback`'s records say last how it stands.
	s := ""
	for _, r := range rc.Records {
		switch r.Type {
		case RecordRecoveryStarted:
			s = "rollback unfinished"
		case RecordRecoveryFinished:
			s = "rolled back"
			if r.Status != RunSucceeded {
				s = "rollback " + r.Status.String()
			}
		}
	}
	if s != "" {
		return s
	}
	st, ok := rc.Finished()
	if !ok {
		return "unfinished"
	}
	s = st.String()
	// Rebuilt (Result) only when its records leave it in doubt.
	if rc.mayBeIncomplete() {
		if res, err := rc.Result(); err == nil && res.UndoIncomplete() {
			s += ", rollback incomplete"
		}
	}
	return s
}

// mayBeIncomplete reports, from the records alone, whether the run may
// have left its undo incomplete: a rollback did not succeed, or the run
// was aborted. Only then is the run rebuilt to tell (Result): listing
// many runs need not rebuild them all.
func (rc *Recovery) mayBeIncomplete() bool {
	for _, r := range rc.Records {
		switch {
		case r.Type == RecordUnitFinished && r.Phase == PhaseRollback && r.Result != nil && r.Result.Status != StatusOK:
			return true
		case r.Type == RecordRunFinished && r.Status == RunInterrupted && strings.HasSuffix(r.Reason, "aborted"):
			return true
		}
	}
	return false
}

// Missing lists the secrets the journal's plan needs that secrets does not
// give, by name.
func (rc *Recovery) Missing(secrets []Secret) []string {
	have := map[string]bool{}
	for _, s := range secrets {
		have[s.Name] = true
	}
	var out []string
	for _, n := range rc.Header.Sensitive {
		if !have[n] {
			out = append(out, n)
		}
	}
	return out
}

// recovered is the scheduler's state rebuilt from a journal.
type recovered struct {
	plan    *Plan
	ix      *planIndex
	root    *undoFrame
	first   *TaskNode
	units   map[unitKey]*UnitResult
	started map[*TaskNode][]*Host
	ordered []*UnitResult
	res     *Result
}

// shown returns the run rebuilt without secrets, placeholders kept: what
// showing it and planning its rollback need. It is built once and kept
// until RollbackJournal uses it.
func (rc *Recovery) shown() (*recovered, error) {
	if rc.rebuilt == nil && rc.rebuildErr == nil {
		rc.rebuilt, rc.rebuildErr = rc.rebuild()
	}
	return rc.rebuilt, rc.rebuildErr
}

// stoppedUnfinished is what the cause of a run read back from a journal
// with no final record says: fanout stopped (was killed, lost its
// machine) before the run finished.
const stoppedUnfinished = "fanout stopped before the run finished"

// rebuild turns the journal back into a plan and the state of its run,
// secrets left as their placeholders.
func (rc *Recovery) rebuild() (*recovered, error) {
	plan, ix, err := rc.Header.Plan.plan(secretFiller(nil))
	if err != nil {
		return nil, err
	}
	rv := &recovered{
		plan:    plan,
		ix:      ix,
		root:    &undoFrame{},
		units:   map[unitKey]*UnitResult{},
		started: map[*TaskNode][]*Host{},
	}
	plan.Walk(func(t *TaskNode) {
		for _, h := range t.Hosts {
			u := &UnitResult{Task: t.Name, Host: h.Name, Run: PhaseResult{Status: StatusSkipped, Command: -1}}
			rv.units[unitKey{t, h.Name}] = u
			rv.ordered = append(rv.ordered, u)
		}
	})
	rp := &replay{rv: rv, res: &Result{RunID: rc.Header.RunID, Started: rc.Header.Started},
		frames: map[string]*undoFrame{"": rv.root}, pushed: map[string]bool{}, startedAt: map[unitKey]time.Time{}, runStarted: map[unitKey]bool{}}
	for _, rec := range rc.Records {
		if err := rp.apply(rec); err != nil {
			return nil, err
		}
	}
	rp.pushUnfinished()
	rv.res = rp.result(rc.Header.Started)
	// A partial run rolled back the hosts it dropped, and the others
	// succeeded: nothing is left to roll back.
	switch {
	case rv.plan.OnFailure == config.OnFailureRollback && rv.res.Status != RunSucceeded && rv.res.Status != RunPartial:
		rv.res.NotRolledBack = rv.notRolledBack()
	case rp.stopped && !rv.res.Unfinished && (rv.res.Status == RunFailed || rv.res.Status == RunInterrupted):
		// Stopped where on_failure rolls nothing back, as the live
		// recap said.
		rv.res.NotRolledBack = rv.notRolledBack()
		if len(rv.res.NotRolledBack) > 0 {
			rv.res.NoRollback = string(rv.plan.OnFailure)
		}
	}
	droppedOutcome(rv.res) // recover_rollout.go
	return rv, nil
}

// notRolledBack lists "task on host" for the pairs `fanout rollback` would
// roll back that never started theirs: what an abort, a crash or a
// rollback cut short left, as the live recap names them. Failed
// rollbacks are RollbackFailed's.
func (rv *recovered) notRolledBack() []string {
	var out []string
	for _, s := range rv.rollbackSteps() {
		if len(s.task.Rollback) == 0 {
			continue
		}
		for _, h := range s.hosts {
			if u := rv.units[unitKey{s.task, h.Name}]; u != nil && u.Rollback == nil {
				out = append(out, s.task.Name+" on "+h.Name)
			}
		}
	}
	return out
}

// replay is the state of reading a journal's records in order, as the
// live run changed its own.
type replay struct {
	rv  *recovered
	res *Result
	// frames are the undo frames by tree path (pathKey), "" the roots';
	// pushed the paths already on their parent's frame.
	frames map[string]*undoFrame
	pushed map[string]bool
	// startedAt is when each pair's run or rollback started; runStarted
	// the pairs whose run started, which rv.started lists in order (a set,
	// so that replaying a task of N hosts costs N, not N²).
	startedAt  map[unitKey]time.Time
	runStarted map[unitKey]bool
	// startOrder lists the tasks in the order they first started.
	startOrder []*TaskNode
	last       time.Time
	ended      time.Time // the run_finished record's, if any
	runLast    time.Time // the last record's before a `fanout rollback`'s
	status     RunStatus
	stopped    bool // the run recorded a stopping record
}

// apply takes one record into the rebuilt state.
func (rp *replay) apply(rec *JournalRecord) error {
	if rec.Type == RecordRecoveryStarted && rp.runLast.IsZero() {
		rp.runLast = rp.last
	}
	rp.last = rec.Time
	t := rp.rv.ix.tasks[rec.Task]
	var u *UnitResult
	if t != nil {
		u = rp.rv.units[unitKey{t, rec.Host}]
	}
	res := rp.res
	rolloutRecord(res, rec) // recover_rollout.go
	switch rec.Type {
	case RecordHostError:
		res.Preflight = append(res.Preflight, HostError{Host: rec.Host, Err: rec.Reason})
	case RecordUnitStarted:
		if u == nil {
			return fmt.Errorf("journal: task %q on host %q is not in the plan", rec.Task, rec.Host)
		}
		rp.unitStarted(t, u, rec)
	case RecordUnitFinished:
		if u == nil || rec.Result == nil {
			return fmt.Errorf("journal: task %q on host %q is not in the plan", rec.Task, rec.Host)
		}
		pr := rec.Result.phaseResult(rp.startedAt[unitKey{t, rec.Host}])
		if rec.Phase == PhaseRollback {
			u.Rollback = &pr
			pair := t.Name + " on " + rec.Host
			if pr.Status != StatusOK {
				if !slices.Contains(res.RollbackFailed, pair) {
					res.RollbackFailed = append(res.RollbackFailed, pair)
				}
			} else {
				// A later `fanout rollback` did what had failed.
				res.RollbackFailed = slices.DeleteFunc(res.RollbackFailed, func(p string) bool { return p == pair })
			}
			return nil
		}
		u.Run = pr
	case RecordConditionsPassed:
		// The task itself may run from here on.
		if u != nil && u.Run.Err == errConditionsUnended {
			u.Run.Command, u.Run.Err = 0, errNoEndRecorded
		}
	case RecordCompleted:
		rp.completed(rec.Path)
	case RecordStopping:
		rp.stopped = true
		if res.Cause == "" {
			res.Cause = rec.Reason
		}
		if t != nil && rp.rv.first == nil {
			rp.rv.first = t
			res.FirstFailure = u
		}
	case RecordRollbackStarted:
		if !slices.Contains(res.RolledBack, rec.Task) {
			res.RolledBack = append(res.RolledBack, rec.Task)
		}
	case RecordRunFinished:
		rp.status = rec.Status
		rp.ended = rec.Time
		// The journal keeps the cause's words, which say an abort.
		res.Aborted = rec.Status == RunInterrupted && strings.HasSuffix(rec.Reason, "aborted")
		if rec.Reason != "" {
			res.Cause = rec.Reason
		}
	}
	return nil
}

// errNoEndRecorded is the error of a phase the journal saw start and not
// end; errConditionsUnended that of a run phase whose only_if or unless
// had not let it run yet.
const (
	errNoEndRecorded     = "no record of its end: fanout stopped while it ran"
	errConditionsUnended = "no record of its end: fanout stopped while its conditions ran"
)

// unitStarted marks a pair as started, in either phase.
func (rp *replay) unitStarted(t *TaskNode, u *UnitResult, rec *JournalRecord) {
	rp.startedAt[unitKey{t, rec.Host}] = rec.Time
	// Until its end is recorded the pair may have run any part of its
	// commands: Command 0 keeps it in the rollback.
	unknown := PhaseResult{Status: StatusInterrupted, ExitCode: -1, Command: 0, Started: rec.Time,
		Err: errNoEndRecorded}
	if rec.Phase == PhaseRollback {
		u.Rollback = &unknown
		return
	}
	if rec.Conditions {
		// Its only_if or unless ran first: until conditions_passed,
		// nothing of the task did (Command -1 keeps it out of the
		// rollback).
		unknown.Command, unknown.Err = -1, errConditionsUnended
	}
	u.Run = unknown
	rv := rp.rv
	if k := (unitKey{t, rec.Host}); !rp.runStarted[k] {
		rp.runStarted[k] = true
		rv.started[t] = append(rv.started[t], rv.ix.hosts[rec.Host])
	}
	if !slices.Contains(rp.startOrder, t) {
		rp.startOrder = append(rp.startOrder, t)
	}
}

// frame returns the undo frame of the node at key, made on first use.
func (rp *replay) frame(key string) *undoFrame {
	f := rp.frames[key]
	if f == nil {
		f = &undoFrame{}
		rp.frames[key] = f
	}
	return f
}

// completed pushes the task or group at path on its parent's frame, as
// the live run did when it finished; a path seen before is ignored.
func (rp *replay) completed(path []int) {
	if len(path) == 0 {
		return
	}
	k := pathKey(path)
	n := rp.rv.ix.nodes[k]
	if n == nil || rp.pushed[k] {
		return
	}
	rp.pushed[k] = true
	parent := rp.frame(parentKey(k))
	switch n := n.(type) {
	case *TaskNode:
		parent.push(undoEntry{task: n}, nil)
	case *Group:
		parent.push(undoEntry{frame: rp.frame(k)}, nil)
	}
}

// pushUnfinished puts what ran when fanout died, and so never reached its
// frame, where the live run would have: the tasks that started but did not
// complete on top of their frames, in the order they started, then each
// unfinished group on top of its parent's, innermost first.
func (rp *replay) pushUnfinished() {
	for _, t := range rp.startOrder {
		p := rp.rv.ix.taskPath[t]
		if k := pathKey(p); !rp.pushed[k] {
			rp.pushed[k] = true
			rp.frame(parentKey(k)).push(undoEntry{task: t}, nil)
		}
	}
	depth := 0
	for k := range rp.frames {
		depth = max(depth, keyDepth(k))
	}
	for ; depth >= 1; depth-- {
		var keys []string
		for k, f := range rp.frames {
			if keyDepth(k) == depth && !rp.pushed[k] && f.len() > 0 {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			rp.pushed[k] = true
			rp.frame(parentKey(k)).push(undoEntry{frame: rp.frames[k]}, nil)
		}
	}
}

// result is the run's record as its recap showed it, or would have: a
// journal without a final record is a run fanout did not live to finish.
func (rp *replay) result(started time.Time) *Result {
	res := rp.res
	res.Status = rp.status
	if res.Status == 0 {
		res.Status, res.Unfinished = RunInterrupted, true
		if res.Cause == "" {
			res.Cause = stoppedUnfinished + ": the journal has no final record"
		} else {
			res.Cause += "; then " + stoppedUnfinished
		}
	}
	// The run's own length: a `fanout rollback` later in the journal
	// is not part of it.
	switch {
	case !rp.ended.IsZero():
		res.Duration = rp.ended.Sub(started)
	case !rp.runLast.IsZero():
		res.Duration = rp.runLast.Sub(started)
	case !rp.last.IsZero():
		res.Duration = rp.last.Sub(started)
	}
	res.Units, res.FirstFailure = copyUnits(rp.rv.ordered, res.FirstFailure)
	return res
}

// Result rebuilds the run's record from the journal, as the recap of the
// run showed it (or would have, had fanout lived to its end).
func (rc *Recovery) Result() (*Result, error) {
	rv, err := rc.shown()
	if err != nil {
		return nil, err
	}
	return rv.res, nil
}

// Plan returns the plan the journal recorded, secrets left as their
// placeholders: the plan Result and RollbackSteps read, built once.
func (rc *Recovery) Plan() (*Plan, error) {
	rv, err := rc.shown()
	if err != nil {
		return nil, err
	}
	return rv.plan, nil
}

// RollbackStep is one task of what `fanout rollback` would do, in order.
type RollbackStep struct {
	Task string
	// Commands are the task's rollback commands; none means the task has
	// no rollback and is skipped.
	Commands []string
	// Hosts are the hosts it would roll back on.
	Hosts []string
	// Done are the hosts skipped because they were rolled back already.
	Done []string
	// MaxHosts caps how many hosts roll back at once.
	MaxHosts int
	// ByHost, when the commands differ between the hosts (they refer to
	// target), holds them by the set of hosts that get the same, in host
	// order; Commands are then the task's own, before target.
	ByHost []HostCommands
}

// HostCommands are the commands some hosts get.
type HostCommands struct {
	Hosts    []string
	Commands []string
}

// RollbackSteps is what a rollback of the journal's run would do: the
// failed task first, then every task that started, newest first, inner
// groups whole. Commands keep their secrets' placeholders.
func (rc *Recovery) RollbackSteps() ([]RollbackStep, error) {
	rv, err := rc.shown()
	if err != nil {
		return nil, err
	}
	var out []RollbackStep
	for _, s := range rv.rollbackSteps() {
		st := RollbackStep{Task: s.task.Name, Commands: s.task.Rollback, MaxHosts: s.task.MaxHosts}
		for _, h := range s.hosts {
			st.Hosts = append(st.Hosts, h.Name)
			cmds := s.task.Commands(h.Name, PhaseRollback)
			i := slices.IndexFunc(st.ByHost, func(g HostCommands) bool { return slices.Equal(g.Commands, cmds) })
			if i < 0 {
				st.ByHost = append(st.ByHost, HostCommands{Commands: cmds})
				i = len(st.ByHost) - 1
			}
			st.ByHost[i].Hosts = append(st.ByHost[i].Hosts, h.Name)
		}
		if len(st.ByHost) < 2 {
			if len(st.ByHost) == 1 {
				st.Commands = st.ByHost[0].Commands
			}
			st.ByHost = nil
		}
		for _, h := range s.done {
			st.Done = append(st.Done, h.Name)
		}
		out = append(out, st)
	}
	return out, nil
}

// rollbackSteps is what a rollback of the journal's run would do now,
// step by step (run.rollbackSteps on the journal's state).
func (rv *recovered) rollbackSteps() []rollbackStep {
	return rv.newRun(context.Background(), ApplyOptions{}).rollbackSteps(rv.root)
}

// newRun returns a run of the rebuilt plan holding the journal's state.
func (rv *recovered) newRun(ctx context.Context, opts ApplyOptions) *run {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	r := newRun(ctx, rv.plan, opts)
	r.units = rv.units
	r.started = rv.started
	r.firstTask = rv.first
	return r
}

// errMissingSecrets is returned by RollbackJournal when the journal's
// commands need secrets that were not given.
var errMissingSecrets = errors.New("the journal's plan needs sensitive values that were not given")

// RollbackJournal runs the rollback cascade of a journal's run, as a live
// run would have had it finished: the first failed task first, then every
// task that started, newest first, inner groups whole, each on the hosts
// its run started on; pairs whose rollback succeeded before (a live
// rollback, or an earlier RollbackJournal) are skipped. It appends what it
// does to opts.Journal (the same journal, reopened). opts.Transports must
// have been prepared with ConfigureFromJournal. Secrets fill the
// placeholders of the journal; a missing one is an error and nothing
// runs.
//
// It runs the plan that Plan returns, rebuilt once: the secrets are filled
// into its commands, addresses and host settings, in place, for the
// rollback. rc then forgets that plan and state, which the rollback
// changed and which hold the secrets; asked again, rc rebuilds them from
// the journal as it was read.
func RollbackJournal(ctx context.Context, rc *Recovery, secrets []Secret, opts ApplyOptions) (*Result, error) {
	if missing := rc.Missing(secrets); len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", errMissingSecrets, strings.Join(missing, ", "))
	}
	// Showing the run needed this state before the secrets were known
	// (a dry run, or a rollback refused for lack of them, shows it all
	// the same); only its strings change for running. Replaying the
	// journal again would give the same tree and state.
	rv, err := rc.shown()
	if err != nil {
		return nil, err
	}
	defer func() { rc.rebuilt, rc.rebuildErr = nil, nil }()
	if err := rc.Header.Plan.fill(rv.plan, rv.ix, secretFiller(secrets)); err != nil {
		return nil, err
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = 5 * time.Second
	}
	if rc.Header.Plan != nil && rc.Header.Plan.SudoPassword != "" && opts.SudoPassword == "" {
		name := rc.Header.Plan.SudoPassword
		for _, sec := range secrets {
			if sec.Name == name {
				opts.SudoPassword = sec.Value
			}
		}
	}
	opts.RunID = rc.Header.RunID
	// Every rollback is started under the run's ctx; the journal already
	// says the run stops, so nothing of the run phase starts.
	r := rv.newRun(ctx, opts)
	r.stopping = true
	start := time.Now()
	go r.dispatch()
	r.emit(RunStarted{RunID: opts.RunID, Time: start, Units: len(rv.ordered), Hosts: len(rv.plan.Hosts)})
	if !r.record(&JournalRecord{Type: RecordRecoveryStarted, RunID: opts.RunID}) {
		// Unlike a run, a rollback goes on: undoing what the run
		// started matters more than recording that it did.
		r.logger.Warn("the rollback goes on unrecorded")
	}
	r.rollback(rv.root)
	r.cancelExec()

	res := r.recoveryResult(rv, start)
	r.recordEnd(res, &JournalRecord{Type: RecordRecoveryFinished, Status: res.Status, Reason: res.Cause})
	r.emit(RunFinished{Result: res})
	close(r.events)
	<-r.dispatched
	return res, nil
}

// recoveryResult is what a RollbackJournal did: the run's units with the
// rollbacks as they stand now, and the cause of the run it rolled back
// unless the rollback itself was interrupted or failed.
func (r *run) recoveryResult(rv *recovered, start time.Time) *Result {
	r.mu.Lock()
	res := &Result{
		RunID:          r.opts.RunID,
		Cause:          rv.res.Cause,
		RolledBack:     r.rolledBack,
		RollbackFailed: r.rbFailed,
		JournalError:   errString(r.journalErr),
		Started:        start,
		Duration:       time.Since(start),
		Status:         RunSucceeded,
	}
	res.Units, _ = copyUnits(rv.ordered, nil)
	// The run's first failure, as the journal told it, not a copy of it.
	res.FirstFailure = rv.res.FirstFailure
	r.mu.Unlock()
	switch {
	case r.ctx.Err() != nil:
		// Only an abort ends it (Ctrl-C twice): the first lets it go on.
		res.Status, res.Cause, res.Aborted = RunInterrupted, "the rollback was aborted", true
		res.NotRolledBack = rv.notRolledBack()
	case len(res.RollbackFailed) > 0:
		res.Status = RunFailed
		res.Cause = fmt.Sprintf("%d rollbacks failed", len(res.RollbackFailed))
	}
	return res
}

// ConfigureFromJournal starts and configures the transports a journal's
// plan uses with the settings recorded there (secrets filled in), so that
// a rollback reaches the hosts as the run did, whatever the configuration
// says now. A plugin pinned by sha256 must still match it. A plugin that
// JournalSecrets started is configured, not started again.
func (ts *Transports) ConfigureFromJournal(ctx context.Context, rc *Recovery, secrets []Secret) error {
	fill := secretFiller(secrets)
	ts.pinJournal(rc)
	for _, jt := range rc.Header.Plan.Transports {
		t, _, err := ts.get(ctx, jt.Name)
		if err != nil {
			return fmt.Errorf("transport %s: %w", jt.Name, err)
		}
		settings := cty.EmptyObjectVal
		if len(jt.Settings) > 0 {
			if settings, err = unmarshalCty(jt.Settings, fill); err != nil {
				return fmt.Errorf("transport %s: journaled settings: %w", jt.Name, err)
			}
		}
		resp, err := bounded(ctx, configureLimit, jt.Name, "Configure", func(ctx context.Context) (*sdk.ConfigureResponse, error) {
			return t.Configure(ctx, &sdk.ConfigureRequest{Config: settings, RunID: rc.Header.RunID})
		})
		if err != nil {
			return fmt.Errorf("transport %s: configure: %w", jt.Name, err)
		}
		if resp.Diagnostics.HasErrors() {
			return fmt.Errorf("transport %s rejected its journaled settings: %s", jt.Name, resp.Diagnostics.Err())
		}
	}
	return nil
}

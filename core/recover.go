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
	"strconv"
	"strings"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// maxJournalLine bounds one journal line when reading: a header holds the
// whole plan, so it may be large, but not without limit.
const maxJournalLine = 64 << 20

// Recovery is a run as its journal records it: enough to show it, and to
// roll back what it started after fanout died mid-run (`fanout rollback`).
type Recovery struct {
	// Path is the journal's file.
	Path   string
	Header *JournalHeader
	// Records are the journal's records after the header, in order.
	Records []*JournalRecord
	// Truncated is true when the last line was cut short, as a crash in
	// the middle of a write leaves it; that line is ignored.
	Truncated bool
}

// ReadJournal reads and checks a journal. A last line cut short is
// ignored (Truncated); any other malformed line is an error.
func ReadJournal(path string) (*Recovery, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the journal: %w", err)
	}
	defer f.Close()
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
			bad = fmt.Errorf("journal %s line %d: %w", path, n, err)
			continue
		}
		if n == 1 || rc.Header == nil {
			if rec.Type != RecordHeader || rec.Header == nil {
				return nil, fmt.Errorf("journal %s: line %d is not a header: not a fanout journal", path, n)
			}
			if rec.Header.Version != JournalVersion {
				return nil, fmt.Errorf("journal %s: format version %d; this fanout reads version %d", path, rec.Header.Version, JournalVersion)
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

// Finished reports whether the apply recorded its end, and how it ended
// ("succeeded", "failed", "interrupted").
func (rc *Recovery) Finished() (bool, string) {
	for _, r := range rc.Records {
		if r.Type == RecordRunFinished {
			return true, r.Status
		}
	}
	return false, ""
}

// Status is the run's state in one word or two: the apply's status,
// "unfinished" when fanout stopped without recording its end, then what
// the last `fanout rollback` of it did ("rolled back", "rollback failed").
func (rc *Recovery) Status() string {
	s := "unfinished"
	if ok, st := rc.Finished(); ok {
		s = st
	}
	for _, r := range rc.Records {
		switch r.Type {
		case RecordRecoveryStarted:
			s = "rollback unfinished"
		case RecordRecoveryFinished:
			s = "rolled back"
			if r.Status != RunSucceeded.String() {
				s = "rollback " + r.Status
			}
		}
	}
	return s
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
	tasks   map[string]*TaskNode
	root    *undoFrame
	first   *TaskNode
	units   map[unitKey]*UnitResult
	started map[*TaskNode][]*Host
	ordered []*UnitResult
	res     *Result
}

// rebuild turns the journal back into a plan and the state of its run. The
// secrets replace their placeholders; missing ones stay as placeholders,
// which is fine for showing and must be refused for running.
func (rc *Recovery) rebuild(secrets []Secret) (*recovered, error) {
	fill := func(s string) string { return s }
	if len(secrets) > 0 {
		var pairs []string
		for _, s := range secrets {
			pairs = append(pairs, placeholder(s.Name), s.Value)
		}
		rep := strings.NewReplacer(pairs...)
		fill = rep.Replace
	}
	jp := rc.Header.Plan
	rv := &recovered{
		plan:    &Plan{OnFailure: config.OnFailure(jp.OnFailure)},
		tasks:   map[string]*TaskNode{},
		root:    &undoFrame{},
		units:   map[unitKey]*UnitResult{},
		started: map[*TaskNode][]*Host{},
	}
	hosts := map[string]*Host{}
	for _, jh := range jp.Hosts {
		h := &Host{Name: jh.Name, Address: fill(jh.Address), Roles: jh.Roles, Transport: jh.Transport, Config: cty.NullVal(cty.DynamicPseudoType)}
		if len(jh.Config) > 0 {
			v, err := unmarshalCty(jh.Config, fill)
			if err != nil {
				return nil, fmt.Errorf("journal host %s: %w", jh.Name, err)
			}
			h.Config = v
		}
		hosts[h.Name] = h
		rv.plan.Hosts = append(rv.plan.Hosts, h)
	}
	for _, jt := range jp.Tasks {
		t := &TaskNode{Name: jt.Name, Timeout: time.Duration(jt.TimeoutMS) * time.Millisecond, MaxHosts: max(jt.MaxHosts, 1),
			Run: mapStrings(jt.Run, fill), Rollback: mapStrings(jt.Rollback, fill), Env: mapValues(jt.Env, fill)}
		for _, hn := range jt.Hosts {
			h := hosts[hn]
			if h == nil {
				return nil, fmt.Errorf("journal task %s: unknown host %q", jt.Name, hn)
			}
			t.Hosts = append(t.Hosts, h)
		}
		rv.tasks[t.Name] = t
	}
	// paths maps each node's tree path to the node, for completed records.
	paths := map[string]Node{}
	taskPath := map[*TaskNode][]int{}
	var node func(jn *JournalNode, path []int) (Node, error)
	node = func(jn *JournalNode, path []int) (Node, error) {
		if jn.Task != "" {
			t := rv.tasks[jn.Task]
			if t == nil {
				return nil, fmt.Errorf("journal plan: unknown task %q", jn.Task)
			}
			paths[pathKey(path)] = t
			if _, ok := taskPath[t]; !ok {
				taskPath[t] = path
			}
			return t, nil
		}
		g := &Group{Name: jn.Group, Threads: max(jn.Threads, 1)}
		if g.Name == "parallelize" {
			g.Name = ""
		}
		paths[pathKey(path)] = g
		for i, m := range jn.Members {
			n, err := node(m, append(slices.Clip(path), i))
			if err != nil {
				return nil, err
			}
			g.Members = append(g.Members, n)
		}
		return g, nil
	}
	for i, jn := range jp.Roots {
		n, err := node(jn, []int{i})
		if err != nil {
			return nil, err
		}
		rv.plan.Roots = append(rv.plan.Roots, n)
	}
	for _, jt := range jp.Transports {
		tp := &TransportPlan{Name: jt.Name}
		for _, h := range rv.plan.Hosts {
			if h.Transport == jt.Name {
				tp.Hosts++
			}
		}
		rv.plan.Transports = append(rv.plan.Transports, tp)
	}
	rv.plan.Walk(func(t *TaskNode) {
		for _, h := range t.Hosts {
			u := &UnitResult{Task: t.Name, Host: h.Name, Run: PhaseResult{Status: StatusSkipped, Command: -1}}
			rv.units[unitKey{t, h.Name}] = u
			rv.ordered = append(rv.ordered, u)
		}
	})

	res := &Result{RunID: rc.Header.RunID, Started: rc.Header.Started}
	frames := map[string]*undoFrame{"": rv.root}
	frame := func(k string) *undoFrame {
		f := frames[k]
		if f == nil {
			f = &undoFrame{}
			frames[k] = f
		}
		return f
	}
	pushed := map[string]bool{}
	startedAt := map[unitKey]time.Time{}
	var startOrder []*TaskNode
	var last time.Time
	status := ""
	for _, rec := range rc.Records {
		last = rec.Time
		t := rv.tasks[rec.Task]
		var u *UnitResult
		if t != nil {
			u = rv.units[unitKey{t, rec.Host}]
		}
		switch rec.Type {
		case RecordHostError:
			res.Preflight = append(res.Preflight, HostError{Host: rec.Host, Err: rec.Reason})
		case RecordUnitStarted:
			if u == nil {
				return nil, fmt.Errorf("journal: task %q on host %q is not in the plan", rec.Task, rec.Host)
			}
			startedAt[unitKey{t, rec.Host}] = rec.Time
			// Until its end is recorded the pair may have run any part of
			// its commands: Command 0 keeps it in the rollback.
			unknown := PhaseResult{Status: StatusInterrupted, ExitCode: -1, Command: 0, Started: rec.Time,
				Err: "no record of its end: fanout stopped while it ran"}
			if rec.Phase == PhaseRollback {
				u.Rollback = &unknown
				continue
			}
			u.Run = unknown
			if !slices.ContainsFunc(rv.started[t], func(h *Host) bool { return h.Name == rec.Host }) {
				rv.started[t] = append(rv.started[t], hosts[rec.Host])
			}
			if !slices.Contains(startOrder, t) {
				startOrder = append(startOrder, t)
			}
		case RecordUnitFinished:
			if u == nil || rec.Result == nil {
				return nil, fmt.Errorf("journal: task %q on host %q is not in the plan", rec.Task, rec.Host)
			}
			pr := rec.Result.phaseResult(startedAt[unitKey{t, rec.Host}])
			if rec.Phase == PhaseRollback {
				u.Rollback = &pr
				if pr.Status != StatusOK {
					res.RollbackFailed = append(res.RollbackFailed, t.Name+" on "+rec.Host)
				}
				continue
			}
			u.Run = pr
		case RecordCompleted:
			if len(rec.Path) == 0 {
				continue
			}
			k := pathKey(rec.Path)
			n := paths[k]
			if n == nil || pushed[k] {
				continue
			}
			pushed[k] = true
			parent := frame(pathKey(rec.Path[:len(rec.Path)-1]))
			switch n := n.(type) {
			case *TaskNode:
				parent.push(undoEntry{task: n}, nil)
			case *Group:
				parent.push(undoEntry{frame: frame(k)}, nil)
			}
		case RecordStopping:
			if res.Cause == "" {
				res.Cause = rec.Reason
			}
			if t != nil && rv.first == nil {
				rv.first = t
				res.FirstFailure = u
			}
		case RecordRollbackStarted:
			if !slices.Contains(res.RolledBack, rec.Task) {
				res.RolledBack = append(res.RolledBack, rec.Task)
			}
		case RecordRunFinished:
			status = rec.Status
			if rec.Reason != "" {
				res.Cause = rec.Reason
			}
		}
	}
	// What ran when fanout died never reached its frame: the tasks that
	// started but did not complete go on top of their frames, in the order
	// they started, then each unfinished group on top of its parent's,
	// innermost first, as the live run would have pushed them.
	for _, t := range startOrder {
		p := taskPath[t]
		if k := pathKey(p); !pushed[k] {
			pushed[k] = true
			frame(pathKey(p[:len(p)-1])).push(undoEntry{task: t}, nil)
		}
	}
	for depth := maxDepth(frames); depth >= 1; depth-- {
		var keys []string
		for k, f := range frames {
			if k != "" && strings.Count(k, "/")+1 == depth && !pushed[k] && f.len() > 0 {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			pushed[k] = true
			i := strings.LastIndexByte(k, '/')
			parent := ""
			if i >= 0 {
				parent = k[:i]
			}
			frame(parent).push(undoEntry{frame: frames[k]}, nil)
		}
	}

	res.Status = RunInterrupted
	switch status {
	case "succeeded":
		res.Status = RunSucceeded
	case "failed":
		res.Status = RunFailed
	case "partial":
		res.Status = RunPartial
	case "":
		if res.Cause == "" {
			res.Cause = "fanout stopped before the run finished: the journal has no final record"
		} else {
			res.Cause += "; then fanout stopped before the run finished"
		}
	}
	if !last.IsZero() {
		res.Duration = last.Sub(rc.Header.Started)
	}
	for _, u := range rv.ordered {
		c := *u
		res.Units = append(res.Units, &c)
		if res.FirstFailure == u {
			res.FirstFailure = &c
		}
	}
	rv.res = res
	return rv, nil
}

func pathKey(p []int) string {
	parts := make([]string, len(p))
	for i, n := range p {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, "/")
}

func maxDepth(frames map[string]*undoFrame) int {
	d := 0
	for k := range frames {
		if k != "" {
			d = max(d, strings.Count(k, "/")+1)
		}
	}
	return d
}

// unmarshalCty reads a value marshalCty wrote, strings passed through f.
func unmarshalCty(raw json.RawMessage, f func(string) string) (cty.Value, error) {
	var sv ctyjson.SimpleJSONValue
	if err := sv.UnmarshalJSON(raw); err != nil {
		return cty.NilVal, err
	}
	return mapCtyStrings(sv.Value, f)
}

// Result rebuilds the run's record from the journal, as the recap of the
// run showed it (or would have, had fanout lived to its end).
func (rc *Recovery) Result() (*Result, error) {
	rv, err := rc.rebuild(nil)
	if err != nil {
		return nil, err
	}
	return rv.res, nil
}

// Plan returns the plan the journal recorded, secrets filled in from
// secrets (placeholders stay where one is missing).
func (rc *Recovery) Plan(secrets []Secret) (*Plan, error) {
	rv, err := rc.rebuild(secrets)
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
}

// RollbackSteps is what a rollback of the journal's run would do: the
// failed task first, then every task that started, newest first, inner
// groups whole. Commands keep their secrets' placeholders.
func (rc *Recovery) RollbackSteps() ([]RollbackStep, error) {
	rv, err := rc.rebuild(nil)
	if err != nil {
		return nil, err
	}
	r := rv.newRun(context.Background(), ApplyOptions{})
	var out []RollbackStep
	for _, s := range r.rollbackSteps(rv.root) {
		st := RollbackStep{Task: s.task.Name, Commands: s.task.Rollback, MaxHosts: s.task.MaxHosts}
		for _, h := range s.hosts {
			st.Hosts = append(st.Hosts, h.Name)
		}
		for _, h := range s.done {
			st.Done = append(st.Done, h.Name)
		}
		out = append(out, st)
	}
	return out, nil
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

// ErrMissingSecrets is returned by RollbackJournal when the journal's
// commands need secrets that were not given.
var ErrMissingSecrets = errors.New("the journal's plan needs sensitive values that were not given")

// RollbackJournal runs the rollback cascade of a journal's run, as a live
// run would have had it finished: the first failed task first, then every
// task that started, newest first, inner groups whole, each on the hosts
// its run started on; pairs whose rollback succeeded before (a live
// rollback, or an earlier RollbackJournal) are skipped. It appends what it
// does to opts.Journal (the same journal, reopened). opts.Transports must
// have been prepared with ConfigureFromJournal. Secrets fill the
// placeholders of the journal; a missing one is ErrMissingSecrets and
// nothing runs.
func RollbackJournal(ctx context.Context, rc *Recovery, secrets []Secret, opts ApplyOptions) (*Result, error) {
	if missing := rc.Missing(secrets); len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMissingSecrets, strings.Join(missing, ", "))
	}
	rv, err := rc.rebuild(secrets)
	if err != nil {
		return nil, err
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = 5 * time.Second
	}
	opts.RunID = rc.Header.RunID
	// Every rollback is started under the run's ctx; the journal already
	// says the run stops, so nothing of the run phase starts.
	r := rv.newRun(ctx, opts)
	r.stopping = true
	start := time.Now()
	go r.dispatch()
	r.emit(RunStarted{RunID: opts.RunID, Time: start, Units: len(rv.ordered), Hosts: len(rv.plan.Hosts)})
	if err := r.record(&JournalRecord{Type: RecordRecoveryStarted, RunID: opts.RunID}); err != nil {
		r.logger.Warn("the rollback goes on unrecorded", "error", err)
	}
	r.rollback(rv.root)
	r.cancelExec()

	r.mu.Lock()
	res := &Result{
		RunID:          opts.RunID,
		Cause:          rv.res.Cause,
		FirstFailure:   rv.res.FirstFailure,
		RolledBack:     r.rolledBack,
		RollbackFailed: r.rbFailed,
		JournalError:   errString(r.journalErr),
		Started:        start,
		Duration:       time.Since(start),
		Status:         RunSucceeded,
	}
	for _, u := range rv.ordered {
		c := *u
		if u.Rollback != nil {
			rb := *u.Rollback
			c.Rollback = &rb
		}
		res.Units = append(res.Units, &c)
	}
	r.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		res.Status, res.Cause = RunInterrupted, "the rollback was interrupted"
	case len(res.RollbackFailed) > 0:
		res.Status = RunFailed
		res.Cause = fmt.Sprintf("%d rollbacks failed", len(res.RollbackFailed))
	}
	r.record(&JournalRecord{Type: RecordRecoveryFinished, Status: res.Status.String(), Reason: res.Cause})
	r.emit(RunFinished{Result: res})
	close(r.events)
	<-r.dispatched
	return res, nil
}

// ConfigureFromJournal starts and configures the transports a journal's
// plan uses with the settings recorded there (secrets filled in), so that
// a rollback reaches the hosts as the run did, whatever the configuration
// says now. A plugin pinned by sha256 must still match it.
func (ts *Transports) ConfigureFromJournal(ctx context.Context, rc *Recovery, secrets []Secret) error {
	fill := func(s string) string { return s }
	if len(secrets) > 0 {
		var pairs []string
		for _, s := range secrets {
			pairs = append(pairs, placeholder(s.Name), s.Value)
		}
		fill = strings.NewReplacer(pairs...).Replace
	}
	for _, jt := range rc.Header.Plan.Transports {
		if jt.SHA256 != "" {
			ts.mu.Lock()
			ts.pins[jt.Name] = jt.SHA256
			ts.mu.Unlock()
		}
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
		resp, err := t.Configure(ctx, &sdk.ConfigureRequest{Config: settings})
		if err != nil {
			return fmt.Errorf("transport %s: configure: %w", jt.Name, err)
		}
		if resp.Diagnostics.HasErrors() {
			return fmt.Errorf("transport %s rejected its journaled settings: %s", jt.Name, resp.Diagnostics.Err())
		}
	}
	return nil
}

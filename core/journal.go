package core

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Journal records a run as it happens, so that what ran where survives
// fanout itself dying. Apply calls Record synchronously at each state
// change and acts on what it returns: a record of a task starting on a host
// is durable before the command is sent, so a crash loses at most the
// event in flight. Record must be safe for concurrent use; an error means
// the record may not be durable, and the run stops starting work.
//
// Output is not journaled: it may be large and may hold secrets; the
// journal holds states only.
type Journal interface {
	Record(rec *JournalRecord) error
}

// JournalVersion is the version of the journal's format, in its header.
// It grows when a field changes meaning; added fields keep it.
const JournalVersion = 1

// RecordType names a journal record's kind.
type RecordType string

// The journal's record types, in the order a run writes them.
const (
	// RecordHeader is the first line: the run's identity and its plan.
	RecordHeader RecordType = "header"
	// RecordRunStarted says the run begins; nothing ran before it.
	RecordRunStarted RecordType = "run_started"
	// RecordHostError is a host that failed to connect in preflight.
	RecordHostError RecordType = "host_error"
	// RecordUnitStarted is a task starting on a host, in either phase,
	// written before any of its commands is sent.
	RecordUnitStarted RecordType = "unit_started"
	// RecordUnitFinished is a task ending on a host, with its result.
	RecordUnitFinished RecordType = "unit_finished"
	// RecordCompleted is a task or group finishing, pushed on its parent's
	// undo frame: Path locates it in the plan's tree. The order of these
	// records is the rollback's order, reversed.
	RecordCompleted RecordType = "completed"
	// RecordStopping is the run deciding to start nothing new.
	RecordStopping RecordType = "stopping"
	// RecordRollbackStarted and RecordRollbackFinished frame a task's
	// rollback on its hosts.
	RecordRollbackStarted  RecordType = "rollback_started"
	RecordRollbackFinished RecordType = "rollback_finished"
	// RecordRunFinished is the run's last record, with its status.
	RecordRunFinished RecordType = "run_finished"
	// RecordRecoveryStarted and RecordRecoveryFinished frame a
	// `fanout rollback` of the run, appended to its journal.
	RecordRecoveryStarted  RecordType = "recovery_started"
	RecordRecoveryFinished RecordType = "recovery_finished"
)

// JournalRecord is one line of a journal. Fields not used by a record's
// type are left out of its JSON.
type JournalRecord struct {
	Type RecordType `json:"type"`
	Time time.Time  `json:"time"`
	// Header is set on the header record only.
	Header *JournalHeader `json:"header,omitempty"`
	Task   string         `json:"task,omitempty"`
	Host   string         `json:"host,omitempty"`
	Phase  Phase          `json:"phase,omitempty"`
	// Result is a unit_finished record's outcome.
	Result *JournalResult `json:"result,omitempty"`
	// Path is a completed record's place in the plan: member indices from
	// the roots down; a task's path has its name in Task, a group's not.
	Path []int `json:"path,omitempty"`
	// Hosts are a rollback_started record's hosts; Failed those where a
	// rollback_finished record's rollback failed.
	Hosts  []string `json:"hosts,omitempty"`
	Failed []string `json:"failed,omitempty"`
	// Reason explains a stopping record, a host_error, or a finished
	// run's cause.
	Reason string `json:"reason,omitempty"`
	// Status is a finished run's or recovery's status: "succeeded",
	// "failed" or "interrupted".
	Status string `json:"status,omitempty"`
	// RunID is set on run_started and recovery_started records.
	RunID string `json:"run_id,omitempty"`
	// Wave counts a wave record's wave from 1; Attempt counts an attempt
	// record's attempt from 1 (journal_rollout.go).
	Wave    int `json:"wave,omitempty"`
	Attempt int `json:"attempt,omitempty"`
}

// JournalResult is a PhaseResult as the journal stores it.
type JournalResult struct {
	Status     string `json:"status"`
	ExitCode   int    `json:"exit_code"`
	Signal     string `json:"signal,omitempty"`
	Command    int    `json:"command"`
	Err        string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// Attempts and CheckAttempts count the run's and the check's attempts.
	Attempts      int `json:"attempts,omitempty"`
	CheckAttempts int `json:"check_attempts,omitempty"`
}

// JournalHeader opens a journal: everything `fanout rollback` needs to
// undo the run without the configuration, which may have changed since.
type JournalHeader struct {
	Version int       `json:"version"`
	RunID   string    `json:"run_id"`
	Started time.Time `json:"started"`
	// Config is the configuration's path as given to apply, made absolute.
	Config string `json:"config"`
	// PlanHash is the SHA-256 of Plan's JSON: two runs with the same hash
	// ran the same plan.
	PlanHash string `json:"plan_hash"`
	// Sensitive names the placeholders that stand for secrets in Plan
	// ("var.token"): their values are never written, and `fanout rollback`
	// needs them given again.
	Sensitive []string     `json:"sensitive,omitempty"`
	Plan      *JournalPlan `json:"plan"`
	// Fanout is the version of fanout that wrote the journal.
	Fanout string `json:"fanout,omitempty"`
}

// JournalPlan is a Plan as the journal stores it. Tasks are stored once,
// by name; the tree refers to them.
type JournalPlan struct {
	OnFailure  string              `json:"on_failure"`
	Roots      []*JournalNode      `json:"roots"`
	Tasks      []*JournalTask      `json:"tasks"`
	Hosts      []*JournalHost      `json:"hosts"`
	Transports []*JournalTransport `json:"transports"`
}

// JournalNode is a node of the plan's tree: a task by name, or a group.
type JournalNode struct {
	Task    string         `json:"task,omitempty"`
	Group   string         `json:"group,omitempty"`
	Threads int            `json:"threads,omitempty"`
	Members []*JournalNode `json:"members,omitempty"`
}

// JournalTask is a task of the plan, with the hosts it may run on.
type JournalTask struct {
	Name      string            `json:"name"`
	Hosts     []string          `json:"hosts"`
	Run       []string          `json:"run"`
	Rollback  []string          `json:"rollback,omitempty"`
	TimeoutMS int64             `json:"timeout_ms,omitempty"`
	MaxHosts  int               `json:"max_hosts"`
	Env       map[string]string `json:"env,omitempty"`
}

// JournalHost is a host of the plan with its transport settings.
type JournalHost struct {
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	Roles     []string `json:"roles,omitempty"`
	Transport string   `json:"transport"`
	// Config is the host's transport settings as cty JSON (type and
	// value); absent when none.
	Config json.RawMessage `json:"config,omitempty"`
}

// JournalTransport is a transport the plan's hosts use, with the settings
// its plugin was configured with.
type JournalTransport struct {
	Name string `json:"name"`
	// SHA256 pins the plugin binary when the configuration did.
	SHA256 string `json:"sha256,omitempty"`
	// Settings are cty JSON (type and value).
	Settings json.RawMessage `json:"settings,omitempty"`
}

// Secret is a value that must never be written to a journal, and the
// placeholder name that stands for it ("var.token").
type Secret struct {
	Name  string
	Value string
}

// placeholder is how a secret appears in a journal.
func placeholder(name string) string { return "{{sensitive:" + name + "}}" }

// secretReplacer replaces each secret's value by its placeholder, longer
// values first so that a value containing another is hidden whole; nil
// when there is nothing to hide.
func secretReplacer(secrets []Secret) *strings.Replacer {
	ss := slices.DeleteFunc(slices.Clone(secrets), func(s Secret) bool { return s.Value == "" })
	if len(ss) == 0 {
		return nil
	}
	slices.SortStableFunc(ss, func(a, b Secret) int { return len(b.Value) - len(a.Value) })
	var pairs []string
	for _, s := range ss {
		pairs = append(pairs, s.Value, placeholder(s.Name))
	}
	return strings.NewReplacer(pairs...)
}

// NewJournalHeader describes plan for a journal, with every secret's value
// replaced by its placeholder. config is the configuration's path;
// transport pins come from the plan's configuration.
func NewJournalHeader(plan *Plan, runID, configPath, fanoutVersion string, secrets []Secret) (*JournalHeader, error) {
	rep := secretReplacer(secrets)
	hide := func(s string) string {
		if rep == nil {
			return s
		}
		return rep.Replace(s)
	}
	jp := &JournalPlan{OnFailure: string(plan.OnFailure)}
	var node func(n Node) *JournalNode
	seen := map[*TaskNode]bool{}
	node = func(n Node) *JournalNode {
		switch n := n.(type) {
		case *TaskNode:
			if !seen[n] {
				seen[n] = true
				jt := &JournalTask{Name: n.Name, MaxHosts: n.MaxHosts, TimeoutMS: n.Timeout.Milliseconds(),
					Run: mapStrings(n.Run, hide), Rollback: mapStrings(n.Rollback, hide), Env: mapValues(n.Env, hide)}
				for _, h := range n.Hosts {
					jt.Hosts = append(jt.Hosts, h.Name)
				}
				jp.Tasks = append(jp.Tasks, jt)
			}
			return &JournalNode{Task: n.Name}
		case *Group:
			jn := &JournalNode{Group: n.Name, Threads: n.Threads}
			if jn.Group == "" {
				jn.Group = "parallelize"
			}
			for _, m := range n.Members {
				jn.Members = append(jn.Members, node(m))
			}
			return jn
		}
		panic(fmt.Sprintf("core: unexpected plan node %T", n))
	}
	for _, r := range plan.Roots {
		jp.Roots = append(jp.Roots, node(r))
	}
	for _, h := range plan.Hosts {
		jh := &JournalHost{Name: h.Name, Address: hide(h.Address), Roles: h.Roles, Transport: h.Transport}
		raw, err := marshalCty(h.Config, hide)
		if err != nil {
			return nil, fmt.Errorf("journal host %s settings: %w", h.Name, err)
		}
		jh.Config = raw
		jp.Hosts = append(jp.Hosts, jh)
	}
	for _, tp := range plan.Transports {
		jt := &JournalTransport{Name: tp.Name}
		if plan.Config != nil {
			if b := plan.Config.Transports[tp.Name]; b != nil {
				jt.SHA256 = b.SHA256
			}
		}
		raw, err := marshalCty(tp.Settings, hide)
		if err != nil {
			return nil, fmt.Errorf("journal transport %s settings: %w", tp.Name, err)
		}
		jt.Settings = raw
		jp.Transports = append(jp.Transports, jt)
	}
	b, err := json.Marshal(jp)
	if err != nil {
		return nil, fmt.Errorf("journal plan: %w", err)
	}
	sum := sha256.Sum256(b)
	h := &JournalHeader{
		Version:  JournalVersion,
		RunID:    runID,
		Started:  time.Now().UTC(),
		Config:   configPath,
		PlanHash: hex.EncodeToString(sum[:]),
		Plan:     jp,
		Fanout:   fanoutVersion,
	}
	for _, s := range secrets {
		if s.Value != "" && !slices.Contains(h.Sensitive, s.Name) && bytes.Contains(b, []byte(placeholder(s.Name))) {
			h.Sensitive = append(h.Sensitive, s.Name)
		}
	}
	return h, nil
}

// marshalCty stores a cty value with its type, strings passed through
// hide; a null or absent value stores nothing.
func marshalCty(v cty.Value, hide func(string) string) (json.RawMessage, error) {
	if v == cty.NilVal || v.IsNull() {
		return nil, nil
	}
	v, _ = v.UnmarkDeep()
	v, err := mapCtyStrings(v, hide)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ctyjson.SimpleJSONValue{Value: v})
}

// mapCtyStrings returns v with every known string inside it passed
// through f.
func mapCtyStrings(v cty.Value, f func(string) string) (cty.Value, error) {
	return cty.Transform(v, func(_ cty.Path, v cty.Value) (cty.Value, error) {
		if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			return cty.StringVal(f(v.AsString())), nil
		}
		return v, nil
	})
}

// FileJournal is a Journal in a JSON-lines file: one record a line, each
// written and fsynced before Record returns. It is safe for concurrent
// use.
type FileJournal struct {
	path string
	rep  *strings.Replacer

	mu sync.Mutex
	// guarded by mu
	f       *os.File
	err     error  // the first write error; every later Record returns it
	written uint64 // records written to f so far

	// syncMu is held by the one Record that fsyncs; records written while
	// it syncs are made durable by the next single fsync (group commit),
	// so concurrent units share fsyncs instead of queueing one each.
	syncMu sync.Mutex
	synced uint64 // guarded by syncMu: records known to be durable
}

var _ Journal = (*FileJournal)(nil)

// JournalDir is where journals are kept, relative to the configuration's
// directory.
const JournalDir = ".fanout/runs"

// CreateJournal creates the journal of a new run at path (its directory
// 0700 and the file 0600, created if missing; an existing file is an
// error) and writes the header, durably. Secrets are replaced by their
// placeholders in every record written later too. When it fails, nothing
// may run: the run would have no record.
func CreateJournal(path string, header *JournalHeader, secrets []Secret) (*FileJournal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the journal directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the journal: %w", err)
	}
	j := &FileJournal{path: path, f: f, rep: secretReplacer(secrets)}
	if err := j.Record(&JournalRecord{Type: RecordHeader, Time: header.Started, Header: header}); err != nil {
		f.Close()
		// A journal without its header is of no use to anyone.
		os.Remove(path)
		return nil, err
	}
	// The file's directory entry must survive a crash too.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return j, nil
}

// OpenJournal opens an existing journal to append to it, as
// `fanout rollback` does.
func OpenJournal(path string, secrets []Secret) (*FileJournal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open the journal: %w", err)
	}
	return &FileJournal{path: path, f: f, rep: secretReplacer(secrets)}, nil
}

// Path returns the journal's file name.
func (j *FileJournal) Path() string { return j.path }

// Record appends rec as one line and fsyncs the file; it returns once the
// line is durable, or the error that may have lost it. After a failure
// every Record fails: a journal with a hole would mislead a rollback.
func (j *FileJournal) Record(rec *JournalRecord) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now().UTC()
	}
	if j.rep != nil && rec.Header == nil {
		// The header was built with the secrets hidden; these fields are
		// the ones a record can carry text from commands or hosts in.
		rec.Reason = j.rep.Replace(rec.Reason)
		if rec.Result != nil {
			r := *rec.Result
			r.Err = j.rep.Replace(r.Err)
			rec.Result = &r
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("journal record: %w", err)
	}
	b = append(b, '\n')
	seq, f, err := j.write(b)
	if err != nil {
		return err
	}
	return j.sync(f, seq)
}

// write appends one line and returns its sequence number and the file.
func (j *FileJournal) write(b []byte) (uint64, *os.File, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, nil, j.err
	}
	if j.f == nil {
		return 0, nil, errors.New("journal is closed")
	}
	if _, err := j.f.Write(b); err != nil {
		j.err = fmt.Errorf("write the journal: %w", err)
		return 0, nil, j.err
	}
	j.written++
	return j.written, j.f, nil
}

// sync returns once record seq is durable: either an fsync that started
// after it was written has succeeded, or this call makes one.
func (j *FileJournal) sync(f *os.File, seq uint64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	if j.synced >= seq {
		return nil
	}
	j.mu.Lock()
	upTo, failed := j.written, j.err
	j.mu.Unlock()
	if failed != nil {
		return failed
	}
	if err := f.Sync(); err != nil {
		j.mu.Lock()
		defer j.mu.Unlock()
		if j.err == nil {
			j.err = fmt.Errorf("sync the journal: %w", err)
		}
		return j.err
	}
	j.synced = upTo
	return nil
}

// Close closes the file; Record fails afterwards. It may be called more
// than once.
func (j *FileJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// journalResult converts a PhaseResult for the journal.
func journalResult(r PhaseResult) *JournalResult {
	return &JournalResult{Status: r.Status.String(), ExitCode: r.ExitCode, Signal: r.Signal, Command: r.Command, Err: r.Err, DurationMS: r.Duration.Milliseconds(),
		Attempts: r.Attempts, CheckAttempts: r.CheckAttempts}
}

// phaseResult converts back; started is the unit_started record's time.
func (jr *JournalResult) phaseResult(started time.Time) PhaseResult {
	return PhaseResult{Status: parseStatus(jr.Status), ExitCode: jr.ExitCode, Signal: jr.Signal, Command: jr.Command, Err: jr.Err,
		Started: started, Duration: time.Duration(jr.DurationMS) * time.Millisecond, Attempts: jr.Attempts, CheckAttempts: jr.CheckAttempts}
}

func parseStatus(s string) Status {
	for st := StatusSkipped; st <= StatusConditionSkipped; st++ {
		if st.String() == s {
			return st
		}
	}
	return StatusInterrupted
}

// mapStrings returns f of each of ss, nil for none. The journal's plan
// goes through it both ways: hiding secrets when written, filling the
// placeholders back when read.
func mapStrings(ss []string, f func(string) string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, f(s))
	}
	return out
}

// mapValues returns m with f applied to each value, nil for an empty m.
func mapValues(m map[string]string, f func(string) string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = f(v)
	}
	return out
}

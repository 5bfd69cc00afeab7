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
	"sync"
	"time"
)

// Journal records a run as it happens, so that what ran where survives
// fanout itself dying. Apply calls Record synchronously at each state
// change and acts on what it returns: a record of a task starting on a host
// is durable before the command is sent, so a crash loses at most the
// event in flight. Record must be safe for concurrent use; an error means
// the record may not be durable, and the run stops starting work.
//
// Output is not journaled: it may be large and may hold secrets; the
// journal holds states, and of a failure the last few short lines of its
// stderr (or its check's output), with the secrets hidden.
type Journal interface {
	Record(rec *JournalRecord) error
}

// journalVersion is the version of the journal's format, in its header.
// It grows when a field changes meaning; added fields keep it.
const journalVersion = 1

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
	// RecordConditionsPassed is a task's only_if and unless letting it
	// run on a host, written before the first of its uploads or commands
	// is sent: until then, a pair whose unit_started record has
	// Conditions set has run nothing of the task.
	RecordConditionsPassed RecordType = "conditions_passed"
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
	// Conditions is set on a run's unit_started record when the task has
	// only_if or unless: they run first, and nothing of the task ran on
	// the host before its conditions_passed record.
	Conditions bool `json:"conditions,omitempty"`
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
	// Status is a finished run's or recovery's status.
	Status RunStatus `json:"status,omitempty"`
	// RunID is set on run_started and recovery_started records.
	RunID string `json:"run_id,omitempty"`
	// Wave counts a wave record's wave from 1, of Waves; Attempt counts
	// an attempt record's attempt from 1 (journal_rollout.go).
	Wave    int `json:"wave,omitempty"`
	Waves   int `json:"waves,omitempty"`
	Attempt int `json:"attempt,omitempty"`
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
	// Command is the fanout command of the run, "apply" or "exec"; empty
	// in journals written before it was recorded, which are applies'.
	Command string `json:"command,omitempty"`
}

// NewJournalHeader describes plan for a journal, with every secret's value
// replaced by its placeholder. config is the configuration's path;
// transport pins come from the plan's configuration.
func NewJournalHeader(plan *Plan, runID, configPath, fanoutVersion string, secrets []Secret) (*JournalHeader, error) {
	jp, err := newJournalPlan(plan, secretHider(secrets))
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(jp)
	if err != nil {
		return nil, fmt.Errorf("journal plan: %w", err)
	}
	sum := sha256.Sum256(b)
	h := &JournalHeader{
		Version:  journalVersion,
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
	// The sudo password is named, never a placeholder: `fanout rollback`
	// needs its value all the same, and refuses to start without it.
	if jp.SudoPassword != "" && !slices.Contains(h.Sensitive, jp.SudoPassword) {
		h.Sensitive = append(h.Sensitive, jp.SudoPassword)
	}
	return h, nil
}

// FileJournal is a Journal in a JSON-lines file: one record a line, each
// written and fsynced before Record returns. It is safe for concurrent
// use.
type FileJournal struct {
	path string
	hide func(string) string

	mu sync.Mutex
	// guarded by mu
	f       *os.File
	err     error  // the first write error; every later Record returns it
	written uint64 // records written to f so far
	size    int64  // bytes of whole records in f
	reserve string // the space set aside for a full disk (journal_reserve.go); "" once used or when none

	// syncMu is held by the one Record that fsyncs; records written while
	// it syncs are made durable by the next single fsync (group commit),
	// so concurrent units share fsyncs instead of queueing one each.
	syncMu sync.Mutex
	synced uint64 // guarded by syncMu: records known to be durable
}

var _ Journal = (*FileJournal)(nil)

// CreateJournal creates the journal of a new run at path (its directory
// 0700 and the file 0600, created if missing; an existing file is an
// error; the modes are set, not left to the umask, since the journal
// holds every command and its output) and writes the header, durably. Secrets are replaced by their
// placeholders in every record written later too. When it fails, nothing
// may run: the run would have no record.
func CreateJournal(path string, header *JournalHeader, secrets []Secret) (*FileJournal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the journal directory: %w", err)
	}
	if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create the journal directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create the journal: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		discardJournal(f, path)
		return nil, fmt.Errorf("create the journal: %w", err)
	}
	j := &FileJournal{path: path, f: f, hide: secretHider(secrets)}
	if err := j.Record(&JournalRecord{Type: RecordHeader, Time: header.Started, Header: header}); err != nil {
		discardJournal(f, path)
		return nil, err
	}
	j.reserve = setAside(path)
	// The file's directory entry must survive a crash too: a journal that
	// a crash can lose is no record of the run.
	if err := syncDir(filepath.Dir(path)); err != nil {
		discardJournal(f, path)
		return nil, fmt.Errorf("create the journal: %w", err)
	}
	return j, nil
}

// discardJournal closes and removes a journal that could not be created
// whole: a journal without its header, or one a crash may lose, is of no
// use to anyone. The error being returned is the one that matters, so
// these are best effort: a headerless file left behind reads as
// unreadable in `fanout runs`.
func discardJournal(f *os.File, path string) {
	_ = f.Close()
	_ = os.Remove(path)
}

// syncDir makes the entries of directory dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// OpenJournal opens an existing journal to append to it, as
// `fanout rollback` does. A last line cut short by a crash is removed
// first: ReadJournal ignores it at the end, but records appended after it
// would make it a bad line in the middle, and the journal unreadable.
func OpenJournal(path string, secrets []Secret) (*FileJournal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open the journal: %w", err)
	}
	if err := dropTornLine(f); err != nil {
		_ = f.Close() // nothing appended: dropTornLine's error is the one to report
		return nil, fmt.Errorf("open the journal: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open the journal: %w", err)
	}
	return &FileJournal{path: path, f: f, hide: secretHider(secrets), size: fi.Size(), reserve: setAside(path)}, nil
}

// dropTornLine truncates f after its last newline, if anything follows it.
func dropTornLine(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	end := fi.Size()
	buf := make([]byte, 64<<10)
	for off := end; off > 0; {
		n := min(off, int64(len(buf)))
		off -= n
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if keep := off + int64(i) + 1; keep < end {
				return f.Truncate(keep)
			}
			return nil
		}
	}
	// No newline at all: not even a header; leave it for the reader.
	return nil
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
	if rec.Header == nil {
		// The header was built with the secrets hidden.
		hideRecordText(rec, j.hide)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("journal record: %w", err)
	}
	b = append(b, '\n')
	seq, f, full, err := j.write(b)
	if err != nil {
		return err
	}
	if err := j.sync(f, seq); err != nil {
		return err
	}
	return full
}

// hideRecordText applies hide to the fields a record can carry text from
// commands or hosts in, its Result copied rather than changed.
func hideRecordText(rec *JournalRecord, hide func(string) string) {
	rec.Reason = hide(rec.Reason)
	if rec.Result != nil {
		r := *rec.Result
		r.Err = hide(r.Err)
		r.StderrTail = mapStrings(r.StderrTail, hide)
		r.CheckTail = mapStrings(r.CheckTail, hide)
		rec.Result = &r
	}
}

// write appends one line and returns its sequence number and the file.
// When the disk is full and the journal's reserve is left, the line is
// written in the space the reserve frees, and full says so: the line is
// in the journal, and the run must stop all the same.
func (j *FileJournal) write(b []byte) (seq uint64, f *os.File, full, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return 0, nil, nil, j.err
	}
	if j.f == nil {
		return 0, nil, nil, errors.New("journal is closed")
	}
	if _, err := j.f.Write(b); err != nil {
		if full = j.useReserve(err); full == nil {
			j.err = fmt.Errorf("write the journal: %w", err)
			return 0, nil, nil, j.err
		}
		if _, err := j.f.Write(b); err != nil {
			j.err = fmt.Errorf("write the journal: %w", err)
			return 0, nil, nil, j.err
		}
	}
	j.size += int64(len(b))
	j.written++
	return j.written, j.f, full, nil
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
	j.dropReserve()
	return err
}

package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
)

// cascadePlan is TestRollbackCascadeOrder's plan: a root task, then an
// outer group holding an inner group, with one task failing at 200ms.
func cascadePlan(mode config.OnFailure) *Plan {
	h := testHosts("h1")
	first := testTask("first", h, "ok", "ok")
	y := testTask("y", h, "sleep 50ms", "ok")
	z := testTask("z", h, "sleep 350ms", "ok")
	inner := testGroup("inner", 1, y, z)
	p := testTask("p", h, "sleep 100ms", "ok")
	fail := testTask("f", h, "sleep 200ms;fail 3", "ok")
	norb := testTask("norb", h, "ok")
	outer := testGroup("outer", 4, norb, inner, p, fail)
	never := testTask("never", h, "ok", "ok")
	return testPlan(mode, first, outer, never)
}

// newJournal creates the journal of run runID of p in a directory of its
// own that CreateJournal must make.
func newJournal(t testing.TB, p *Plan, runID string, secrets []Secret) (*JournalHeader, string, *FileJournal) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs", runID+".jsonl")
	hdr, err := NewJournalHeader(p, runID, "/cfg/main.hcl", "test", secrets)
	if err != nil {
		t.Fatal(err)
	}
	j, err := CreateJournal(path, hdr, secrets)
	if err != nil {
		t.Fatal(err)
	}
	return hdr, path, j
}

func journalRun(t *testing.T, f *fakeTransport, p *Plan, secrets []Secret) (string, *Result) {
	t.Helper()
	_, path, j := newJournal(t, p, "test-run", secrets)
	defer closeJournal(t, j)
	ts := NewTransports(f.launcher(), nil)
	closeTransports(t, ts)
	res := Apply(context.Background(), p, ApplyOptions{Transports: ts, RunID: "test-run", Journal: j})
	return path, res
}

func stepTasks(t *testing.T, rc *Recovery) []string {
	t.Helper()
	steps, err := rc.RollbackSteps()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range steps {
		if len(s.Commands) > 0 && len(s.Hosts) > 0 {
			out = append(out, s.Task)
		}
	}
	return out
}

func rollbackJournal(t *testing.T, f *fakeTransport, path string, secrets []Secret) *Result {
	t.Helper()
	return rollbackRecovery(t, f, path, mustReadJournal(t, path), secrets)
}

// rollbackRecovery rolls back rc, read from the journal at path, through
// f, as fanout rollback does: the journal reopened for the rollback's
// records, the transports configured from it.
func rollbackRecovery(t *testing.T, f *fakeTransport, path string, rc *Recovery, secrets []Secret) *Result {
	t.Helper()
	j, err := OpenJournal(path, secrets)
	if err != nil {
		t.Fatal(err)
	}
	defer closeJournal(t, j)
	ts := NewTransports(f.launcher(), nil)
	closeTransports(t, ts)
	if err := ts.ConfigureFromJournal(context.Background(), rc, secrets); err != nil {
		t.Fatal(err)
	}
	res, err := RollbackJournal(context.Background(), rc, secrets, ApplyOptions{Transports: ts, Journal: j})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The cascade plan's sleeps pass on the clock of a testing/synctest bubble,
// where they decide exactly what has run when f fails.
func TestJournalRollbackMatchesLiveOrder(t *testing.T) {
	synctest.Test(t, testJournalRollbackMatchesLiveOrder)
}

func testJournalRollbackMatchesLiveOrder(t *testing.T) {
	// on_failure = "stop": the run rolls back nothing, the journal must
	// then give the order the live cascade gives.
	f := newFake()
	path, res := journalRun(t, f, cascadePlan(config.OnFailureStop), nil)
	if res.Status != RunFailed || len(res.RolledBack) != 0 {
		t.Fatalf("status %v, rolled back %v; want failed, nothing", res.Status, res.RolledBack)
	}
	rc := mustReadJournal(t, path)
	if st, ok := rc.Finished(); !ok || st != RunFailed {
		t.Errorf("Finished() = %v %v, want failed true", st, ok)
	}
	want := []string{"f", "z", "y", "p", "first"}
	if diff := cmp.Diff(want, stepTasks(t, rc)); diff != "" {
		t.Errorf("rollback steps (-want +got):\n%s", diff)
	}
	got := rollbackJournal(t, f, path, nil)
	if diff := cmp.Diff(want, f.startOrder("rollback", true)); diff != "" {
		t.Errorf("rollback ran (-want +got):\n%s", diff)
	}
	if !got.OK() {
		t.Errorf("rollback status %v: %s", got.Status, got.Cause)
	}

	// Twice: nothing is rolled back twice.
	before := len(f.startOrder("rollback", false))
	rollbackJournal(t, f, path, nil)
	if after := len(f.startOrder("rollback", false)); after != before {
		t.Errorf("the second rollback ran %d more pairs, want 0", after-before)
	}
	rc = mustReadJournal(t, path)
	if got := stepTasks(t, rc); len(got) != 0 {
		t.Errorf("steps after the rollback = %v, want none", got)
	}
	if s := rc.Status(); s != "rolled back" {
		t.Errorf("Status() = %q, want rolled back", s)
	}
}

func TestJournalAfterCrash(t *testing.T) { synctest.Test(t, testJournalAfterCrash) }

func testJournalAfterCrash(t *testing.T) {
	path := crashedJournal(t)
	rc := mustReadJournal(t, path)
	if !rc.Truncated {
		t.Error("the torn last line was not noticed")
	}
	if _, ok := rc.Finished(); ok {
		t.Error("a cut journal reads as finished")
	}
	if s := rc.Status(); s != "unfinished" {
		t.Errorf("Status() = %q", s)
	}
	// The inner group (y done, z in flight) is on top, z first; then f, in
	// flight in the outer group; then p, then the root task.
	want := []string{"z", "y", "f", "p", "first"}
	if diff := cmp.Diff(want, stepTasks(t, rc)); diff != "" {
		t.Errorf("rollback steps (-want +got):\n%s", diff)
	}
	res, err := rc.Result()
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != RunInterrupted || !strings.Contains(res.Cause, "no final record") {
		t.Errorf("rebuilt result %v %q", res.Status, res.Cause)
	}
	f2 := newFake()
	rollbackJournal(t, f2, path, nil)
	if diff := cmp.Diff(want, f2.startOrder("rollback", true)); diff != "" {
		t.Errorf("rollback ran (-want +got):\n%s", diff)
	}
}

// mustReadJournal reads the journal at path, failing the test if it cannot.
func mustReadJournal(t *testing.T, path string) *Recovery {
	t.Helper()
	rc, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

// crashedJournal is a journal of cascadePlan cut as a crash leaves it:
// what it held when p completed (100ms: first, norb and y done; z and f in
// flight), then a torn line, as a crash mid-write.
func crashedJournal(t *testing.T) string {
	path, _ := journalRun(t, newFake(), cascadePlan(config.OnFailureStop), nil)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		kept = append(kept, line)
		if strings.Contains(line, `"type":"completed"`) && strings.Contains(line, `"task":"p"`) {
			break
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "")+`{"type":"unit_fini`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// failingJournal records in memory and fails from the record that match
// accepts on.
type failingJournal struct {
	mu     sync.Mutex
	recs   []JournalRecord
	failed bool
	match  func(*JournalRecord) bool
}

func (j *failingJournal) Record(rec *JournalRecord) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed || j.match(rec) {
		j.failed = true
		return errors.New("no space left on device")
	}
	j.recs = append(j.recs, *rec)
	return nil
}

func TestJournalFailureStopsAndRollsBack(t *testing.T) {
	synctest.Test(t, testJournalFailureStopsAndRollsBack)
}

func testJournalFailureStopsAndRollsBack(t *testing.T) {
	f := newFake()
	h := testHosts("h1", "h2")
	a := testTask("a", h, "ok", "ok")
	b := testTask("b", h, "ok", "ok")
	p := testPlan(config.OnFailureRollback, a, b)
	j := &failingJournal{match: func(r *JournalRecord) bool { return r.Type == RecordUnitStarted && r.Task == "b" }}
	ts := NewTransports(f.launcher(), nil)
	closeTransports(t, ts)
	res := Apply(context.Background(), p, ApplyOptions{Transports: ts, RunID: "r", Journal: j})
	if res.Status != RunFailed || !strings.Contains(res.Cause, "cannot write the run journal") || res.JournalError == "" {
		t.Fatalf("status %v cause %q journal error %q", res.Status, res.Cause, res.JournalError)
	}
	if slices.Contains(f.startOrder("run", true), "b") {
		t.Error("task b ran although its start could not be recorded")
	}
	if diff := cmp.Diff([]string{"a"}, f.startOrder("rollback", true)); diff != "" {
		t.Errorf("rolled back (-want +got):\n%s", diff)
	}
}

func TestJournalFirstRecordFailsRunsNothing(t *testing.T) {
	synctest.Test(t, testJournalFirstRecordFailsRunsNothing)
}

func testJournalFirstRecordFailsRunsNothing(t *testing.T) {
	f := newFake()
	p := testPlan(config.OnFailureRollback, testTask("a", testHosts("h1"), "ok", "ok"))
	j := &failingJournal{match: func(*JournalRecord) bool { return true }}
	ts := NewTransports(f.launcher(), nil)
	closeTransports(t, ts)
	res := Apply(context.Background(), p, ApplyOptions{Transports: ts, RunID: "r", Journal: j})
	if res.Status != RunFailed || len(f.events) != 0 {
		t.Errorf("status %v, %d commands ran; want failed and none", res.Status, len(f.events))
	}
}

func TestJournalRecordsBeforeExec(t *testing.T) {
	synctest.Test(t, testJournalRecordsBeforeExec)
}

func testJournalRecordsBeforeExec(t *testing.T) {
	// Each pair's start is durable before its command reaches the
	// transport: the fake's start comes after the record, in the fake's
	// record order.
	f := newFake()
	h := testHosts("h1", "h2", "h3")
	p := testPlan(config.OnFailureRollback, testTask("a", h, "sleep 20ms", "ok"))
	var mu sync.Mutex
	recorded := map[string]int{} // host -> the fake's last record number when its start was recorded
	j := &failingJournal{match: func(r *JournalRecord) bool {
		if r.Type == RecordUnitStarted && r.Phase == PhaseRun {
			mu.Lock()
			recorded[r.Host] = f.lastSeq()
			mu.Unlock()
		}
		return false
	}}
	ts := NewTransports(f.launcher(), nil)
	closeTransports(t, ts)
	Apply(context.Background(), p, ApplyOptions{Transports: ts, RunID: "r", Journal: j})
	for _, e := range f.events {
		if e.kind != "start" {
			continue
		}
		if seq, ok := recorded[e.host]; !ok || e.seq <= seq {
			t.Errorf("%s: command sent before its start was recorded", e.host)
		}
	}
	var types []RecordType
	for _, r := range j.recs {
		if !slices.Contains(types, r.Type) {
			types = append(types, r.Type)
		}
	}
	want := []RecordType{RecordRunStarted, RecordUnitStarted, RecordUnitFinished, RecordCompleted, RecordRunFinished}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("record types (-want +got):\n%s", diff)
	}
}

func TestJournalHidesSecrets(t *testing.T) { synctest.Test(t, testJournalHidesSecrets) }

func testJournalHidesSecrets(t *testing.T) {
	const secret = "hunter2-s3cret"
	f := newFake()
	h := testHosts("h1")
	task := testTask("a", h, "echo "+secret+";fail 1", "echo "+secret)
	task.Env = map[string]string{"TOKEN": secret}
	p := testPlan(config.OnFailureStop, task)
	secrets := []Secret{{Name: "var.token", Value: secret}}
	path, _ := journalRun(t, f, p, secrets)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(secret)) {
		t.Fatalf("the journal holds the secret:\n%s", b)
	}
	if !bytes.Contains(b, []byte("{{sensitive:var.token}}")) {
		t.Errorf("the journal holds no placeholder:\n%s", b)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	rc := mustReadJournal(t, path)
	if diff := cmp.Diff([]string{"var.token"}, rc.Missing(nil)); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
	if _, err := RollbackJournal(context.Background(), rc, nil, ApplyOptions{}); !errors.Is(err, errMissingSecrets) {
		t.Errorf("rollback without the secret: %v, want errMissingSecrets", err)
	}
	rollbackJournal(t, f, path, secrets)
	var ran []string
	for _, e := range f.events {
		if e.phase == "rollback" && e.kind == "start" {
			ran = append(ran, e.cmd)
		}
	}
	if diff := cmp.Diff([]string{"echo " + secret}, ran); diff != "" {
		t.Errorf("rollback commands (-want +got):\n%s", diff)
	}
	b, _ = os.ReadFile(path)
	if bytes.Contains(b, []byte(secret)) {
		t.Error("the rollback wrote the secret to the journal")
	}
}

func TestCreateJournalRefusesExisting(t *testing.T) {
	p := testPlan(config.OnFailureRollback, testTask("a", testHosts("h1"), "ok"))
	hdr, path, j := newJournal(t, p, "x", nil)
	closeJournal(t, j)
	if _, err := CreateJournal(path, hdr, nil); err == nil {
		t.Error("a second journal of the same run was created")
	}
	if hdr.PlanHash == "" || len(hdr.PlanHash) != 64 {
		t.Errorf("plan hash %q", hdr.PlanHash)
	}
}

// TestFileJournalConcurrentRecords: records written by many units at once
// are all in the file, each whole on its own line, and each Record returns
// only after an fsync that covers it (shared by concurrent records).
func TestFileJournalConcurrentRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs", "r.jsonl")
	j, err := CreateJournal(path, &JournalHeader{RunID: "r", Started: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := j.Record(&JournalRecord{Type: RecordUnitStarted, Task: fmt.Sprintf("t%d", i), Host: "h"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != n+1 {
		t.Fatalf("%d lines, want header + %d", len(lines), n)
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		var rec JournalRecord
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		seen[rec.Task] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct records, want %d", len(seen), n)
	}
}

// TestJournalConditionsAreNotTheRun: after a crash while a task's only_if
// ran, the journal has its pairs as having run nothing, and `fanout
// rollback` leaves them alone (it planned the task's rollback on every
// host there); once conditions_passed is recorded, the pair may have run
// and is rolled back.
func TestJournalConditionsAreNotTheRun(t *testing.T) {
	var lines []string
	synctest.Test(t, func(t *testing.T) {
		hs := testHosts("h1", "h2")
		pre := testTask("pre", hs, "ok", "ok")
		x := testTask("x", hs, "ok", "ok")
		// Both hosts start x's conditions before either ends them.
		x.OnlyIf = []string{"sleep 1s", "on h2 fail 1"}
		path, res := journalRun(t, newFake(), testPlan(config.OnFailureStop, pre, x), nil)
		if !res.OK() {
			t.Fatalf("run: %v %s", res.Status, res.Cause)
		}
		lines = journalLines(t, path)
	})
	isX := func(l string) bool {
		return !strings.Contains(l, `"type":"header"`) && strings.Contains(l, `"task":"x"`)
	}
	for _, tt := range []struct {
		name string
		// keep reports whether the journal as the crash left it
		// holds line l and goes on after it.
		keep  func(l string) (keep, more bool)
		steps []string
		hosts []string // x's rollback hosts
	}{
		{"conditions running", func(l string) (bool, bool) {
			start := !isX(l) || strings.Contains(l, `"unit_started"`)
			return start, start
		}, []string{"pre"}, nil},
		{"conditions passed on h1", func(l string) (bool, bool) {
			return true, !(isX(l) && strings.Contains(l, `"conditions_passed"`) && strings.Contains(l, `"host":"h1"`))
		}, []string{"x", "pre"}, []string{"h1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var kept []string
			for _, l := range lines {
				keep, more := tt.keep(l)
				if keep {
					kept = append(kept, l)
				}
				if !more {
					break
				}
			}
			if n := len(slices.DeleteFunc(slices.Clone(kept), func(l string) bool { return !strings.Contains(l, `"conditions":true`) })); n != 2 {
				t.Fatalf("the cut journal starts x's conditions on %d hosts, want 2", n)
			}
			cut := filepath.Join(t.TempDir(), "run.jsonl")
			if err := os.WriteFile(cut, []byte(strings.Join(kept, "")), 0o600); err != nil {
				t.Fatal(err)
			}
			rc := mustReadJournal(t, cut)
			if diff := cmp.Diff(tt.steps, stepTasks(t, rc)); diff != "" {
				t.Errorf("rollback steps (-want +got):\n%s", diff)
			}
			steps, err := rc.RollbackSteps()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range steps {
				if s.Task == "x" && !slices.Equal(s.Hosts, tt.hosts) {
					t.Errorf("x rolls back on %v, want %v", s.Hosts, tt.hosts)
				}
			}
			rres, err := rc.Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range rres.NotRolledBack {
				if strings.HasPrefix(p, "x on ") && !slices.Contains(tt.hosts, strings.TrimPrefix(p, "x on ")) {
					t.Errorf("NotRolledBack lists %q, whose task never ran", p)
				}
			}
		})
	}
}

// journalLines returns the journal's lines, each with its newline.
func journalLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestStatusSaysRollbackIncomplete: `fanout runs` tells a run that left
// hosts without a rollback it meant to run (a rollback failed: exit 4)
// from one rolled back whole, which it listed alike as "failed"; what
// on_failure = "stop" leaves is no such run, and a later `fanout
// rollback` that succeeds says "rolled back".
func TestStatusSaysRollbackIncomplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := testHosts("h1", "h2")
		for _, tt := range []struct {
			name     string
			mode     config.OnFailure
			rollback string
			want     string
		}{
			{"rolled back", config.OnFailureRollback, "ok", "failed"},
			{"a rollback failed", config.OnFailureRollback, "on h2 fail 6", "failed, rollback incomplete"},
			{"stop", config.OnFailureStop, "on h2 fail 6", "failed"},
		} {
			p := testPlan(tt.mode, testTask("a", h, "ok", tt.rollback), testTask("b", h, "on h1 fail 3", "ok"))
			path, _ := journalRun(t, newFake(), p, nil)
			if got := mustReadJournal(t, path).Status(); got != tt.want {
				t.Errorf("%s: Status() = %q, want %q", tt.name, got, tt.want)
			}
			if tt.want == "failed, rollback incomplete" {
				f := newFake()
				rollbackJournal(t, f, path, nil)
				// The fake fails a's rollback on h2 again.
				if got := mustReadJournal(t, path).Status(); got != "rollback failed" {
					t.Errorf("%s, then fanout rollback: Status() = %q, want %q", tt.name, got, "rollback failed")
				}
			}
		}

		// An abort (Ctrl-C twice) during the rollback leaves one not
		// started.
		p := testPlan(config.OnFailureRollback, testTask("a", h, "ok", "ok"), testTask("b", h, "on h1 fail 3", "sleep 30s"))
		_, path, j := newJournal(t, p, "aborted", nil)
		ts := NewTransports(newFake().launcher(), nil)
		closeTransports(t, ts)
		ctx, abort := context.WithCancel(context.Background())
		finished := make(chan struct{})
		go func() {
			defer close(finished)
			Apply(ctx, p, ApplyOptions{Transports: ts, RunID: "aborted", Journal: j})
		}()
		synctest.Wait() // in b's rollback
		abort()
		await(t, finished, time.Minute, "the aborted run")
		closeJournal(t, j)
		if got, want := mustReadJournal(t, path).Status(), "interrupted, rollback incomplete"; got != want {
			t.Errorf("aborted: Status() = %q, want %q", got, want)
		}
	})
}

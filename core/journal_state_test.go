package core

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
)

// TestStatusJournalWords: the journal's words for statuses are the ones
// journals have always held, both ways, and an unknown word is an error.
func TestStatusJournalWords(t *testing.T) {
	words := map[Status]string{StatusSkipped: "skipped", StatusOK: "ok", StatusFailed: "failed",
		StatusTimedOut: "timed out", StatusUnreachable: "unreachable", StatusInterrupted: "interrupted",
		StatusPluginCrashed: "plugin crashed"}
	for st, w := range words {
		b, err := st.MarshalText()
		if err != nil || string(b) != w {
			t.Errorf("%v.MarshalText() = %q, %v; want %q", st, b, err, w)
		}
		var back Status
		if err := back.UnmarshalText([]byte(w)); err != nil || back != st {
			t.Errorf("UnmarshalText(%q) = %v, %v", w, back, err)
		}
	}
	runWords := map[RunStatus]string{RunSucceeded: "succeeded", RunFailed: "failed", RunInterrupted: "interrupted"}
	for st, w := range runWords {
		b, err := st.MarshalText()
		if err != nil || string(b) != w {
			t.Errorf("%v.MarshalText() = %q, %v; want %q", st, b, err, w)
		}
		var back RunStatus
		if err := back.UnmarshalText([]byte(w)); err != nil || back != st {
			t.Errorf("UnmarshalText(%q) = %v, %v", w, back, err)
		}
	}
	var s Status
	if err := s.UnmarshalText([]byte("exploded")); err == nil {
		t.Error("an unknown unit status was read")
	}
	var rs RunStatus
	if err := rs.UnmarshalText([]byte("exploded")); err == nil {
		t.Error("an unknown run status was read")
	}
	if _, err := Status(42).MarshalText(); err == nil {
		t.Error("a status out of range was written")
	}
}

// writeJournal runs p with a journal and returns the journal's lines.
func writeJournal(t *testing.T, p *Plan) (string, []string) {
	t.Helper()
	path, _ := journalRun(t, newFake(), p, nil)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestJournalUnknownWordIsAnError: a whole line holding a status (or a
// phase, or a node kind) this fanout does not know is an error, in the
// middle of the journal or at its end, not a torn write nor a guess such
// as an "interrupted" run.
func TestJournalUnknownWordIsAnError(t *testing.T) {
	p := testPlan(config.OnFailureStop, testTask("a", testHosts("h1"), "fail 2", "ok"))
	for _, tc := range []struct{ name, from, to string }{
		{"unit status", `"status":"failed"`, `"status":"exploded"`},
		{"run status", `"type":"run_finished","time"`, `"type":"run_finished","status":"partly","time"`},
		{"phase", `"phase":"run"`, `"phase":"sideways"`},
		{"node kind", `"kind":"task"`, `"kind":"job"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, lines := writeJournal(t, p)
			changed := false
			for i, l := range lines {
				if !changed && strings.Contains(l, tc.from) {
					lines[i] = strings.Replace(l, tc.from, tc.to, 1)
					changed = true
				}
			}
			if !changed {
				t.Fatalf("no line holds %s:\n%s", tc.from, strings.Join(lines, ""))
			}
			if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
				t.Fatal(err)
			}
			rc, err := ReadJournal(path)
			if err == nil {
				res, _ := rc.Result()
				t.Fatalf("read; status %v, truncated %v", res.Status, rc.Truncated)
			}
			if !strings.Contains(err.Error(), "unknown") {
				t.Errorf("error %q does not say what is unknown", err)
			}
		})
	}
}

// TestJournalGroupNames: a group labelled "parallelize" keeps its name
// through the journal, an anonymous group stays anonymous, and a journal
// written before node kinds (an anonymous group stored as "parallelize")
// still reads.
func TestJournalGroupNames(t *testing.T) {
	h := testHosts("h1")
	named := testGroup("parallelize", 2, testTask("a", h, "ok", "ok"))
	anon := testGroup("", 2, testTask("b", h, "ok", "ok"))
	path, _ := writeJournal(t, testPlan(config.OnFailureStop, named, anon))
	rc := mustReadJournal(t, path)
	p, err := rc.Plan()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Roots {
		got = append(got, r.Label())
	}
	if diff := cmp.Diff([]string{"parallelize parallelize", "parallelize"}, got); diff != "" {
		t.Errorf("roots (-want +got):\n%s", diff)
	}

	old := []byte(`{"type":"header","header":{"version":1,"run_id":"old","plan":{"on_failure":"rollback",` +
		`"roots":[{"group":"parallelize","threads":2,"members":[{"task":"a"}]},{"group":"g","members":[{"task":"b"}]}],` +
		`"tasks":[{"name":"a","hosts":["h"],"run":["true"],"max_hosts":1},{"name":"b","hosts":["h"],"run":["true"],"max_hosts":1}],` +
		`"hosts":[{"name":"h","address":"h","transport":"local"}],"transports":[]}}}` + "\n" +
		`{"type":"run_started","run_id":"old"}` + "\n" +
		`{"type":"unit_started","task":"a","host":"h","phase":"run"}` + "\n" +
		`{"type":"unit_finished","task":"a","host":"h","phase":"run","result":{"status":"timed out","exit_code":-1,"command":0,"duration_ms":5}}` + "\n" +
		`{"type":"run_finished","status":"failed"}` + "\n")
	rc, err = readJournal(bytes.NewReader(old), "old.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	p, err = rc.Plan()
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range p.Roots {
		got = append(got, r.Label())
	}
	if diff := cmp.Diff([]string{"parallelize", "parallelize g"}, got); diff != "" {
		t.Errorf("old journal's roots (-want +got):\n%s", diff)
	}
	res, err := rc.Result()
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != RunFailed || res.Units[0].Run.Status != StatusTimedOut {
		t.Errorf("old journal: run %v, unit %v", res.Status, res.Units[0].Run.Status)
	}
	if st, ok := rc.Finished(); !ok || st != RunFailed {
		t.Errorf("Finished() = %v %v", st, ok)
	}
}

// TestJournalFailureAnywhereStopsTheRun: whichever record fails (not only
// a pair's start), nothing new starts, what started is rolled back, and
// the result names the journal; a failing last record, or a failing record
// of a failed preflight, is the result's JournalError too.
func TestJournalFailureAnywhereStopsTheRun(t *testing.T) {
	for _, tc := range []struct {
		name      string
		match     func(*JournalRecord) bool
		badHost   string
		ran       []string
		rolled    []string
		status    RunStatus
		causeHas  string
		preflight bool
	}{
		{name: "a pair's end", match: func(r *JournalRecord) bool { return r.Type == RecordUnitFinished && r.Task == "a" },
			ran: []string{"a"}, rolled: []string{"a"}, status: RunFailed, causeHas: "cannot write the run journal"},
		{name: "a task's completion", match: func(r *JournalRecord) bool { return r.Type == RecordCompleted && r.Task == "a" },
			ran: []string{"a"}, rolled: []string{"a"}, status: RunFailed, causeHas: "cannot write the run journal"},
		{name: "the last record", match: func(r *JournalRecord) bool { return r.Type == RecordRunFinished },
			ran: []string{"a", "b"}, status: RunSucceeded, causeHas: "last record"},
		{name: "a preflight failure", match: func(r *JournalRecord) bool { return r.Type == RecordHostError },
			badHost: "h2", preflight: true, status: RunFailed, causeHas: "preflight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.badHost != "" {
				f.badHost[tc.badHost] = "connection refused"
			}
			h := testHosts("h1", "h2")
			p := testPlan(config.OnFailureRollback, testTask("a", h, "ok", "ok"), testTask("b", h, "ok", "ok"))
			p.Preflight = tc.preflight
			j := &failingJournal{match: tc.match}
			ts := NewTransports(f.launcher(), nil)
			closeTransports(t, ts)
			res := Apply(context.Background(), p, ApplyOptions{Transports: ts, RunID: "r", Journal: j})
			if res.Status != tc.status || !strings.Contains(res.Cause, tc.causeHas) || res.JournalError == "" {
				t.Errorf("status %v cause %q journal error %q; want %v, a cause with %q, a journal error",
					res.Status, res.Cause, res.JournalError, tc.status, tc.causeHas)
			}
			if diff := cmp.Diff(tc.ran, f.startOrder("run", true)); diff != "" {
				t.Errorf("ran (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.rolled, f.startOrder("rollback", true)); diff != "" {
				t.Errorf("rolled back (-want +got):\n%s", diff)
			}
		})
	}
}

package core

import (
	"fmt"
	"testing"
	"time"

	"github.com/fanout/fanout/config"
)

// bigRecovery is the journal of a run of nt tasks, one after another, on
// the same nh hosts, each of whose commands holds a secret's placeholder,
// that finished every task.
func bigRecovery(b *testing.B, nh, nt int) *Recovery {
	var names []string
	for i := range nh {
		names = append(names, fmt.Sprintf("h%04d", i))
	}
	hs := testHosts(names...)
	var roots []Node
	for i := range nt {
		roots = append(roots, testTask(fmt.Sprintf("t%d", i), hs, "echo {{sensitive:var.token}}", "echo undo {{sensitive:var.token}}"))
	}
	p := testPlan(config.OnFailureStop, roots...)
	hdr, err := NewJournalHeader(p, "r", "/c", "t", nil)
	if err != nil {
		b.Fatal(err)
	}
	hdr.Sensitive = []string{"var.token"}
	rc := &Recovery{Header: hdr}
	now := time.Now()
	for i := range nt {
		tn := fmt.Sprintf("t%d", i)
		for _, h := range names {
			rc.Records = append(rc.Records, &JournalRecord{Type: RecordUnitStarted, Task: tn, Host: h, Phase: PhaseRun, Time: now})
		}
		for _, h := range names {
			rc.Records = append(rc.Records, &JournalRecord{Type: RecordUnitFinished, Task: tn, Host: h, Phase: PhaseRun, Time: now, Result: &JournalResult{Status: StatusOK}})
		}
		rc.Records = append(rc.Records, &JournalRecord{Type: RecordCompleted, Path: []int{i}, Time: now})
	}
	return rc
}

// BenchmarkRecoveryRebuild is what showing a journaled run costs, once,
// for 2,000 hosts x 10 tasks. It grows linearly with a task's hosts: it
// grew with their square while each started pair was looked for in the
// list of its task's started hosts (165 ms then, 43 ms after, on the
// project's 2-core VM under load).
func BenchmarkRecoveryRebuild(b *testing.B) {
	rc := bigRecovery(b, 2000, 10)
	for b.Loop() {
		if _, err := rc.rebuild(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecoveryFill is what RollbackJournal adds to that to fill the
// secrets in, where it used to replay the journal a second time.
func BenchmarkRecoveryFill(b *testing.B) {
	rc := bigRecovery(b, 2000, 10)
	rv, err := rc.rebuild()
	if err != nil {
		b.Fatal(err)
	}
	fill := secretFiller([]Secret{{Name: "var.token", Value: "s3cret-value"}})
	for b.Loop() {
		if err := rc.Header.Plan.fill(rv.plan, rv.ix, fill); err != nil {
			b.Fatal(err)
		}
	}
}

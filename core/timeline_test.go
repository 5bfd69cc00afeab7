package core

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the journals and golden files under testdata/")

// timelineJournals make the journals of the timeline's golden tests. They
// run on the fake transport in a testing/synctest bubble, so their times
// are exact; with -update they are written under testdata/timeline, and
// the test reads those files, so what it checks is a journal on disk.
var timelineJournals = map[string]func(t *testing.T) string{
	// A rollout: a canary, waves with a pause between them, a retry, a
	// check that passes on its second attempt, and a host dropped within
	// the budget, rolled back whole while the others finish.
	"waves": func(t *testing.T) string {
		hs := testHosts("h1", "h2", "h3", "h4", "h5")
		prepare := testTask("prepare", hs, "sleep 100ms", "ok")
		deploy := rolloutTask("deploy", hs, "sleep 200ms;on h4 die port 8080 in use", sizes(1, 2), config.Size{N: 1}, "sleep 50ms")
		deploy.Retries, deploy.RetryDelay, deploy.Pause = 1, 100*time.Millisecond, 500*time.Millisecond
		deploy.Check = &Check{Run: []string{"on h2 flaky 1"}, Interval: 100 * time.Millisecond, Timeout: time.Second}
		announce := testTask("announce", hs, "sleep 10ms")
		path, _ := journalRun(t, newFake(), testPlan(config.OnFailureRollback, prepare, deploy, announce), nil)
		return path
	},
	// A failure in a group: the cascade rolls back the failed task first,
	// then every task that started, newest first, inner groups whole.
	"cascade": func(t *testing.T) string {
		path, _ := journalRun(t, newFake(), cascadePlan(config.OnFailureRollback), nil)
		return path
	},
	// fanout killed mid-run: the journal stops at p's completion, with z
	// and f in flight, and a torn last line.
	"crash": func(t *testing.T) string {
		return crashedJournal(t)
	},
	// The crashed run, then `fanout rollback` of it.
	"rollback": func(t *testing.T) string {
		path := crashedJournal(t)
		rollbackJournal(t, newFake(), path, nil)
		return path
	},
}

func TestTimelineGolden(t *testing.T) {
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range timelineJournals {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			journal := filepath.Join("testdata", "timeline", name+".jsonl")
			golden := filepath.Join("testdata", "timeline", name+".golden.json")
			if *update {
				synctest.Test(t, func(t *testing.T) {
					b, err := os.ReadFile(timelineJournals[name](t))
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(journal, b, 0o644); err != nil {
						t.Fatal(err)
					}
				})
			}
			rc := mustReadJournal(t, journal)
			tl, err := rc.Timeline()
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(tl, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("timeline of %s (-want +got):\n%s", journal, diff)
			}
		})
	}
}

// A failure's last lines of stderr reach the journal, and the timeline,
// with the secrets in them hidden.
func TestJournalStderrTailHidesSecrets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const secret = "hunter2-s3cret"
		task := testTask("a", testHosts("h1"), "ok;die 401 Unauthorized for token "+secret, "ok")
		secrets := []Secret{{Name: "var.token", Value: secret}}
		path, res := journalRun(t, newFake(), testPlan(config.OnFailureRollback, task), secrets)
		if got := res.Units[0].Run.StderrTail; !slices.Equal(got, []string{"401 Unauthorized for token " + secret}) {
			t.Errorf("the result's stderr tail = %q", got)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secret) {
			t.Fatalf("the journal holds the secret:\n%s", b)
		}
		rc := mustReadJournal(t, path)
		tl, err := rc.Timeline()
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"401 Unauthorized for token {{sensitive:var.token}}"}
		for _, bar := range tl.Bars {
			if bar.Phase == PhaseRun && !slices.Equal(bar.StderrTail, want) {
				t.Errorf("the timeline's stderr tail = %q, want %q", bar.StderrTail, want)
			}
		}
	})
}

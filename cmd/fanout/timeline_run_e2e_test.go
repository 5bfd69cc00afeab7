package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/sdk/sdktest"
)

// pageTimeline reads back the timeline a page was drawn from.
func pageTimeline(t *testing.T, page string) *core.Timeline {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="timeline-data">(.*?)</script>`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no timeline data in %s", page)
	}
	var tl core.Timeline
	if err := json.Unmarshal(m[1], &tl); err != nil {
		t.Fatal(err)
	}
	return &tl
}

// TestRunsShowHTMLLiveKilledRolledBack: runs show -html draws a run in
// progress as far as its journal goes, then the same run after fanout was
// killed and `fanout rollback` undid it, the rollback's cascade apart.
func TestRunsShowHTMLLiveKilledRolledBack(t *testing.T) {
	hcl := localHosts(3) + `
task "prepare" {
  run      = "REC start"
  rollback = "REC start"
}
task "deploy" {
  run      = "REC start; if [ $FANOUT_HOST = h3 ]; then sleep 30; fi"
  rollback = "REC start"
}
`
	dir, rec := workdir(t, hcl)
	cmd, out, exited := startBackground(t, dir, startedOn(t, rec, "deploy", "h1", "h2", "h3"), "apply", "main.hcl")
	id := strings.TrimSuffix(filepath.Base(journalOf(t, dir)), ".jsonl")
	// h1 and h2 finish deploy at once; h3 sleeps. Wait until their ends
	// are journaled, then draw the run in progress.
	sdktest.Eventually(t, e2eWait, "deploy to finish on h1 and h2", func() bool {
		b, _ := os.ReadFile(journalOf(t, dir))
		return strings.Count(string(b), `"type":"unit_finished"`) >= 5
	})
	live := filepath.Join(dir, "live.html")
	if r := fanout(t, dir, "runs", "show", id, "-html", "-o", live); r.code != 0 || !strings.Contains(r.stdout, "Wrote the timeline of run "+id+" (unfinished) to "+live) {
		t.Fatalf("runs show -html during the run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	tl := pageTimeline(t, live)
	if !tl.InProgress || tl.Status != "unfinished" {
		t.Errorf("in progress: in_progress %v, status %q", tl.InProgress, tl.Status)
	}
	var open []string
	for _, b := range tl.Bars {
		if b.Open {
			open = append(open, b.Task+"/"+b.Host)
		}
	}
	if strings.Join(open, " ") != "deploy/h3" {
		t.Errorf("open bars %v, want deploy/h3 only", open)
	}

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if r := fanout(t, dir, "rollback", "-auto-approve", id); r.code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s\n%s", r.code, r.stdout, r.stderr, out)
	}
	// Without -o, the page is ID.html in the current directory.
	after := filepath.Join(dir, id+".html")
	if r := fanout(t, dir, "runs", "show", id, "-html"); r.code != 0 || !strings.Contains(r.stdout, "to "+id+".html") {
		t.Fatalf("runs show -html after the rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	tl = pageTimeline(t, after)
	if tl.InProgress || tl.Status != "rolled back" || len(tl.Recoveries) != 1 || tl.Recoveries[0].Status != "succeeded" {
		t.Errorf("after the rollback: in_progress %v, status %q, recoveries %+v", tl.InProgress, tl.Status, tl.Recoveries)
	}
	// The rollback's cascade: deploy (in flight when fanout died), then
	// prepare, each on the three hosts, all of it the recovery's.
	var steps []string
	for _, s := range tl.Cascade {
		if s.Recovery != 1 {
			t.Errorf("cascade step %+v is not the rollback's", s)
		}
		steps = append(steps, s.Task+" on "+strings.Join(slices.Sorted(slices.Values(s.Hosts)), ","))
	}
	if want := "deploy on h1,h2,h3|prepare on h1,h2,h3"; strings.Join(steps, "|") != want {
		t.Errorf("cascade %q, want %q", steps, want)
	}
	rolledBack := 0
	for _, b := range tl.Bars {
		switch {
		case b.Phase == core.PhaseRollback && b.Recovery == 1 && b.Status == "ok":
			rolledBack++
		case b.Task == "deploy" && b.Host == "h3" && b.Phase == core.PhaseRun && (!b.Open || b.Status != "unfinished"):
			t.Errorf("deploy on h3 after the kill: %+v, want open and unfinished", b)
		}
	}
	if rolledBack != 6 || tl.Recap.RolledBack != 6 {
		t.Errorf("%d rollback bars of the recovery, recap %d; want 6", rolledBack, tl.Recap.RolledBack)
	}
}

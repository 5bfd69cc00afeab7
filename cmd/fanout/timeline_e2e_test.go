package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/core"
)

// browser runs headless Chromium on a page and returns its DOM after the
// page's script ran, with the network off: in a network namespace of its
// own when unshare can make one, and always through a proxy that does not
// exist, so a page that tried to load anything would fail to. With shot
// set it takes a screenshot there instead, and returns nothing.
type browser struct {
	bin  string
	wrap []string // unshare --net, when it works
}

// newBrowser finds Chromium, or skips the test saying how to get it.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make test-deps installs Debian's): the HTML timeline was not checked in a browser")
	}
	b := &browser{bin: bin}
	if exec.Command("unshare", "--net", "true").Run() == nil {
		b.wrap = []string{"unshare", "--net"}
	}
	return b
}

func (b *browser) run(t *testing.T, url string, extra ...string) string {
	t.Helper()
	args := append(cloneStrings(b.wrap), b.bin, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--proxy-server=http://127.0.0.1:9",
		"--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir="+t.TempDir())
	args = append(append(args, extra...), url)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	return out.String()
}

func cloneStrings(ss []string) []string { return append([]string(nil), ss...) }

// dom loads the page and returns its DOM once its script has run.
func (b *browser) dom(t *testing.T, page, hash string) string {
	t.Helper()
	dom := b.run(t, "file://"+page+hash, "--dump-dom")
	if !strings.Contains(dom, `data-rendered="yes"`) {
		t.Fatalf("the page's script did not finish drawing:\n%.3000s", dom)
	}
	return dom
}

// count counts the matches of re in dom.
func count(dom, re string) int {
	return len(regexp.MustCompile(re).FindAllString(dom, -1))
}

// TestTimelineHTMLInBrowser applies examples/rolling.hcl's two failing
// variants with -html, then loads the pages in a real headless Chromium
// with the network off and checks from the DOM that it drew the rows,
// bars, waves, the drop, the first failure and the cascade. With -update
// it saves the README's screenshot of the dropped host's page.
func TestTimelineHTMLInBrowser(t *testing.T) {
	br := newBrowser(t)
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "examples", "rolling.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rolling.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("dropped host", func(t *testing.T) {
		page := filepath.Join(dir, "drop.html")
		r := fanout(t, dir, "apply", "-var", "state="+t.TempDir(), "-var", "bad_host=web05", "-html", page, "rolling.hcl")
		if r.code != 1 || !strings.Contains(r.stderr, "wrote the run's timeline to "+page) {
			t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		// runs show draws the same page from the same journal.
		id := runID(t, r.stdout)
		shown := filepath.Join(dir, "shown.html")
		if s := fanout(t, dir, "runs", "show", id, "-html", "-o", shown, "rolling.hcl"); s.code != 0 {
			t.Fatalf("runs show -html: exit %d\n%s\n%s", s.code, s.stdout, s.stderr)
		}
		a, _ := os.ReadFile(page)
		b, _ := os.ReadFile(shown)
		if !bytes.Equal(a, b) {
			t.Error("apply -html and runs show -html wrote different pages of one run")
		}

		dom := br.dom(t, page, "")
		// Folded by history: web01 (the canary), web02+web03, web04, web05
		// (dropped), web06+web07, web08 (alone in its wave), and the
		// waves' row.
		if n := count(dom, `<div class="row" data-key="web\d+"`); n != 6 {
			t.Errorf("%d folded host rows, want 6", n)
		}
		for _, want := range []string{
			`<div class="label" title="web02, web03">web02 \+1 alike</div>`,
			`data-task="restart" data-host="web05" data-phase="run" data-status="check failed"`,
			`class="flag" style="left: [0-9.]+%;">dropped</div>`,
			`id="drops"`, `web05 at \+`,
			`class="wave failed"`, `>restart 3/5</div>`, `title="restart on web05 \(run\): [^"]*not ready yet"`,
		} {
			if count(dom, want) == 0 {
				t.Errorf("the page has no %s", want)
			}
		}
		if n := count(dom, `<div class="wave( failed)?"`); n != 5 {
			t.Errorf("%d waves drawn, want 5", n)
		}
		if n := count(dom, `<div class="wave pause"`); n != 4 {
			t.Errorf("%d pauses drawn, want 4", n)
		}
		// The dropped host's rollback, newest first: restart, then stage.
		if n := count(dom, `class="bar st-ok rb"[^>]*data-host="web05" data-phase="rollback"`); n != 2 {
			t.Errorf("%d rollback bars on web05, want 2", n)
		}
		// Unfolded: a row per host, every pair that ran a bar.
		dom = br.dom(t, page, "#fold=off")
		if n := count(dom, `<div class="row" data-key="web\d+"`); n != 8 {
			t.Errorf("%d host rows unfolded, want 8", n)
		}
		// 8 stage + 8 restart runs, announce on 7 (web05 dropped), 2
		// rollbacks.
		if n := count(dom, `<div class="bar `); n != 25 {
			t.Errorf("%d bars unfolded, want 25", n)
		}
		// Per task: three rows.
		dom = br.dom(t, page, "#rows=tasks")
		if n := count(dom, `<div class="row" data-key="(stage|restart|announce)"`); n != 3 {
			t.Errorf("%d task rows, want 3", n)
		}
		// The check's last output, on click (here through the address).
		dom = br.dom(t, page, "#show=restart/web05")
		if !strings.Contains(dom, `<div id="detail">`) || !strings.Contains(dom, "<pre>not ready yet</pre>") {
			t.Errorf("the details of restart on web05 show no check output:\n%.2000s", dom[strings.Index(dom, `id="detail"`)+0:])
		}
		shot := filepath.Join(t.TempDir(), "timeline.png")
		if *update {
			shot = filepath.Join("testdata", "timeline-rolling.png")
		}
		br.run(t, "file://"+page, "--window-size=1200,580", "--hide-scrollbars", "--screenshot="+shot)
		if fi, err := os.Stat(shot); err != nil || fi.Size() < 10<<10 {
			t.Errorf("no screenshot: %v", err)
		}
	})

	t.Run("failed canary", func(t *testing.T) {
		page := filepath.Join(dir, "canary.html")
		r := fanout(t, dir, "apply", "-var", "state="+t.TempDir(), "-var", "bad_host=web01", "-html", page, "rolling.hcl")
		if r.code != 1 {
			t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		dom := br.dom(t, page, "")
		for _, want := range []string{
			`id="first-failure"`, "First failure: task restart on web01",
			`<span class="status s-failed" id="run-status">failed</span>`, `<li data-task="restart">`,
			`class="bar st-check-failed first"[^>]* title="restart on web01 \(run\): check failed[^"]*"[^>]* data-task="restart" data-host="web01"`,
			`class="flag" style="left: [0-9.]+%;">✖ first failure: restart</div>`,
		} {
			if count(dom, want) == 0 {
				t.Errorf("the page has no %s", want)
			}
		}
		// The cascade, in order: the failed task first, then stage, on
		// every host it ran on.
		steps := regexp.MustCompile(`<li data-task="(\w+)">task \w+ on ([^ ]+)`).FindAllStringSubmatch(dom, -1)
		var got []string
		for _, s := range steps {
			got = append(got, s[1]+" on "+s[2])
		}
		if want := []string{"restart on web01", "stage on web01,"}; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("cascade %q, want %q", got, want)
		}
	})
}

// fleetJournal writes the journal of a rollout over 2,000 hosts: stage on
// all, restart in 10 waves of 200 a second each with pauses between, two
// hosts of wave 3 failing, dropped and rolled back whole, then announce on
// the others. It is written record by record with the journal's types,
// as fanout writes it, only faster.
func fleetJournal(t *testing.T, path string) {
	t.Helper()
	const n, wave = 2000, 200
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var hosts []string
	var jhosts []*core.JournalHost
	for i := 1; i <= n; i++ {
		h := fmt.Sprintf("web%04d", i)
		hosts = append(hosts, h)
		jhosts = append(jhosts, &core.JournalHost{Name: h, Address: "127.0.0.1", Transport: "local"})
	}
	var tasks []*core.JournalTask
	var roots []*core.JournalNode
	for _, name := range []string{"stage", "restart", "announce"} {
		tasks = append(tasks, &core.JournalTask{Name: name, Hosts: hosts, Run: []string{"true"}, Rollback: []string{"true"}, MaxHosts: n})
		roots = append(roots, &core.JournalNode{Kind: core.NodeTask, Task: name})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Errorf("close %s: %v", path, err)
		}
	}()
	enc := json.NewEncoder(f)
	rec := func(r *core.JournalRecord) {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	ok := &core.JournalResult{Status: core.StatusOK, Command: -1, Attempts: 1}
	rec(&core.JournalRecord{Type: core.RecordHeader, Time: base, Header: &core.JournalHeader{Version: 1, RunID: "20261130T100000-f1ee7a",
		Started: base, Config: "/srv/fleet/rolling.hcl", PlanHash: "0",
		Plan: &core.JournalPlan{OnFailure: "rollback", Roots: roots, Tasks: tasks, Hosts: jhosts, Transports: []*core.JournalTransport{{Name: "local"}}}}})
	rec(&core.JournalRecord{Type: core.RecordRunStarted, Time: base, RunID: "20261130T100000-f1ee7a"})
	pair := func(task, host string, phase core.Phase, from, to int, res *core.JournalResult) {
		rec(&core.JournalRecord{Type: core.RecordUnitStarted, Time: at(from), Task: task, Host: host, Phase: phase})
		rec(&core.JournalRecord{Type: core.RecordUnitFinished, Time: at(to), Task: task, Host: host, Phase: phase, Result: res})
	}
	for _, h := range hosts {
		pair("stage", h, core.PhaseRun, 0, 100, ok)
	}
	bad := map[string]bool{"web0450": true, "web0451": true}
	start := 100
	for w := 0; w < n/wave; w++ {
		ws := hosts[w*wave : (w+1)*wave]
		rec(&core.JournalRecord{Type: core.RecordWaveStarted, Time: at(start), Task: "restart", Wave: w + 1, Waves: n / wave, Hosts: ws})
		var failed []string
		for _, h := range ws {
			if bad[h] {
				failed = append(failed, h)
				pair("restart", h, core.PhaseRun, start, start+1000, &core.JournalResult{Status: core.StatusCheckFailed, ExitCode: 1, Command: -1,
					Err: "10 attempts after 1s, the last exit 1", Attempts: 1, CheckAttempts: 10, CheckTail: []string{"connection refused"}})
				rec(&core.JournalRecord{Type: core.RecordHostDropped, Time: at(start + 1000), Task: "restart", Host: h, Reason: `task "restart" failed: check failed`})
				pair("restart", h, core.PhaseRollback, start+1000, start+1100, ok)
				pair("stage", h, core.PhaseRollback, start+1100, start+1150, ok)
				continue
			}
			pair("restart", h, core.PhaseRun, start, start+1000, ok)
		}
		start += 1200
		rec(&core.JournalRecord{Type: core.RecordWaveFinished, Time: at(start), Task: "restart", Wave: w + 1, Failed: failed})
		start += 500
	}
	for _, h := range hosts {
		if !bad[h] {
			pair("announce", h, core.PhaseRun, start, start+50, ok)
		}
	}
	rec(&core.JournalRecord{Type: core.RecordRunFinished, Time: at(start + 50), Status: core.RunPartial, Reason: "partial: 2 of 2000 hosts dropped, rolled back"})
}

// TestTimelineHTMLFleetInBrowser draws a run of 2,000 hosts: folded, the
// page has a row per history (a row per wave, and one for the two hosts
// dropped alike); unfolded, all 2,000 rows and their bars.
func TestTimelineHTMLFleetInBrowser(t *testing.T) {
	br := newBrowser(t)
	dir := t.TempDir()
	journal := filepath.Join(dir, "fleet.jsonl")
	fleetJournal(t, journal)
	page := filepath.Join(dir, "fleet.html")
	if r := fanout(t, dir, "runs", "show", journal, "-html", "-o", page); r.code != 0 {
		t.Fatalf("runs show -html: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(page); err != nil || fi.Size() > 4<<20 {
		t.Errorf("the page of 2,000 hosts: %v, %d bytes", err, fi.Size())
	}
	dom := br.dom(t, page, "")
	if n := count(dom, `<div class="row" data-key="web\d+"`); n != 11 {
		t.Errorf("%d folded rows, want 11 (10 waves, the dropped pair)", n)
	}
	if count(dom, `<div class="label" title="web0001, web0002, [^"]*">web0001 \+199 alike</div>`) != 1 ||
		count(dom, `<div class="label" title="web0450, web0451">web0450 \+1 alike</div>`) != 1 {
		t.Error("the folded rows are not labelled with their hosts")
	}
	dom = br.dom(t, page, "#fold=off")
	if n := count(dom, `<div class="row" data-key="web\d+"`); n != 2000 {
		t.Errorf("%d rows unfolded, want 2000", n)
	}
	// stage and restart on every host, announce on 1,998, two rollbacks
	// on each dropped host.
	if n := count(dom, `<div class="bar `); n != 2000+2000+1998+4 {
		t.Errorf("%d bars unfolded, want %d", n, 2000+2000+1998+4)
	}
}

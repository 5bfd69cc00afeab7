package views

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/fanout/fanout/core"
)

// testTimeline is a small failed run: a failure whose stderr and cause
// hold a secret, and its rollback.
func testTimeline(secret string) *core.Timeline {
	return &core.Timeline{
		RunID: "20261126T011105-10e5fa", Config: "/cfg/main.hcl", Status: "failed", EndMS: 1200,
		Cause: `task "deploy" failed on host web02: exit 3 (token ` + secret + `)`,
		Hosts: []string{"web01", "web02"}, Tasks: []string{"deploy"},
		Bars: []core.TimelineBar{
			{Task: "deploy", Host: "web01", Phase: core.PhaseRun, StartMS: 0, EndMS: 900, Status: "ok", Describe: "ok", Command: -1},
			{Task: "deploy", Host: "web02", Phase: core.PhaseRun, StartMS: 0, EndMS: 1000, Status: "failed", Describe: "exit 3", ExitCode: 3, Command: 1,
				StderrTail: []string{"curl: (22) 401 for " + secret, "</script><script>alert(1)</script>"}, First: true},
			{Task: "deploy", Host: "web01", Phase: core.PhaseRollback, StartMS: 1000, EndMS: 1200, Status: "ok", Describe: "ok", Command: -1},
		},
		Folds:        []core.TimelineFold{{History: "a", Hosts: []string{"web01"}}, {History: "b", Hosts: []string{"web02"}}},
		Cascade:      []core.TimelineRollback{{Step: 1, Task: "deploy", Hosts: []string{"web01", "web02"}, StartMS: 1000, EndMS: 1200}},
		FirstFailure: &core.TimelinePair{Task: "deploy", Host: "web02"},
		Recap:        core.TimelineRecap{Hosts: 2, Tasks: 1, Pairs: 2, Runs: map[string]int{"ok": 1, "failed": 1}},
	}
}

// The page loads nothing: no address, no stylesheet or script from
// elsewhere, and the Content-Security-Policy forbids every fetch.
func TestTimelineHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := TimelineHTML(&buf, testTimeline("s3cr3t-value"), Options{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"http:", "https:", "//cdn", " src=", " href=", "<link", "@import", "url(", "fetch(", "XMLHttpRequest"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q: it must load nothing", bad)
		}
	}
	if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none';`) {
		t.Error("no Content-Security-Policy forbidding fetches")
	}
	// Command output cannot end the data's script element.
	if n := strings.Count(page, "</script>"); n != 2 {
		t.Errorf("%d </script> in the page, want 2 (the data's and the script's)", n)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="timeline-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no timeline data in the page")
	}
	var back core.Timeline
	if err := json.Unmarshal([]byte(m[1]), &back); err != nil {
		t.Fatalf("the page's data: %v", err)
	}
	if back.Bars[1].StderrTail[1] != "</script><script>alert(1)</script>" || !back.Bars[1].First {
		t.Errorf("the data read back: %+v", back.Bars[1])
	}
	if len(page) > 64<<10 {
		t.Errorf("the page of a 2-host run is %d bytes; its style and script should be small", len(page))
	}
}

func TestTimelineHTMLRedacts(t *testing.T) {
	const secret = "s3cr3t-value"
	var buf bytes.Buffer
	tl := testTimeline(secret)
	if err := TimelineHTML(&buf, tl, Options{Redact: NewRedactor([]string{secret}, "web01", "web02", "deploy")}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), secret) {
		t.Error("the page shows the sensitive value")
	}
	if !strings.Contains(buf.String(), "401 for "+Redacted) || !strings.Contains(buf.String(), "(token "+Redacted+")") {
		t.Error("the page lost the redacted lines")
	}
	// The timeline given is not changed.
	if !strings.Contains(tl.Bars[1].StderrTail[0], secret) {
		t.Error("TimelineHTML redacted its argument in place")
	}
}

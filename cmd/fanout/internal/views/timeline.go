package views

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"slices"

	"github.com/fanout/fanout/core"
)

// The page's style and script, inlined into every page: the file must open
// anywhere, offline, years later, so it loads nothing.
var (
	//go:embed timeline.css
	timelineCSS string
	//go:embed timeline.js
	timelineJS string
)

// timelinePage is the page's shell: its title, style, the timeline as
// JSON, and the script that draws it. The Content-Security-Policy forbids
// every fetch, so not even a mistake in the script can reach the network.
const timelinePage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>%s</style>
</head>
<body>
<noscript>This page draws the run's timeline with JavaScript; the data is in the script element below.</noscript>
<div id="app"></div>
<script type="application/json" id="timeline-data">%s</script>
<script>%s</script>
</body>
</html>
`

// TimelineHTML writes tl as one self-contained HTML page: a timeline with a
// row per host (folded by identical history, or a row per task), bars
// coloured by outcome, the waves and pauses, the first failure, the
// rollback cascade in order, the recap's numbers, and each pair's exit
// code and last lines of stderr on hover and click. Sensitive values are
// hidden with o.Redact besides the journal's own placeholders.
func TimelineHTML(w io.Writer, tl *core.Timeline, o Options) error {
	data, err := json.Marshal(redactTimeline(tl, o.Redact))
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	// json.Marshal escapes <, > and &, so the data cannot close its script
	// element; the style and script hold no "</" (a test says so).
	title := fmt.Sprintf("fanout run %s: %s", tl.RunID, tl.Status)
	_, err = fmt.Fprintf(w, timelinePage, html.EscapeString(title), timelineCSS, data, timelineJS)
	return err
}

// redactTimeline returns a copy of tl with the redactor applied to every
// text that came from a command or a cause; names are fanout's labels.
func redactTimeline(tl *core.Timeline, rd *Redactor) *core.Timeline {
	if rd == nil {
		return tl
	}
	c := *tl
	c.Cause = rd.String(c.Cause)
	c.Bars = slices.Clone(tl.Bars)
	for i := range c.Bars {
		b := &c.Bars[i]
		b.Describe, b.Error = rd.String(b.Describe), rd.String(b.Error)
		b.StderrTail, b.CheckTail = rd.Strings(b.StderrTail), rd.Strings(b.CheckTail)
		b.Retried = slices.Clone(b.Retried)
		for j := range b.Retried {
			b.Retried[j].Describe = rd.String(b.Retried[j].Describe)
		}
	}
	c.Preflight = slices.Clone(tl.Preflight)
	for i := range c.Preflight {
		c.Preflight[i].Error = rd.String(c.Preflight[i].Error)
	}
	c.Drops = slices.Clone(tl.Drops)
	for i := range c.Drops {
		c.Drops[i].Cause = rd.String(c.Drops[i].Cause)
	}
	c.Recoveries = slices.Clone(tl.Recoveries)
	for i := range c.Recoveries {
		c.Recoveries[i].Cause = rd.String(c.Recoveries[i].Cause)
	}
	return &c
}

package views

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fanout/fanout/core"
)

// tailLines is how many last lines of a pair's output the recap keeps, and
// tailWidth how much of each: enough to read an error, never the whole log.
const (
	tailLines = 5
	tailWidth = 240
)

// Tails keeps the last few lines each (task, host, phase) wrote, per
// stream, so that the recap can show why a pair failed after its live
// output has scrolled away. Memory is bounded per pair whatever a command
// prints. Feed it every Output event; it is not safe for concurrent use.
type Tails struct {
	m map[tailKey]*tail
	// Both makes the recap show a failed pair's stdout tail beside its
	// stderr's: with -quiet, its live output was never shown. Otherwise
	// stdout's shows only when it wrote nothing to stderr.
	Both bool
}

type tailKey struct {
	task, host string
	phase      core.Phase
	stream     core.Stream
}

// tail is a ring of the last tailLines lines and the count of older ones.
type tail struct {
	lines   []string
	next    int
	dropped int
}

// NewTails returns an empty Tails.
func NewTails() *Tails { return &Tails{m: map[tailKey]*tail{}} }

// Record keeps the lines of one Output event. Only the event's last
// tailLines lines can stay, so the others are counted, never copied: a
// command printing megabytes costs a scan, not a string per line.
func (t *Tails) Record(e core.Output) {
	k := tailKey{e.Task, e.Host, e.Phase, e.Stream}
	tl := t.m[k]
	if tl == nil {
		tl = &tail{}
		t.m[k] = tl
	}
	data := bytes.TrimSuffix(e.Data, []byte("\n"))
	if total := bytes.Count(data, []byte("\n")) + 1; total > tailLines {
		i := len(data)
		for range tailLines {
			i = bytes.LastIndexByte(data[:i], '\n')
		}
		data = data[i+1:]
		tl.dropped += len(tl.lines) + total - tailLines
		tl.lines, tl.next = tl.lines[:0], 0
	}
	for line := range lines(data) {
		s := string(line)
		if len(line) > tailWidth {
			s = string(line[:tailWidth]) + "…"
		}
		if len(tl.lines) < tailLines {
			tl.lines = append(tl.lines, s)
			continue
		}
		tl.lines[tl.next] = s
		tl.next = (tl.next + 1) % tailLines
		tl.dropped++
	}
}

// Last returns the last lines a pair wrote to stderr, or to stdout when it
// wrote nothing to stderr, oldest first, with the count of earlier lines
// left out and the stream they came from.
func (t *Tails) Last(task, host string, phase core.Phase) (lines []string, dropped int, stream core.Stream) {
	if t == nil {
		return nil, 0, core.Stderr
	}
	for _, s := range []core.Stream{core.Stderr, core.Stdout} {
		if out, dropped := t.last(task, host, phase, s); len(out) > 0 {
			return out, dropped, s
		}
	}
	return nil, 0, core.Stderr
}

// last returns the last lines a pair wrote to stream s, oldest first, and
// the count of earlier ones.
func (t *Tails) last(task, host string, phase core.Phase, s core.Stream) ([]string, int) {
	tl := t.m[tailKey{task, host, phase, s}]
	if tl == nil || len(tl.lines) == 0 {
		return nil, 0
	}
	return append(slices.Clone(tl.lines[tl.next:]), tl.lines[:tl.next]...), tl.dropped
}

// failed reports whether a phase ended badly (skipped is not a failure).
func failed(r core.PhaseResult) bool {
	return r.Status != core.StatusOK && r.Status != core.StatusSkipped && r.Status != core.StatusConditionSkipped
}

// exitCode renders the exit code column: the code when a command ran to
// an exit, the signal when one killed it, "-" otherwise.
func exitCode(r core.PhaseResult) string {
	switch {
	case r.Signal != "":
		return "SIG" + r.Signal
	case r.Status == core.StatusOK, r.Status == core.StatusFailed && r.ExitCode >= 0:
		return strconv.Itoa(r.ExitCode)
	}
	return "-"
}

func duration(d time.Duration) string { return d.Round(time.Millisecond).String() }

// Summary writes the recap of a run: the pairs that failed first, each
// with the last lines it wrote; a table of every (task, host) with status,
// exit code, duration and rollback; what was rolled back and what failed
// to; and the outcome with its first cause in one sentence. tails may be
// nil.
func Summary(w io.Writer, res *core.Result, tails *Tails, o Options) {
	summary(w, res, tails, o, false)
}

// summary is Summary, or with rollback set the recap of `fanout rollback`:
// its outcome is the rollback's, not the run's.
func summary(w io.Writer, res *core.Result, tails *Tails, o Options, rollback bool) {
	var b strings.Builder
	b.WriteString("\n")
	if len(res.Preflight) > 0 {
		writePreflight(&b, res.Preflight, o)
		b.WriteString("\n")
	}
	writeFailedUnits(&b, res, tails, o)
	writeUnitTable(&b, res, o)
	writeRollout(&b, res, o)
	writeRolledBack(&b, res, o)
	if rollback {
		b.WriteString(rollbackOutcome(res, o) + "\n")
	} else {
		b.WriteString(runOutcome(res, o) + "\n")
	}
	_, _ = io.WriteString(w, b.String())
}

// writeFailedUnits writes the failures first: the first cause, then the
// others in plan order.
func writeFailedUnits(b *strings.Builder, res *core.Result, tails *Tails, o Options) {
	var fails []*core.UnitResult
	for _, u := range res.Units {
		if failed(u.Run) || (u.Rollback != nil && failed(*u.Rollback)) {
			fails = append(fails, u)
		}
	}
	slices.SortStableFunc(fails, func(a, b *core.UnitResult) int {
		return cmp.Compare(rank(res, a), rank(res, b))
	})
	if len(fails) > 0 {
		b.WriteString(paint(o.Color, ansiBold, "Failures:") + "\n")
		writeFailures(b, fails, tails, o, len(res.Units) > foldAbove)
		b.WriteString("\n")
	}
}

// writeUnitTable writes a row for each task on each host, in the order of
// the failures, or the rows folded by status past foldAbove of them.
func writeUnitTable(b *strings.Builder, res *core.Result, o Options) {
	if len(res.Units) == 0 {
		return
	}
	rows := slices.Clone(res.Units)
	slices.SortStableFunc(rows, func(a, b *core.UnitResult) int {
		return cmp.Compare(rank(res, a), rank(res, b))
	})
	if len(rows) > foldAbove {
		b.WriteString(foldedTable(rows, o))
		b.WriteString("\n")
		return
	}
	t := &table{}
	t.add("TASK", "HOST", "STATUS", "EXIT", "DURATION", "ROLLBACK")
	for _, u := range rows {
		row := unitRow(u, o)
		if slices.Contains(res.NotRolledBack, u.Task+" on "+u.Host) {
			row[len(row)-1] = paint(o.Color, ansiRed, "NOT rolled back: "+endedHow(res))
		}
		t.add(row...)
	}
	b.WriteString(t.String())
	b.WriteString("\n")
}

// unitRow is the row of the unit table for u.
func unitRow(u *core.UnitResult, o Options) []string {
	red := func(s string) string { return paint(o.Color, ansiRed, s) }
	status, dur := u.Run.Status.String(), "-"
	if u.Run.Attempts > 1 {
		status += fmt.Sprintf(" (%d attempts)", u.Run.Attempts)
	}
	if u.Run.Status != core.StatusSkipped && u.Run.Status != core.StatusConditionSkipped && !unknownDuration(u.Run) {
		dur = duration(u.Run.Duration)
	}
	switch {
	case u.Run.Status == core.StatusOK:
		status = paint(o.Color, ansiGreen, status)
	case failed(u.Run):
		status = red(status)
	default:
		status = paint(o.Color, ansiDim, status)
	}
	rb := "-"
	if u.Rollback != nil {
		rb = "rolled back, " + duration(u.Rollback.Duration)
		if failed(*u.Rollback) {
			took := ", " + duration(u.Rollback.Duration)
			if unknownDuration(*u.Rollback) {
				took = "" // fanout died while it ran: how long is not known
			}
			rb = red("FAILED: " + o.Redact.String(u.Rollback.Describe()) + took)
		}
	}
	return []string{u.Task, u.Host, status, exitCode(u.Run), dur, rb}
}

// writeRolledBack writes what was rolled back, and what failed to.
func writeRolledBack(b *strings.Builder, res *core.Result, o Options) {
	if done := rolledBack(res); len(done) > 0 {
		fmt.Fprintf(b, "Rolled back, in order: %s.\n", strings.Join(done, ", "))
	}
	if len(res.RollbackFailed) > 0 {
		// A second `fanout rollback` retries exactly the rollbacks that
		// failed: it skips only what is rolled back already.
		msg := fmt.Sprintf("Rollback FAILED for: %s. Check these hosts by hand, or run \"%s\" to try their rollback again.",
			foldTaskHosts(res.RollbackFailed), Suggest("rollback", res.RunID, o.Config))
		b.WriteString(paint(o.Color, ansiRed+ansiBold, msg) + "\n")
	}
	if len(res.NotRolledBack) > 0 {
		why, color := endedHow(res)+" before their rollback", ansiRed
		if res.NoRollback != "" {
			// The configuration's choice, not an undo cut short.
			why, color = endedHow(res), ansiYellow
		}
		msg := fmt.Sprintf("NOT rolled back (%s): %s. Run \"%s\" to roll them back.",
			why, foldTaskHosts(res.NotRolledBack), Suggest("rollback", res.RunID, o.Config))
		b.WriteString(paint(o.Color, color+ansiBold, msg) + "\n")
	}
}

// endedHow says why pairs were left without their rollback: an abort
// (Ctrl-C twice); on_failure "stop" or "continue", which roll nothing
// back; or, read back from a journal, fanout stopping (killed, or a
// rollback of its own cut short).
func endedHow(res *core.Result) string {
	switch {
	case res.NoRollback != "":
		// An abort too left them as on_failure would have.
		return fmt.Sprintf("on_failure = %q", res.NoRollback)
	case res.Aborted:
		return "aborted"
	}
	return "the run ended"
}

// runOutcome is the last line of a run's recap: how it ended, after how
// long.
func runOutcome(res *core.Result, o Options) string {
	took, rd := duration(res.Duration), o.Redact
	switch res.Status {
	case core.RunSucceeded:
		return paint(o.Color, ansiGreen+ansiBold, fmt.Sprintf("Run %s succeeded in %s.", res.RunID, took))
	case core.RunInterrupted:
		if res.Unfinished {
			// Read back from a journal fanout did not live to end: how
			// long it ran is not known, only when it last wrote.
			return paint(o.Color, ansiYellow+ansiBold, fmt.Sprintf("Run %s did not finish (its journal's last record came %s after its start): %s.", res.RunID, took, rd.String(res.Cause)))
		}
		return paint(o.Color, ansiYellow+ansiBold, fmt.Sprintf("Run %s was interrupted after %s: %s.", res.RunID, took, rd.String(res.Cause)))
	case core.RunPartial:
		return paint(o.Color, ansiYellow+ansiBold, fmt.Sprintf("Run %s finished after %s, %s.", res.RunID, took, rd.String(res.Cause)))
	default:
		return paint(o.Color, ansiRed+ansiBold, fmt.Sprintf("Run %s failed after %s: %s.", res.RunID, took, rd.String(res.Cause)))
	}
}

// rollbackOutcome is the last line of `fanout rollback`'s recap: how the
// rollback went, and what had stopped the run it undid.
func rollbackOutcome(res *core.Result, o Options) string {
	took := duration(res.Duration)
	cause := ""
	if res.Cause != "" && res.Status == core.RunSucceeded {
		cause = " The run had stopped: " + o.Redact.String(res.Cause) + "."
	}
	switch res.Status {
	case core.RunSucceeded:
		return paint(o.Color, ansiGreen+ansiBold, fmt.Sprintf("Rollback of run %s succeeded in %s.", res.RunID, took)) + cause
	case core.RunInterrupted:
		return paint(o.Color, ansiYellow+ansiBold, fmt.Sprintf("Rollback of run %s was aborted after %s.", res.RunID, took))
	}
	why := o.Redact.String(res.Cause)
	if n := len(res.RollbackFailed); n > 0 {
		why = plural(n, "rollback") + " failed"
	}
	return paint(o.Color, ansiRed+ansiBold, fmt.Sprintf("Rollback of run %s failed after %s: %s.", res.RunID, took, why))
}

// rolledBack lists the tasks whose rollback ran, in the order it ran, as
// the recap says it: a task whose rollback failed on some hosts "(not on
// HOSTS)", and one whose rollback succeeded nowhere not at all.
func rolledBack(res *core.Result) []string {
	names, failedOn := rolledBackTasks(res)
	out := make([]string, 0, len(names))
	for _, t := range names {
		if len(failedOn[t]) > 0 {
			t = fmt.Sprintf("%s (not on %s)", t, listHosts(failedOn[t]))
		}
		out = append(out, t)
	}
	return out
}

// rolledBackTasks lists the tasks of res.RolledBack whose rollback
// succeeded on at least one host, or failed on none (a rollback that had
// nothing to do), and the hosts where each failed: `-json`'s rolled_back
// and the recap's line agree on what "rolled back" means.
func rolledBackTasks(res *core.Result) (names []string, failedOn map[string][]string) {
	failedOn = map[string][]string{}
	okOn := map[string]int{}
	for _, u := range res.Units {
		switch {
		case u.Rollback == nil:
		case u.Rollback.Status == core.StatusOK:
			okOn[u.Task]++
		case failed(*u.Rollback):
			failedOn[u.Task] = append(failedOn[u.Task], u.Host)
		}
	}
	for _, t := range res.RolledBack {
		if len(failedOn[t]) == 0 || okOn[t] > 0 {
			names = append(names, t)
		}
	}
	return names, failedOn
}

// unknownDuration reports whether a phase's duration is unknown: it was
// running when fanout died, so its journal has a start and no end.
func unknownDuration(r core.PhaseResult) bool {
	return r.Status == core.StatusInterrupted && r.Duration == 0
}

// rank orders recap rows: the first failure, other failures, the rest.
func rank(res *core.Result, u *core.UnitResult) int {
	ff := res.FirstFailure
	switch {
	case ff != nil && u.Task == ff.Task && u.Host == ff.Host:
		return 0
	case failed(u.Run) || (u.Rollback != nil && failed(*u.Rollback)):
		return 1
	}
	return 2
}

// writeFailure writes one failed phase of a pair and the last lines it
// wrote, indented under it.
func writeFailure(b *strings.Builder, u *core.UnitResult, phase core.Phase, r core.PhaseResult, tails *Tails, o Options) {
	what := u.Task
	if phase == core.PhaseRollback {
		what += " (rollback)"
	}
	detail := r.Describe()
	if r.Command >= 0 && r.Status == core.StatusFailed {
		detail += fmt.Sprintf(" from command %d", r.Command+1)
	}
	// "timed out after 2s" says it already; a pair fanout died running has
	// no known duration.
	if r.Status != core.StatusTimedOut && !unknownDuration(r) {
		detail += " after " + duration(r.Duration)
	}
	fmt.Fprintf(b, "  %s %s on %s: %s\n", paint(o.Color, ansiRed, "✗"), what, u.Host, o.Redact.String(detail))
	if len(r.CheckTail) > 0 {
		fmt.Fprintf(b, "      %s\n", paint(o.Color, ansiDim, "the check's last output:"))
		for _, l := range r.CheckTail {
			fmt.Fprintf(b, "      │ %s\n", terminalSafe(o.Redact.String(l), o))
		}
		return
	}
	lines, dropped, stream := tails.Last(u.Task, u.Host, phase)
	if len(lines) == 0 && len(r.StderrTail) > 0 {
		// `fanout runs show` has no live output: the journal's tail is
		// what the recap showed (it showed no stderr at all).
		lines, dropped, stream = r.StderrTail, 0, core.Stderr
	}
	if tails != nil && tails.Both && stream == core.Stderr && len(lines) > 0 {
		// stdout's tail first, as the command wrote it before.
		out, outDropped := tails.last(u.Task, u.Host, phase, core.Stdout)
		writeTail(b, out, outDropped, core.Stdout, o)
	}
	writeTail(b, lines, dropped, stream, o)
}

// writeTail writes the last lines of one stream of a pair, under a label
// that names the stream; nothing when there are none.
func writeTail(b *strings.Builder, lines []string, dropped int, stream core.Stream, o Options) {
	if len(lines) == 0 {
		return
	}
	label := string(stream) + ":"
	if dropped > 0 {
		label = fmt.Sprintf("last %d lines of %s (%d earlier not shown):", len(lines), stream, dropped)
	}
	fmt.Fprintf(b, "      %s\n", paint(o.Color, ansiDim, label))
	for _, l := range lines {
		fmt.Fprintf(b, "      │ %s\n", terminalSafe(o.Redact.String(l), o))
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

package views

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/fanout/fanout/core"
)

// renderRollout writes the events of a rollout: waves, pauses, retries,
// check attempts and dropped hosts. A check failing once a second would
// fill a screen per host, so an attempt is shown only when it says
// something new: the first, one whose outcome or last line changed, and
// the one that passed.
func (v *ApplyHuman) renderRollout(b *bytes.Buffer, e core.Event) {
	rd := v.o.Redact
	quiet := v.o.Quiet
	switch e := e.(type) {
	case core.WaveStarted:
		v.wave = fmt.Sprintf("wave %d/%d of %s", e.Index, e.Of, e.Task)
		if !quiet {
			budget := ""
			if e.Budget > 0 {
				budget = fmt.Sprintf(", may drop %d", e.Budget)
			}
			fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiBold, fmt.Sprintf("Wave %d of %d of task %q: %s%s",
				e.Index, e.Of, e.Task, FoldHosts(e.Hosts), budget)))
		}
	case core.WaveFinished:
		v.wave = ""
		if !quiet && len(e.Failed) > 0 {
			fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiYellow, fmt.Sprintf("Wave %d of %d of task %q ended; failed on %s",
				e.Index, e.Of, e.Task, listHosts(e.Failed))))
		}
	case core.Pausing:
		v.wave = fmt.Sprintf("pausing before wave %d of %s", e.Next, e.Task)
		if !quiet {
			fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiDim, fmt.Sprintf("Pausing %s before wave %d of task %q (Ctrl-C stops and rolls back)",
				formatDuration(e.Duration), e.Next, e.Task)))
		}
	case core.AttemptFailed:
		delay := ""
		if e.Delay > 0 {
			delay = " in " + formatDuration(e.Delay)
		}
		fmt.Fprintf(b, "%s%s\n", v.prefix(e.Host, e.Task, core.PhaseRun), paint(v.o.Color, ansiYellow,
			fmt.Sprintf("↻ attempt %d of %d: %s; trying again%s", e.Attempt, e.Of, rd.String(e.Result.Describe()), delay)))
	case core.CheckAttempt:
		if v.checks == nil {
			v.checks = map[unitKey]string{}
		}
		k := unitKey{e.Task, e.Host, core.PhaseRun}
		seen := e.Result.Describe() + "\x00" + e.Last
		prev, shown := v.checks[k]
		v.checks[k] = seen
		// With -group, a line per host per attempt would be 2,000 alike:
		// the task's blocks say how each host ended, and the recap gives a
		// failed check's last output.
		if quiet || v.groups != nil || (shown && prev == seen && e.Result.Status != core.StatusOK) {
			return
		}
		what := paint(v.o.Color, ansiGreen, fmt.Sprintf("check passed (attempt %d)", e.Attempt))
		if e.Result.Status != core.StatusOK {
			what = paint(v.o.Color, ansiYellow, fmt.Sprintf("check attempt %d: %s", e.Attempt, rd.String(e.Result.Describe())))
			if e.Last != "" {
				what += paint(v.o.Color, ansiDim, ": "+terminalSafe(rd.String(e.Last), v.o.Options))
			}
		}
		fmt.Fprintf(b, "%s%s\n", v.prefix(e.Host, e.Task, core.PhaseRun), what)
	case core.HostDropped:
		fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiYellow+ansiBold, fmt.Sprintf("Dropping host %s within the failure budget: %s; rolling back what ran there",
			e.Host, rd.String(e.Cause))))
	case core.BudgetExceeded:
		fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiRed+ansiBold, fmt.Sprintf("Wave %d of %d of task %q failed on %s, over its budget of %d: the task fails",
			e.Index, e.Of, e.Task, listHosts(e.Failed), e.Budget)))
	case core.HostSkipped:
		// Its pair will not run: no longer pending on the status line, nor
		// awaited by -group before it shows the task.
		v.total--
		if v.groups != nil {
			v.groups.expected[phaseKey{e.Task, core.PhaseRun}]--
			v.writeGroups(b, v.groups.ready(false))
		}
		if !quiet {
			fmt.Fprintf(b, "%s%s\n", v.prefix(e.Host, e.Task, core.PhaseRun), paint(v.o.Color, ansiDim, "- skipped: "+rd.String(e.Reason)))
		}
	}
}

// writeRollout writes the recap's waves and dropped hosts.
func writeRollout(b *strings.Builder, res *core.Result, o Options) {
	if len(res.Waves) > 0 {
		b.WriteString(paint(o.Color, ansiBold, "Waves:") + "\n")
		for _, w := range res.Waves {
			state := "done in " + duration(w.Duration)
			if !w.Finished {
				state = "stopped"
			}
			failed := ""
			if len(w.Failed) > 0 {
				failed = "; failed on " + listHosts(w.Failed)
			}
			fmt.Fprintf(b, "  %s %d/%d  %s  (%s%s)\n", w.Task, w.Index, w.Of, FoldHosts(w.Hosts), state, failed)
		}
		b.WriteString("\n")
	}
	if len(res.Dropped) > 0 {
		heading := "Dropped hosts (rolled back whole):"
		if slices.ContainsFunc(res.Dropped, func(d core.DroppedHost) bool {
			return d.RollbackFailed() || len(d.NotRolledBack) > 0 || len(d.Unfinished) > 0
		}) {
			heading = "Dropped hosts:"
		}
		b.WriteString(paint(o.Color, ansiBold, heading) + "\n")
		for _, d := range res.Dropped {
			var parts []string
			red := func(s string) { parts = append(parts, paint(o.Color, ansiRed, s)) }
			if len(d.FailedRollbacks) > 0 {
				red("the rollback of " + strings.Join(d.FailedRollbacks, ", ") + " FAILED")
			}
			if len(d.RolledBack) > 0 {
				parts = append(parts, "rolled back "+strings.Join(d.RolledBack, ", "))
			}
			if len(d.Unfinished) > 0 {
				red("its rollback did not finish: " + strings.Join(d.Unfinished, ", "))
			}
			if len(d.NotRolledBack) > 0 {
				red("NOT rolled back: " + strings.Join(d.NotRolledBack, ", "))
			}
			if len(parts) == 0 {
				parts = []string{"nothing to roll back"}
			}
			fmt.Fprintf(b, "  %s %s: %s; %s\n", paint(o.Color, ansiYellow, "-"), d.Host, o.Redact.String(d.Cause), strings.Join(parts, "; "))
		}
		b.WriteString("\n")
	}
}

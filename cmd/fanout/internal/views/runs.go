package views

import (
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fanout/fanout/core"
)

// RunEntry is one journal in `fanout runs`.
type RunEntry struct {
	ID      string
	File    string
	Started time.Time
	// Status is core.Recovery's Status, or why the journal is unreadable.
	Status string
	// Command is the run's: apply or exec ("-" when unreadable).
	Command string
}

// Runs lists past runs, oldest first, as a table.
func Runs(w io.Writer, dir string, runs []RunEntry, o Options) {
	if len(runs) == 0 {
		_, _ = fmt.Fprintf(w, "No runs recorded in %s.\n", dir)
		return
	}
	t := &table{}
	t.add(paint(o.Color, ansiBold, "RUN ID"), paint(o.Color, ansiBold, "STARTED"), paint(o.Color, ansiBold, "COMMAND"), paint(o.Color, ansiBold, "STATUS"), paint(o.Color, ansiBold, "FILE"))
	for _, r := range runs {
		started := "-"
		if !r.Started.IsZero() {
			started = r.Started.Local().Format(time.DateTime)
		}
		status := r.Status
		switch {
		case strings.HasSuffix(status, "rollback incomplete"):
			// Hosts left half undone: someone must look at them.
			status = paint(o.Color, ansiRed, status)
		case status != "succeeded" && status != "rolled back":
			status = paint(o.Color, ansiYellow, status)
		}
		t.add(r.ID, started, cmp.Or(r.Command, "-"), status, r.File)
	}
	_, _ = io.WriteString(w, t.String())
}

// RunHeader introduces `fanout runs show` and `fanout rollback`: the run,
// its configuration and plan, and its state.
func RunHeader(w io.Writer, rc *core.Recovery, o Options) {
	h := rc.Header
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", paint(o.Color, ansiBold, "Run"), h.RunID)
	fmt.Fprintf(&b, "  configuration: %s\n", h.Config)
	fmt.Fprintf(&b, "  plan:          sha256 %s\n", h.PlanHash)
	fmt.Fprintf(&b, "  started:       %s\n", h.Started.Local().Format(time.DateTime))
	fmt.Fprintf(&b, "  status:        %s\n", rc.Status())
	fmt.Fprintf(&b, "  journal:       %s\n", rc.Path)
	if rc.Truncated {
		fmt.Fprintln(&b, "  (its last line was cut short, as a crash mid-write leaves it; that line is ignored)")
	}
	_, _ = io.WriteString(w, b.String())
}

// RollbackPlan shows what `fanout rollback` will do, in order, before it
// does it: each task with its hosts and commands; tasks without a
// rollback, and hosts rolled back already, are named as skipped. It
// returns how many (task, host) pairs will be rolled back, on how many
// hosts.
func RollbackPlan(w io.Writer, steps []core.RollbackStep, o Options) (todo, hosts int) {
	seen := map[string]bool{}
	rd := o.Redact
	var b strings.Builder
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, paint(o.Color, ansiBold, "Rollback plan")+" (in this order, one task at a time):")
	n := 0
	for _, s := range steps {
		switch {
		case len(s.Hosts) == 0 && len(s.Done) > 0:
			fmt.Fprintf(&b, "  - task %s: rolled back already on %s\n", s.Task, listHosts(s.Done))
		case len(s.Hosts) == 0:
			continue
		case len(s.Commands) == 0:
			fmt.Fprintf(&b, "  - task %s: no rollback command, skipped (%s)\n", s.Task, listHosts(s.Hosts))
		default:
			n++
			todo += len(s.Hosts)
			for _, h := range s.Hosts {
				seen[h] = true
			}
			fmt.Fprintf(&b, "  %d. task %s on %s (at most %d at once)\n", n, s.Task, listHosts(s.Hosts), s.MaxHosts)
			if s.ByHost == nil {
				for _, c := range s.Commands {
					fmt.Fprintf(&b, "       $ %s\n", rd.String(c))
				}
			}
			for _, g := range s.ByHost {
				fmt.Fprintf(&b, "       on %s:\n", listHosts(g.Hosts))
				for _, c := range g.Commands {
					fmt.Fprintf(&b, "         $ %s\n", rd.String(c))
				}
			}
			if len(s.Done) > 0 {
				fmt.Fprintf(&b, "       rolled back already on %s: skipped there\n", listHosts(s.Done))
			}
		}
	}
	if todo == 0 {
		fmt.Fprintln(&b, "  nothing to roll back")
	}
	_, _ = io.WriteString(w, b.String())
	return todo, len(seen)
}

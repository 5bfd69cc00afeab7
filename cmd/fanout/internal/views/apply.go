package views

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fanout/fanout/core"
)

// ApplyHuman renders a run for a person: each output line prefixed by host
// and task, a line when a pair starts and ends, the stop and rollback
// announcements, and a summary table at the end. It is a core.Observer.
type ApplyHuman struct {
	out   io.Writer
	color bool
	hostW int
	taskW int
}

var _ core.Observer = (*ApplyHuman)(nil)

// NewApplyHuman returns a view writing to out, with columns sized for the
// plan's host and task names.
func NewApplyHuman(out io.Writer, p *core.Plan, color bool) *ApplyHuman {
	v := &ApplyHuman{out: out, color: color}
	for _, h := range p.Hosts {
		v.hostW = max(v.hostW, len(h.Name))
	}
	p.Walk(func(t *core.TaskNode) {
		v.taskW = max(v.taskW, len(t.Name)+len(" (rollback)"))
	})
	return v
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

func (v *ApplyHuman) paint(code, s string) string {
	if !v.color {
		return s
	}
	return code + s + ansiReset
}

func (v *ApplyHuman) prefix(host, task string, phase core.Phase) string {
	if phase == core.PhaseRollback {
		task += " (rollback)"
	}
	return fmt.Sprintf("%-*s │ %-*s │ ", v.hostW, host, v.taskW, task)
}

// Event implements core.Observer.
func (v *ApplyHuman) Event(e core.Event) {
	switch e := e.(type) {
	case core.RunStarted:
		fmt.Fprintf(v.out, "fanout apply: run %s, %s on %s\n", e.RunID, plural(e.Units, "run"), plural(e.Hosts, "host"))
	case core.HostConnected:
		if e.Err != "" {
			fmt.Fprintf(v.out, "%s%s\n", v.prefix(e.Host, "connect", core.PhaseRun), v.paint(ansiRed, "✗ "+e.Err))
		}
	case core.UnitStarted:
		fmt.Fprintf(v.out, "%s%s\n", v.prefix(e.Host, e.Task, e.Phase), v.paint(ansiDim, "started"))
	case core.Output:
		v.output(e)
	case core.UnitFinished:
		r := e.Result
		mark, code := "✓ ", ansiGreen
		if r.Status != core.StatusOK {
			mark, code = "✗ ", ansiRed
		}
		fmt.Fprintf(v.out, "%s%s (%s)\n", v.prefix(e.Host, e.Task, e.Phase), v.paint(code, mark+r.Describe()), r.Duration.Round(time.Millisecond))
	case core.Stopping:
		then := "no rollback (on_failure)"
		if e.Rollback {
			then = "rolling back what started once running work ends"
		}
		fmt.Fprintf(v.out, "%s\n", v.paint(ansiYellow+ansiBold, fmt.Sprintf("Stopping: %s; starting nothing new, %s.", e.Reason, then)))
	case core.RollbackStarted:
		fmt.Fprintf(v.out, "%s\n", v.paint(ansiYellow, fmt.Sprintf("Rolling back task %q on %s", e.Task, strings.Join(e.Hosts, ", "))))
	case core.RollbackFinished:
		if len(e.Failed) > 0 {
			fmt.Fprintf(v.out, "%s\n", v.paint(ansiRed, fmt.Sprintf("Rollback of task %q failed on %s", e.Task, strings.Join(e.Failed, ", "))))
		}
	case core.RunFinished:
		Summary(v.out, e.Result, v.color)
	}
}

func (v *ApplyHuman) output(e core.Output) {
	p := v.prefix(e.Host, e.Task, e.Phase)
	if e.Stream == core.Stderr {
		p = strings.TrimSuffix(p, "│ ") + v.paint(ansiRed, "!") + " "
	}
	data := e.Data
	var buf bytes.Buffer
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		buf.WriteString(p)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	_, _ = v.out.Write(buf.Bytes())
}

// Summary writes the closing table (task x host: run status, exit code,
// rollback, duration) and the run's outcome in one sentence.
func Summary(w io.Writer, res *core.Result, color bool) {
	fmt.Fprintln(w)
	if len(res.Preflight) > 0 {
		fmt.Fprintf(w, "Preflight failed on %s; nothing was run:\n", plural(len(res.Preflight), "host"))
		for _, h := range res.Preflight {
			fmt.Fprintf(w, "  %s: %s\n", h.Host, h.Err)
		}
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tHOST\tRUN\tROLLBACK\tDURATION")
	for _, u := range res.Units {
		rb := "-"
		if u.Rollback != nil {
			rb = u.Rollback.Describe()
			if u.Rollback.Status == core.StatusOK {
				rb = "rolled back"
			}
		}
		dur := "-"
		if u.Run.Status != core.StatusSkipped {
			dur = u.Run.Duration.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Task, u.Host, u.Run.Describe(), rb, dur)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)

	took := res.Duration.Round(time.Millisecond)
	switch res.Status {
	case core.RunSucceeded:
		fmt.Fprintf(w, "Run %s succeeded in %s.\n", res.RunID, took)
		return
	case core.RunInterrupted:
		fmt.Fprintf(w, "Run %s was interrupted after %s: %s.\n", res.RunID, took, res.Cause)
	default:
		fmt.Fprintf(w, "Run %s failed after %s: %s.\n", res.RunID, took, res.Cause)
	}
	if len(res.RolledBack) > 0 {
		fmt.Fprintf(w, "Rolled back, in order: %s.\n", strings.Join(res.RolledBack, ", "))
	}
	if len(res.RollbackFailed) > 0 {
		msg := fmt.Sprintf("Rollback FAILED for: %s. Check these hosts by hand.", strings.Join(res.RollbackFailed, ", "))
		if color {
			msg = ansiRed + ansiBold + msg + ansiReset
		}
		fmt.Fprintln(w, msg)
	}
}

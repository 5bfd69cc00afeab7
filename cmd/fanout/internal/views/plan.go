package views

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/core"
)

// PlanHuman writes the plan as a tree a person reads before applying it:
// every group with its threads, every task with its hosts, exact commands,
// rollback, environment and limits, then the totals and transports.
// Sensitive values are redacted.
func PlanHuman(w io.Writer, source string, p *core.Plan, o Options) {
	var b strings.Builder
	pw := &planWriter{w: &b, rd: o.Redact}
	fmt.Fprintf(&b, "fanout plan: %s\n\n", source)
	for i, r := range p.Roots {
		if i > 0 {
			fmt.Fprintln(&b)
		}
		pw.node(r, "", "", true)
	}

	sum := planSummary(p)
	fmt.Fprintln(&b)
	fmt.Fprintf(&b, "Plan: %s in %s, %s on %s; %d with a rollback.\n",
		plural(sum.Tasks, "task"), plural(len(p.Roots), "root"), plural(sum.Pairs, "run"), plural(sum.Hosts, "host"), sum.WithRollback)
	pre := "on"
	if !p.Preflight {
		pre = "off"
	}
	fmt.Fprintf(&b, "On failure: %s. Preflight: %s.\n", p.OnFailure, pre)
	if sel := selection(p); sel != "" {
		fmt.Fprintf(&b, "Selected by %s: %d of %s; left out: %s.\n", sel, len(p.Hosts),
			plural(len(p.Hosts)+len(p.Unselected), "host"), listHosts(p.Unselected))
	}
	planTransports(&b, p.Transports, o)
	planHostSettings(&b, p, o.Redact)
	planHostVars(&b, p, o.Redact)
	fmt.Fprintln(&b, "Nothing has run. `fanout apply` runs this plan.")
	_, _ = io.WriteString(w, b.String())
}

type planWriter struct {
	w  *strings.Builder
	rd *Redactor
}

// node writes n with the tree prefix of its line (first) and of the lines
// below it (rest).
func (pw *planWriter) node(n core.Node, first, rest string, root bool) {
	switch n := n.(type) {
	case *core.Group:
		name := "parallelize"
		if n.Name != "" {
			name = fmt.Sprintf("parallelize %q", n.Name)
		}
		fmt.Fprintf(pw.w, "%s%s  (threads = %d)\n", first, name, n.Threads)
		for i, m := range n.Members {
			if i == len(n.Members)-1 {
				pw.node(m, rest+"└── ", rest+"    ", false)
			} else {
				pw.node(m, rest+"├── ", rest+"│   ", false)
			}
		}
	case *core.TaskNode:
		var limits []string
		limits = append(limits, "on "+plural(len(n.Hosts), "host"))
		if len(n.Waves) > 1 {
			limits = append(limits, plural(len(n.Waves), "wave"))
		}
		if n.MaxHosts < widestWave(n) {
			limits = append(limits, fmt.Sprintf("max_hosts = %d", n.MaxHosts))
		}
		if n.Timeout > 0 {
			limits = append(limits, "timeout = "+formatDuration(n.Timeout))
		}
		if n.SudoUser != "" {
			limits = append(limits, "as "+n.SudoUser+" via sudo")
		}
		fmt.Fprintf(pw.w, "%stask %q  (%s)\n", first, n.Name, strings.Join(limits, ", "))
		body := rest + "    "
		if root {
			body = rest + "  "
		}
		if n.Description != "" {
			pw.field(body, "about", n.Description)
		}
		pw.transfers(body, n)
		if n.PerHost != nil {
			pw.perHost(body, n)
		} else {
			pw.commands(body, "run", n.Run)
		}
		if n.PerHost != nil {
			// perHost wrote them.
		} else if len(n.Rollback) == 0 {
			pw.field(body, "rollback", "(none)")
		} else {
			pw.commands(body, "rollback", n.Rollback)
		}
		if len(n.Env) > 0 && n.PerHost == nil {
			keys := make([]string, 0, len(n.Env))
			for k := range n.Env {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for i, k := range keys {
				label := ""
				if i == 0 {
					label = "env"
				}
				pw.field(body, label, fmt.Sprintf("%s=%q", k, n.Env[k]))
			}
		}
		pw.rollout(body, n)
		if len(n.Waves) > 1 {
			for i, w := range n.Waves {
				label := ""
				if i == 0 {
					label = "waves"
				}
				budget := ""
				if w.Budget > 0 {
					budget = fmt.Sprintf(" (may drop %d)", w.Budget)
				}
				pw.field(body, label, fmt.Sprintf("%d. %s%s", i+1, hostList(w.Hosts), budget))
			}
			return
		}
		pw.field(body, "hosts", hostList(n.Hosts))
	}
}

// rollout writes a task's rollout settings, those it has.
func (pw *planWriter) rollout(prefix string, n *core.TaskNode) {
	pw.commands(prefix, "only_if", n.OnlyIf)
	pw.commands(prefix, "unless", n.Unless)
	if c := n.Check; c != nil {
		if perHostCheck(n) {
			pw.field(prefix, "check", "per host, above")
		} else {
			pw.commands(prefix, "check", c.Run)
		}
		pw.field(prefix, "", fmt.Sprintf("every %s, for at most %s", formatDuration(c.Interval), formatDuration(c.Timeout)))
	}
	if n.Retries > 0 {
		retry := plural(n.Retries, "retry")
		if n.Retries > 1 {
			retry = fmt.Sprintf("%d retries", n.Retries)
		}
		if n.RetryDelay > 0 {
			retry += ", " + formatDuration(n.RetryDelay) + " apart"
		}
		pw.field(prefix, "retries", retry)
	}
	if len(n.Batch) > 0 {
		var sizes []string
		for _, b := range n.Batch {
			sizes = append(sizes, b.String())
		}
		batch := "[" + strings.Join(sizes, ", ") + "]"
		if n.Pause > 0 {
			batch += ", pause " + formatDuration(n.Pause)
		}
		pw.field(prefix, "batch", batch)
	}
	if n.MaxFailures != (config.Size{}) {
		pw.field(prefix, "budget", "max_failures = "+n.MaxFailures.String()+" per wave; a failed host is rolled back whole and dropped")
	}
}

func hostNames(hosts []*core.Host) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = h.Name
	}
	return out
}

// widestWave is the size of a task's largest wave.
func widestWave(n *core.TaskNode) int {
	w := len(n.Hosts)
	if len(n.Waves) > 0 {
		w = 0
		for _, wv := range n.Waves {
			w = max(w, len(wv.Hosts))
		}
	}
	return w
}

func (pw *planWriter) commands(prefix, label string, cmds []string) {
	for i, c := range cmds {
		l := ""
		if i == 0 {
			l = label
		}
		if len(cmds) > 1 {
			c = fmt.Sprintf("%d. %s", i+1, c)
		}
		pw.field(prefix, l, c)
	}
}

// field writes "label  value", indenting the continuation lines of a
// multi-line value under its first line.
func (pw *planWriter) field(prefix, label, value string) {
	value = pw.rd.String(value)
	lines := strings.Split(strings.TrimRight(value, "\n"), "\n")
	for i, l := range lines {
		if i == 0 {
			fmt.Fprintf(pw.w, "%s%-9s %s\n", prefix, label, l)
		} else {
			fmt.Fprintf(pw.w, "%s%-9s %s\n", prefix, "", l)
		}
	}
}

// formatDuration prints durations as they are written in HCL ("2m", "90s").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// selection is "-limit web* -exclude web3" as the plan was built, or "".
func selection(p *core.Plan) string {
	var parts []string
	for _, l := range p.Limit {
		parts = append(parts, "-limit "+l)
	}
	for _, e := range p.Exclude {
		parts = append(parts, "-exclude "+e)
	}
	return strings.Join(parts, " ")
}

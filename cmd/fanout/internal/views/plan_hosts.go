package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/fanout/fanout/core"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// foldAbove is how many rows (hosts of a task in a plan, rows of a recap)
// are shown one by one; past it, hosts that agree are shown as one row
// with their host set, so a fleet of 2,000 reads in a screen.
const foldAbove = 20

// hostList writes the hosts of a task: by name when there are a few, as
// a nodeset with a count past foldAbove ("web[01-40],db[01-20] (60)").
func hostList(hosts []*core.Host) string {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	return hostNames(names)
}

// planHostVars writes the vars of the plan's hosts, one line per distinct
// set of vars with the hosts that have it, in the order of their first
// host. Hosts without vars are not listed; nothing is written when none
// has any.
//
// TODO(fleets): once commands read target.vars, plan shows the values per
// host where they are used, and this section may go.
func planHostVars(w io.Writer, p *core.Plan, rd *Redactor) {
	if p.Config == nil {
		return
	}
	planned := make(map[string]bool, len(p.Hosts))
	for _, h := range p.Hosts {
		planned[h.Name] = true
	}
	type row struct {
		vars  string
		hosts []string
	}
	var rows []*row
	byVars := map[string]*row{}
	for _, h := range p.Config.Hosts {
		if !planned[h.Name] || h.Vars == cty.NilVal || h.Vars.IsNull() || h.Vars.LengthInt() == 0 {
			continue
		}
		text := varsText(h.Vars, rd)
		r := byVars[text]
		if r == nil {
			r = &row{vars: text}
			byVars[text] = r
			rows = append(rows, r)
		}
		r.hosts = append(r.hosts, h.Name)
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "Host vars:")
	width := 0
	labels := make([]string, len(rows))
	for i, r := range rows {
		labels[i] = FoldHosts(r.hosts)
		width = max(width, len(labels[i]))
	}
	for i, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, labels[i], r.vars)
	}
}

// varsText writes an object of vars as "a = 1, b = \"x\"", names sorted.
func varsText(v cty.Value, rd *Redactor) string {
	var parts []string
	for it := v.ElementIterator(); it.Next(); { // names in lexical order
		k, ev := it.Element()
		val := "(known after apply)"
		if ev.IsWhollyKnown() {
			val = strings.TrimSpace(string(hclwrite.TokensForValue(ev).Bytes()))
		}
		parts = append(parts, k.AsString()+" = "+val)
	}
	return rd.String(strings.Join(parts, ", "))
}

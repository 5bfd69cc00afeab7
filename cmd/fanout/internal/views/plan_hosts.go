package views

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fanout/fanout/core"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// foldAbove is how many rows (hosts of a task in a plan, rows of a recap)
// are shown one by one; past it, hosts that agree are shown as one row
// with their host set, so a fleet of 2,000 reads in a screen.
const foldAbove = 20

// hostList writes the hosts of a task: by name when there are a few, as
// a nodeset with a count past foldAbove ("web[01-40],db[01-20] (60)").
func hostList(hosts []*core.Host) string {
	return listHosts(hostNames(hosts))
}

// planHostVars writes the vars of the plan's hosts, one line per distinct
// set of vars with the hosts that have it, in the order of their first
// host. Hosts without vars are not listed; nothing is written when none
// has any.
//
// TODO(fleets): once commands read target.vars, plan shows the values per
// host where they are used, and this section may go.
func planHostVars(w *strings.Builder, p *core.Plan, rd *Redactor) {
	vars := hostVars(p)
	type row struct {
		vars  string
		hosts []string
	}
	var rows []*row
	byVars := map[string]*row{}
	for _, h := range p.Hosts {
		v, ok := vars[h.Name]
		if !ok {
			continue
		}
		text := varsText(v, rd)
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
	// Vars that differ on every host of a fleet would be a line each:
	// the first ones show what they are, -json has them all.
	more := 0
	if len(rows) > foldAbove {
		rows, more = rows[:foldAbove], len(rows)-foldAbove
	}
	width := 0
	labels := make([]string, len(rows))
	for i, r := range rows {
		labels[i] = FoldHosts(r.hosts)
		width = max(width, len(labels[i]))
	}
	for i, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, labels[i], r.vars)
	}
	if more > 0 {
		fmt.Fprintf(w, "  and %d more sets of vars; fanout plan -json lists every host's\n", more)
	}
}

// hostVars are the vars of the plan's hosts that set any, by name.
func hostVars(p *core.Plan) map[string]cty.Value {
	out := map[string]cty.Value{}
	if p.Config == nil {
		return out
	}
	for _, h := range p.Config.Hosts {
		if h.Vars != cty.NilVal && !h.Vars.IsNull() && h.Vars.LengthInt() > 0 {
			out[h.Name] = h.Vars
		}
	}
	return out
}

// varsJSON is vars as JSON, redacted; nil for none.
func varsJSON(v cty.Value, rd *Redactor) json.RawMessage {
	if v == cty.NilVal || !v.IsWhollyKnown() {
		return nil
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil
	}
	// A redacted string stays a JSON string: the placeholder holds no
	// quote or backslash.
	return json.RawMessage(rd.String(string(b)))
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

package views

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/sdk"
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
	planHostRows(w, p, "Host vars:", "sets of vars", func(h *core.Host) string {
		v, ok := vars[h.Name]
		if !ok {
			return ""
		}
		return varsText(v, rd)
	})
}

// planHostSettings writes the settings host blocks give their transport
// (a port, a user, raw = true: how commands reach them), as planHostVars
// writes vars; the transport blocks' own are under Transports.
func planHostSettings(w *strings.Builder, p *core.Plan, rd *Redactor) {
	schemas := hostSchemas(p)
	planHostRows(w, p, "Host settings:", "sets of settings", func(h *core.Host) string {
		return hostSettingsText(h.Config, schemas[h.Transport], rd)
	})
}

// hostSettingsText writes a host's set settings as "port = 2222, raw =
// true", in its transport's schema order; a sensitive one as Redacted.
func hostSettingsText(config cty.Value, attrs []sdk.Attribute, rd *Redactor) string {
	var parts []string
	for _, st := range core.SchemaSettings(attrs, config) {
		if !st.Value.IsNull() {
			parts = append(parts, st.Name+" = "+settingText(st, rd))
		}
	}
	return strings.Join(parts, ", ")
}

// hostSchemas are the host schemas of the plan's transports, by name.
func hostSchemas(p *core.Plan) map[string][]sdk.Attribute {
	schemas := map[string][]sdk.Attribute{}
	for _, t := range p.Transports {
		if t.Plugin != nil {
			schemas[t.Name] = t.Plugin.HostSchema.Attributes
		}
	}
	return schemas
}

// planHostRows writes, under title, one line per distinct text of the
// plan's hosts with the hosts that have it, in the order of their first
// host; hosts whose text is "" are not listed, and nothing is written
// when none has one.
func planHostRows(w *strings.Builder, p *core.Plan, title, what string, text func(*core.Host) string) {
	type row struct {
		text  string
		hosts []string
	}
	var rows []*row
	byText := map[string]*row{}
	for _, h := range p.Hosts {
		t := text(h)
		if t == "" {
			continue
		}
		r := byText[t]
		if r == nil {
			r = &row{text: t}
			byText[t] = r
			rows = append(rows, r)
		}
		r.hosts = append(r.hosts, h.Name)
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	// Values that differ on every host of a fleet would be a line each:
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
		fmt.Fprintf(w, "  %-*s  %s\n", width, labels[i], r.text)
	}
	if more > 0 {
		fmt.Fprintf(w, "  and %d more %s; fanout plan -json lists every host's\n", more, what)
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
			val = hclText(ev)
		}
		parts = append(parts, hclName(k.AsString())+" = "+val)
	}
	return rd.String(strings.Join(parts, ", "))
}

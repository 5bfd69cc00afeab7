package views

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/fanout/fanout/core"
)

// planTransports writes the plan's transports with their settings, as the
// plugins' schemas decoded them; attributes a plugin declares sensitive
// show as Redacted, and sensitive variables are redacted too:
//
//	Transports:
//	  echo  (plugin 0.1.0, 1 host)
//	    greeting = "hi"
//	    token    = (sensitive)
//	  local  (plugin 0.1.0, 2 hosts, default settings)
func planTransports(w *strings.Builder, ts []*core.TransportPlan, o Options) {
	if len(ts) == 0 {
		return
	}
	fmt.Fprintln(w, "Transports:")
	for _, t := range ts {
		var set []core.Setting
		width := 0
		for _, s := range t.Attributes() {
			if !s.Value.IsNull() {
				set = append(set, s)
				width = max(width, len(s.Name))
			}
		}
		about := []string{}
		if t.Plugin != nil && t.Plugin.Version != "" {
			about = append(about, "plugin "+t.Plugin.Version)
		}
		about = append(about, plural(t.Hosts, "host"))
		if len(set) == 0 {
			about = append(about, "default settings")
		}
		fmt.Fprintf(w, "  %s  (%s)\n", t.Name, strings.Join(about, ", "))
		for _, s := range set {
			fmt.Fprintf(w, "    %-*s = %s\n", width, s.Name, settingText(s, o.Redact))
		}
	}
}

// settingText renders a setting as HCL would write it, or Redacted.
func settingText(s core.Setting, rd *Redactor) string {
	if s.Sensitive {
		return Redacted
	}
	if !s.Value.IsWhollyKnown() {
		return "(known after apply)"
	}
	return rd.String(hclText(s.Value))
}

// transportSettingsJSON returns the transport's set settings for a JSON
// view: each value as cty's JSON, a sensitive one as the string Redacted,
// with the names of the sensitive ones listed apart so that a program need
// not compare strings.
func transportSettingsJSON(t *core.TransportPlan, rd *Redactor) (settings map[string]json.RawMessage, sensitive []string) {
	return settingsJSON(t.Attributes(), rd)
}

// settingsJSON returns the set ones of attrs as transportSettingsJSON
// does.
func settingsJSON(attrs []core.Setting, rd *Redactor) (settings map[string]json.RawMessage, sensitive []string) {
	settings = map[string]json.RawMessage{}
	sensitive = []string{}
	for _, s := range attrs {
		if s.Value.IsNull() {
			continue
		}
		if s.Sensitive {
			sensitive = append(sensitive, s.Name)
			settings[s.Name] = json.RawMessage(`"` + Redacted + `"`)
			continue
		}
		b, err := ctyjson.Marshal(s.Value, s.Value.Type())
		if err != nil || !s.Value.IsWhollyKnown() {
			b, _ = json.Marshal(settingText(s, rd))
		} else if s.Value.Type() == cty.String && rd != nil {
			b, _ = json.Marshal(rd.String(s.Value.AsString()))
		}
		settings[s.Name] = b
	}
	return settings, sensitive
}

package config

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// redactedValue is what a sensitive variable's value is shown as.
const redactedValue = "(sensitive)"

// redactSensitive keeps sensitive variables' values out of diags: a
// diagnostic whose expression reads one loses its evaluation context
// (hcl's text writer would print "with var.token as ..."), and their
// values, as given (-var, FANOUT_VAR_*, a variables file) and as
// converted, are replaced where a message quotes them (a function's
// error: cannot convert "..." to number), as are the values functions
// computed from them (derived). A value shorter than minSensitiveLen is
// left as it is, as everywhere else fanout shows values: a -var pin=1
// replaced in every message made "web1" "web(sensitive)" and a range
// "sv.hcl:5,(sensitive)-(sensitive)6".
func redactSensitive(diags hcl.Diagnostics, decls []*variableDecl, opts LoadOptions, derived *sensitiveValues) hcl.Diagnostics {
	names := map[string]bool{}
	var secrets []string
	add := func(s string) {
		if len(s) >= minSensitiveLen {
			secrets = append(secrets, s)
		}
	}
	for _, d := range decls {
		v := d.v
		if !v.Sensitive {
			continue
		}
		names[v.Name] = true
		add(opts.Vars[v.Name])
		add(opts.EnvVars[v.Name])
		if in, ok := opts.Values[v.Name]; ok {
			addValue(in.Value, add)
		}
		addValue(v.Value, add)
		addValue(v.Default, add)
	}
	if len(names) == 0 {
		return diags
	}
	for _, d := range derived.derivedValues() {
		add(d.Value)
	}
	// A value containing another is replaced whole.
	slices.SortStableFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, d := range diags {
		if d.Expression != nil && (readsAny(d.Expression, names) || readsSecret(d.Expression, d.EvalContext, secrets)) {
			d.EvalContext = nil
		}
		for _, s := range secrets {
			d.Summary = strings.ReplaceAll(d.Summary, s, redactedValue)
			d.Detail = strings.ReplaceAll(d.Detail, s, redactedValue)
		}
	}
	return diags
}

// addValue passes add the strings v's primitive values are written as.
func addValue(v cty.Value, add func(string)) {
	if v == cty.NilVal || !v.IsWhollyKnown() || v.IsNull() {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		add(v.AsString())
	case ty == cty.Number:
		add(v.AsBigFloat().Text('f', -1))
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			addValue(e, add)
		}
	}
}

// readsSecret reports whether a value expr refers to in ctx holds one of
// secrets: a local or a host's vars computed from a sensitive variable,
// which hcl's text writer would print ("with local.up as ...").
func readsSecret(expr hcl.Expression, ctx *hcl.EvalContext, secrets []string) bool {
	if ctx == nil {
		return false
	}
	found := false
	for _, tr := range expr.Variables() {
		v, diags := tr.TraverseAbs(ctx)
		if diags.HasErrors() {
			continue
		}
		eachText(v, func(text string) {
			found = found || slices.ContainsFunc(secrets, func(s string) bool { return strings.Contains(text, s) })
		})
		if found {
			return true
		}
	}
	return false
}

// readsAny reports whether expr refers to var.NAME for a name in names.
func readsAny(expr hcl.Expression, names map[string]bool) bool {
	for _, tr := range expr.Variables() {
		if tr.RootName() != "var" || len(tr) < 2 {
			continue
		}
		if a, ok := tr[1].(hcl.TraverseAttr); ok && names[a.Name] {
			return true
		}
	}
	return false
}

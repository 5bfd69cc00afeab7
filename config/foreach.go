package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// A host block with for_each declares one host per element, as Terraform's
// resources do:
//
//	host "web" {
//	  for_each = hostrange("web[01-40]")
//	  address  = "${each.key}.example.com"
//	}
//
// each.key names the instance (web01 .. web40) and each.value is the
// element (the same string for a list or a set, the map's value for a
// map). The block's label is not a host: it is a role of every instance,
// so that on = ["web"] selects the fleet. Every other attribute, the
// transport's included, is evaluated once per instance with each set.

// evalHostForEach evaluates d's for_each and makes its instances, in the
// order of a list, or of the keys of a set or map (lexical).
func (e *evaluator) evalHostForEach(d *hostDecl, transports map[string]*Transport) hcl.Diagnostics {
	attr := d.forEach
	v, ok, diags := e.attrValue(attr)
	if !ok {
		if !diags.HasErrors() && v.IsKnown() && v.IsNull() {
			diags = diags.Append(forEachError(attr, attr.Expr.Range(), "for_each is null."))
		}
		d.unknown, e.hostsUnknown = true, true
		return diags
	}
	items, d2 := forEachItems(v, attr)
	diags = diags.Extend(d2)
	d.unknown = d2.HasErrors()
	e.hostsUnknown = e.hostsUnknown || d.unknown

	failed := false // only the first instance's mistakes are reported: the rest repeat them
	for _, it := range items {
		if hd := checkHostName(it.key, it.rng); hd.HasErrors() {
			diags = diags.Append(forEachError(attr, it.rng, fmt.Sprintf(
				"The key %q cannot name a host: a host name is non-empty UTF-8 text with no spaces and no control characters.", it.key)))
			continue
		}
		if prev, dup := e.hostRanges[it.key]; dup {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate host %q", it.key),
				Detail: fmt.Sprintf("for_each of host %q makes a host %q, which was already declared at %s. "+
					"Host names are unique across all the files of a configuration; remove one of the two.",
					d.h.Name, it.key, prev),
				Subject: it.rng.Ptr(),
				Context: attr.Range.Ptr(),
			})
			continue
		}
		e.hostRanges[it.key] = it.rng

		each := cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(it.key), "value": it.value})
		h := &Host{
			Name:      it.key,
			Address:   it.key,
			Roles:     []string{d.h.Name},
			Transport: DefaultTransport,
			Config:    d.h.Config,
			DeclRange: d.h.DeclRange,
			NameRange: d.h.NameRange,
		}
		// The transport's own settings are decoded later, by the core, in
		// this context: the configuration's, with each.
		h.EvalContext = e.ctx.NewChild()
		h.EvalContext.Variables = map[string]cty.Value{"each": each}

		inst := *d
		inst.h, inst.forEach, inst.instances = h, nil, nil
		e.ctx.Variables["each"] = each
		hd := e.evalHostAttrs(&inst, transports)
		delete(e.ctx.Variables, "each")
		if !failed {
			diags = diags.Extend(hd)
		}
		failed = failed || hd.HasErrors()
		d.instances = append(d.instances, h)
	}
	return diags
}

// forEachItem is one element of a for_each value.
type forEachItem struct {
	key   string
	value cty.Value
	// rng is the element's range in a literal list, or the expression's.
	rng hcl.Range
}

// forEachItems checks that v is a list of unique strings, a set of
// strings, or a map (or object), and returns its elements.
func forEachItems(v cty.Value, attr *hcl.Attribute) ([]forEachItem, hcl.Diagnostics) {
	ty := v.Type()
	switch {
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var items []forEachItem
		var diags hcl.Diagnostics
		seen := make(map[string]int, v.LengthInt())
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			rng := elemRange(attr.Expr, i)
			if ev.IsNull() || ev.Type() != cty.String {
				what := "null"
				if !ev.IsNull() {
					what = article(ev.Type().FriendlyName())
				}
				return nil, hcl.Diagnostics{forEachError(attr, rng, fmt.Sprintf(
					"Element %d of for_each is %s. A list or set given to for_each holds host names: strings. "+
						"To make hosts from a list of objects, turn it into a map: "+
						"{ for h in LIST : h.name => h }.", i, what))}
			}
			key := ev.AsString()
			if first, dup := seen[key]; dup {
				diags = diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Duplicate for_each key %q", key),
					Detail: fmt.Sprintf("Elements %d and %d of for_each are both %q; each element names one host, "+
						"so they must be unique. Remove one of them.", first, i, key),
					Subject: rng.Ptr(),
					Context: attr.Range.Ptr(),
				})
				continue
			}
			seen[key] = i
			items = append(items, forEachItem{key: key, value: ev, rng: rng})
		}
		return items, diags
	case ty.IsMapType() || ty.IsObjectType():
		var items []forEachItem
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			key := k.AsString()
			items = append(items, forEachItem{key: key, value: ev, rng: keyRange(attr.Expr, key)})
		}
		return items, nil
	}
	return nil, hcl.Diagnostics{forEachError(attr, attr.Expr.Range(), fmt.Sprintf("for_each is %s.", article(ty.FriendlyName())))}
}

// forEachError is a for_each value fanout cannot make hosts from.
func forEachError(attr *hcl.Attribute, rng hcl.Range, why string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid for_each argument",
		Detail: why + " for_each takes a list of unique host names, a set of them, or a map whose keys are host names " +
			"(each.key) and whose values are anything (each.value), for example hostrange(\"web[01-40]\").",
		Subject: rng.Ptr(),
		Context: attr.Range.Ptr(),
	}
}

// article puts "a" or "an" before a type's name: "an object", "a number".
func article(name string) string {
	if name != "" && strings.ContainsRune("aeiou", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

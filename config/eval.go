package config

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// evaluator evaluates expressions against the variables, locals and hosts
// of one configuration as they become known.
//
// Every declared name is present from the start: a value not evaluated yet,
// or that failed to evaluate, is unknown (cty.DynamicVal). An expression
// whose value is not wholly known therefore depends on an earlier error,
// already reported, and the typed helpers below skip it silently rather
// than report the same mistake twice.
type evaluator struct {
	vars   map[string]cty.Value
	locals map[string]cty.Value
	hosts  map[string]cty.Value
	// hostRanges are where each host name was declared: a host block's
	// label, or the element of a for_each that made it.
	hostRanges map[string]hcl.Range
	// hostsUnknown is set once a for_each could not be evaluated: the
	// hosts it would have made are not known, so a reference to a host
	// not found may be to one of them, and is not reported.
	hostsUnknown bool
	ctx          *hcl.EvalContext
	// stale names the objects of ctx ("var", "local", "host") whose maps
	// changed since they were built. They are rebuilt when an expression
	// refers to them, not on every change: rebuilding the host object after
	// each of N hosts made loading quadratic in hosts.
	stale map[string]bool
	// files is where upload sources are read; its fsys is nil when there
	// is none.
	files configFS
	// sensitive names the variables declared sensitive.
	sensitive map[string]bool
	// target is the host that target refers to while a task's values are
	// evaluated for one host (target.go); nil otherwise. perHost is set
	// while a task's run, rollback and env are first evaluated: an
	// expression that refers to target is then left unknown, to be
	// evaluated per host, where elsewhere target is an unknown variable.
	target  *Host
	perHost bool
}

func newEvaluator() *evaluator {
	e := &evaluator{
		vars:       make(map[string]cty.Value),
		locals:     make(map[string]cty.Value),
		hosts:      make(map[string]cty.Value),
		hostRanges: make(map[string]hcl.Range),
		ctx:        &hcl.EvalContext{Functions: Functions(), Variables: map[string]cty.Value{}},
		stale:      make(map[string]bool),
		sensitive:  make(map[string]bool),
	}
	e.sync()
	return e
}

// sync marks the context's var, local and host objects out of date; call
// it after changing the maps, or mark only the root whose map changed, as
// in e.stale["local"] = true.
func (e *evaluator) sync() {
	for _, root := range allRoots {
		e.stale[root] = true
	}
}

// allRoots are the names the evaluator provides.
var allRoots = []string{"var", "local", "host"}

// context returns the evaluation context with the named roots rebuilt from
// the maps if they changed.
func (e *evaluator) context(roots []string) *hcl.EvalContext {
	for _, root := range roots {
		if !e.stale[root] {
			continue
		}
		var m map[string]cty.Value
		switch root {
		case "var":
			m = e.vars
		case "local":
			m = e.locals
		case "host":
			m = e.hosts
		default:
			continue
		}
		e.ctx.Variables[root] = objectOf(m)
		e.stale[root] = false
	}
	return e.ctx
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// value checks the references in expr, then evaluates it. On any error the
// value is cty.DynamicVal.
func (e *evaluator) value(expr hcl.Expression) (cty.Value, hcl.Diagnostics) {
	diags := e.checkRefs(expr)
	if diags.HasErrors() || e.refersToUnknownHost(expr) {
		return cty.DynamicVal, diags
	}
	var roots []string
	for _, tr := range expr.Variables() {
		roots = append(roots, tr.RootName())
	}
	ctx := e.context(roots)
	if slices.Contains(roots, "target") {
		switch {
		case e.target != nil:
			ctx = ctx.NewChild()
			ctx.Variables = map[string]cty.Value{"target": targetObject(e.target)}
		case e.perHost:
			return cty.DynamicVal, diags
		default:
			for _, tr := range expr.Variables() {
				if tr.RootName() == "target" {
					return cty.DynamicVal, diags.Append(&hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "target is not available here",
						Detail: "target is the host a task's values are for: it can be used in a task's run, rollback, env and " +
							"check, and in its upload and download blocks, which are evaluated per host. Elsewhere use FANOUT_HOST " +
							"in a command, or host.NAME for a given host.",
						Subject: tr.SourceRange().Ptr(),
					})
				}
			}
		}
	}
	v, valDiags := expr.Value(ctx)
	diags = diags.Extend(valDiags)
	if valDiags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return v, diags
}

// refersToUnknownHost reports whether expr refers to a host not found
// while a for_each could not be evaluated: perhaps one it would have made,
// so the value is unknown rather than in error.
func (e *evaluator) refersToUnknownHost(expr hcl.Expression) bool {
	if !e.hostsUnknown {
		return false
	}
	for _, tr := range expr.Variables() {
		if tr.RootName() != "host" {
			continue
		}
		if name, _, ok := traversalName(tr); ok {
			if _, found := e.hosts[name]; !found {
				return true
			}
		}
	}
	return false
}

// usable reports whether v can be converted and checked: it is known
// through and through. A null is usable; callers decide what it means.
func usable(v cty.Value) bool {
	return v.IsWhollyKnown()
}

// attrValue evaluates attr for the typed helpers below. ok is false when
// the attribute is absent, null or unusable, which is nothing to report
// beyond diags.
func (e *evaluator) attrValue(attr *hcl.Attribute) (v cty.Value, ok bool, diags hcl.Diagnostics) {
	if attr == nil {
		return cty.NilVal, false, nil
	}
	v, diags = e.value(attr.Expr)
	return v, usable(v) && !v.IsNull(), diags
}

// stringAttr evaluates an attribute that must be a string. ok is false when
// the attribute is absent, null or unusable.
func (e *evaluator) stringAttr(attr *hcl.Attribute) (s string, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := e.attrValue(attr)
	if !ok {
		return "", false, diags
	}
	sv, err := toString(v)
	if err != nil {
		return "", false, diags.Append(typeError(attr, "a string", v))
	}
	return sv.AsString(), true, diags
}

// boolAttr evaluates an attribute that must be a bool.
func (e *evaluator) boolAttr(attr *hcl.Attribute) (b bool, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := e.attrValue(attr)
	if !ok {
		return false, false, diags
	}
	bv, err := convert.Convert(v, cty.Bool)
	if err != nil {
		return false, false, diags.Append(typeError(attr, "a bool", v))
	}
	return bv.True(), true, diags
}

// stringListAttr evaluates an attribute that must be a list of strings. A
// null element is an error naming that element.
func (e *evaluator) stringListAttr(attr *hcl.Attribute) (list []string, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := e.attrValue(attr)
	if !ok {
		return nil, false, diags
	}
	list, diag := stringList(v, attr, "a list of strings")
	if diag != nil {
		return nil, false, diags.Append(diag)
	}
	return list, true, diags
}

// stringList converts a known, non-null value to []string; want describes
// what is allowed, for the diagnostic.
func stringList(v cty.Value, attr *hcl.Attribute, want string) ([]string, *hcl.Diagnostic) {
	if ty := v.Type(); !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		return nil, typeError(attr, want, v)
	}
	out := make([]string, 0, v.LengthInt())
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, ev := it.Element()
		if ev.IsNull() {
			return nil, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Incorrect attribute value type",
				Detail:   fmt.Sprintf("Element %d of %q is null; %s is required.", i, attr.Name, want),
				Subject:  elemRange(attr.Expr, i).Ptr(),
			}
		}
		sv, err := toString(ev)
		if err != nil {
			kind := ev.Type().FriendlyName()
			article := "a"
			if strings.ContainsRune("aeiou", rune(kind[0])) {
				article = "an"
			}
			hint := ""
			if ty := ev.Type(); ty.IsObjectType() && ty.HasAttribute("name") && ty.AttributeType("name") == cty.String && ev.IsKnown() {
				// on = [host.web1]: the host's object, where its name is
				// wanted.
				if n := ev.GetAttr("name"); n.IsKnown() && !n.IsNull() {
					hint = fmt.Sprintf(" A host is named by its name: write %q (or host.%s.name).", n.AsString(), n.AsString())
				}
			}
			return nil, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Incorrect attribute value type",
				Detail: fmt.Sprintf("Inappropriate value for element %d of %q: %s is required, and %s %s is not a string.%s",
					i, attr.Name, want, article, kind, hint),
				Subject: elemRange(attr.Expr, i).Ptr(),
			}
		}
		out = append(out, sv.AsString())
	}
	return out, nil
}

// wholeNumberAttr evaluates an attribute that must be a whole number of at
// least min. summary names the setting in the diagnostic.
func (e *evaluator) wholeNumberAttr(attr *hcl.Attribute, min int, summary string) (n int, ok bool, diags hcl.Diagnostics) {
	v, ok, diags := e.attrValue(attr)
	if !ok {
		return 0, false, diags
	}
	// A string is refused though HCL would convert "3": threads = "3"
	// is written as a number everywhere else, and a string here is most
	// likely a variable of the wrong type.
	if v.Type() != cty.Number {
		return 0, false, diags.Append(typeError(attr, "a number", v))
	}
	bad := func(why string) hcl.Diagnostics {
		return diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail: fmt.Sprintf("%s must be a whole number of at least %d; %s. Set it to %d or more, or remove it to use the default.",
				attr.Name, min, why, min),
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		})
	}
	n, why := wholeNumber(v.AsBigFloat(), min)
	if why != "" {
		return 0, false, bad(why)
	}
	return n, true, diags
}

// wholeNumber reads bf as a whole number from min to maxLimit; why says
// what is wrong with it otherwise, for a diagnostic.
func wholeNumber(bf *big.Float, min int) (n int, why string) {
	if !bf.IsInt() {
		return 0, fmt.Sprintf("%s is not whole", numberText(bf))
	}
	if bf.Cmp(big.NewFloat(float64(min))) < 0 {
		return 0, fmt.Sprintf("got %s", numberText(bf))
	}
	i, acc := bf.Int64()
	if acc != big.Exact || i > int64(maxLimit) {
		return 0, fmt.Sprintf("%s is too large (at most %d)", numberText(bf), maxLimit)
	}
	return int(i), ""
}

// numberText writes a number for a message. Numbers far from 1 are not
// written out: big.Float takes minutes to print 1e10000000 in decimal.
func numberText(bf *big.Float) string {
	switch exp := bf.MantExp(nil); {
	case exp < -200:
		return "a tiny fraction"
	case exp > 200 && bf.Sign() < 0:
		return "a huge negative number"
	case exp > 200:
		return "a huge number"
	}
	return bf.Text('g', -1)
}

// toString converts a primitive value to a string, as HCL would, except a
// number too large to write out in reasonable time.
func toString(v cty.Value) (cty.Value, error) {
	if v.Type() == cty.Number && v.IsKnown() && !v.IsNull() {
		if exp := v.AsBigFloat().MantExp(nil); exp > 4096 || exp < -4096 {
			return cty.NilVal, fmt.Errorf("a number this large cannot be written out")
		}
	}
	return convert.Convert(v, cty.String)
}

// maxLimit bounds threads and max_hosts, well beyond any real use.
const maxLimit = 1 << 20

// typeError is HCL's own diagnostic for a value of the wrong type.
func typeError(attr *hcl.Attribute, want string, got cty.Value) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Incorrect attribute value type",
		Detail:   fmt.Sprintf("Inappropriate value for attribute %q: %s is required, not %s.", attr.Name, want, got.Type().FriendlyName()),
		Subject:  attr.Expr.Range().Ptr(),
		Context:  attr.Range.Ptr(),
	}
}

// elemRange is the range of element i of a literal list, or of the whole
// expression when it is not one.
func elemRange(expr hcl.Expression, i int) hcl.Range {
	if tc, ok := expr.(*hclsyntax.TupleConsExpr); ok && i < len(tc.Exprs) {
		return tc.Exprs[i].Range()
	}
	return expr.Range()
}

// keyRange is the range of the key of a literal object's item named key, or
// of the whole expression.
func keyRange(expr hcl.Expression, key string) hcl.Range {
	oc, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return expr.Range()
	}
	for _, item := range oc.Items {
		k, diags := item.KeyExpr.Value(nil)
		if diags.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
			continue
		}
		if k.AsString() == key {
			return item.KeyExpr.Range()
		}
	}
	return expr.Range()
}

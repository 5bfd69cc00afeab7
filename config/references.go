package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// reference is one element of a parallelize block's tasks list:
// task.NAME or parallelize.NAME.
type reference struct {
	kind string // "task" or "parallelize"
	name string
	rng  hcl.Range
}

func (r reference) String() string { return r.kind + "." + r.name }

// traversalName splits off the name a traversal gives its root object
// (var.NAME, host["NAME"]) with the range of root and name. ok is false
// for a bare root such as `var`.
func traversalName(tr hcl.Traversal) (name string, rng hcl.Range, ok bool) {
	if len(tr) < 2 {
		return "", hcl.Range{}, false
	}
	switch step := tr[1].(type) {
	case hcl.TraverseAttr:
		name = step.Name
	case hcl.TraverseIndex:
		if !step.Key.IsKnown() || step.Key.IsNull() || step.Key.Type() != cty.String {
			return "", hcl.Range{}, false
		}
		name = step.Key.AsString()
	default:
		return "", hcl.Range{}, false
	}
	return name, hcl.RangeBetween(tr[0].SourceRange(), tr[1].SourceRange()), true
}

// forEachLabelRef is the diagnostic of host.NAME where NAME is the label of
// a host block with for_each, which declares no host NAME but one per
// element, each with the role NAME: "Did you mean w1? Declare it with a
// host "web" {} block" sent the writer after a block that was there.
func (e *evaluator) forEachLabelRef(name string, rng hcl.Range) *hcl.Diagnostic {
	var instances []string
	for _, h := range slices.Sorted(maps.Keys(e.hosts)) {
		v := e.hosts[h]
		if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() || !v.Type().HasAttribute("roles") {
			continue
		}
		roles := v.GetAttr("roles")
		if roles.IsNull() || !roles.IsKnown() || !roles.CanIterateElements() {
			continue
		}
		for it := roles.ElementIterator(); it.Next(); {
			if _, r := it.Element(); r.IsKnown() && !r.IsNull() && r.Type() == cty.String && r.AsString() == name && h != name {
				instances = append(instances, h)
				break
			}
		}
	}
	if len(instances) == 0 {
		return nil
	}
	some := "host." + strings.Join(instances[:min(len(instances), 3)], ", host.")
	if len(instances) > 3 {
		some += fmt.Sprintf(" and %d more", len(instances)-3)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Reference to host %q, a for_each block", name),
		Detail: fmt.Sprintf("The host block %q has for_each: it declares a host per element, named by its key (%s), "+
			"not a host %q. Name one of them, as host.%s.address, or select them all by their role %q (on = [%q]).",
			name, some, name, instances[0], name, name),
		Subject: rng.Ptr(),
	}
}

// checkRefs reports references in expr to variables, locals or hosts that
// are not declared, and to tasks or groups, which are not values. Other
// unknown roots are left to HCL ("Unknown variable"), which suggests the
// right one.
func (e *evaluator) checkRefs(expr hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		switch root {
		case "var", "local", "host":
			name, rng, ok := traversalName(tr)
			if !ok {
				continue
			}
			var declared map[string]cty.Value
			var what, fix string
			switch root {
			case "var":
				declared, what = e.vars, "variable"
				fix = fmt.Sprintf("Declare it with a variable %q {} block", name)
			case "local":
				declared, what = e.locals, "local value"
				fix = fmt.Sprintf("Declare it in a locals block, as %s = ...", name)
			case "host":
				declared, what = e.hosts, "host"
				fix = fmt.Sprintf("Declare it with a host %q {} block", name)
			}
			if _, found := declared[name]; found || root == "host" && e.hostsUnknown {
				continue
			}
			if root == "host" {
				if d := e.forEachLabelRef(name, rng); d != nil {
					diags = diags.Append(d)
					continue
				}
			}
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Reference to undeclared %s %q", what, name),
				Detail: fmt.Sprintf("No %s named %q is declared.%s %s, or correct the reference.",
					what, name, didYouMean(name, slices.Collect(maps.Keys(declared))), fix),
				Subject: rng.Ptr(),
			})
		case "each":
			if _, ok := e.ctx.Variables["each"]; ok {
				continue
			}
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to each outside for_each",
				Detail: "each.key and each.value name the element a host block's for_each is making a host of, " +
					"so they can be used only in a host block that sets for_each.",
				Subject: tr.SourceRange().Ptr(),
			})
		case "task", "parallelize":
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference",
				Detail: fmt.Sprintf("A %s is not a value: %s.NAME can only be used in the tasks list of a parallelize block. "+
					"Here only var.NAME, local.NAME and host.NAME (with name, address and roles) can be used.", root, root),
				Subject: tr.SourceRange().Ptr(),
			})
		}
	}
	return diags
}

// didYouMean returns " Did you mean "x"?" for the candidate closest to
// given at an edit distance under 3, or "". Two swapped neighbours count
// as one edit, ties go to a candidate of given's length, then to the first
// in sorted order, so the result does not depend on map order.
// DidYouMean returns " Did you mean "NAME"?" for the candidate closest to
// given, or "" when none is close: for diagnostics outside this package
// (a host block's settings, decoded against its transport's schema).
func DidYouMean(given string, candidates []string) string {
	return didYouMean(given, slices.Clone(candidates))
}

func didYouMean(given string, candidates []string) string {
	slices.Sort(candidates)
	best, bestDist := "", 3
	for _, c := range candidates {
		if c == given {
			continue
		}
		d := levenshtein.Distance(given, c, nil)
		if isSwap(given, c) {
			d = 1
		}
		if d < bestDist || d == bestDist && best != "" && len(c) == len(given) && len(best) != len(given) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// isSwap reports whether b is a with two neighbouring bytes swapped.
func isSwap(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

// quotedList renders names as "a", "b" and "c", sorted.
func quotedList(names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return "none"
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// resolveGroups fills every group's Members from its references and checks
// that each task or group is in at most one group and that no group
// contains itself, directly or not. It returns the roots: the nodes no group
// references, in declaration order.
func resolveGroups(nodes []Node, tasks map[string]*Task, groups []*groupDecl, named map[string]*groupDecl) ([]Node, hcl.Diagnostics) {
	parents, diags := linkMembers(groups, tasks, named)
	diags = diags.Extend(cutCycles(groups, parents))
	var roots []Node
	for _, n := range nodes {
		if _, ok := parents[n]; !ok {
			roots = append(roots, n)
		}
	}
	return roots, diags
}

// membership is the parent group of a member, and the reference that made
// it one.
type membership struct {
	group *groupDecl
	ref   reference
}

// linkMembers fills every group's Members from its references, and returns
// the parent of each member. A member referenced a second time is reported
// and left in its first group.
func linkMembers(groups []*groupDecl, tasks map[string]*Task, named map[string]*groupDecl) (map[Node]membership, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	parents := make(map[Node]membership)
	for _, g := range groups {
		for _, ref := range g.refs {
			member, d := memberOf(g, ref, tasks, named)
			if d != nil {
				diags = diags.Append(d)
				continue
			}
			if prev, dup := parents[member]; dup {
				diags = diags.Append(twoPlaces(ref, g, prev.ref, prev.group))
				continue
			}
			parents[member] = membership{group: g, ref: ref}
			g.group.Members = append(g.group.Members, member)
		}
	}
	return parents, diags
}

// memberOf is the task or group that ref, in the tasks list of g, names;
// or why it names none.
func memberOf(g *groupDecl, ref reference, tasks map[string]*Task, named map[string]*groupDecl) (Node, *hcl.Diagnostic) {
	switch ref.kind {
	case "task":
		t, ok := tasks[ref.name]
		if !ok {
			return nil, undeclaredMember(ref, slices.Collect(maps.Keys(tasks)))
		}
		return t, nil
	case "parallelize":
		inner, ok := named[ref.name]
		if !ok {
			return nil, undeclaredMember(ref, slices.Collect(maps.Keys(named)))
		}
		if inner == g {
			return nil, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Parallelize %q contains itself", g.group.Name),
				Detail: fmt.Sprintf("The tasks list of parallelize %q names the block itself. "+
					"A group cannot run inside itself; remove %s from the list.", g.group.Name, ref),
				Subject: ref.rng.Ptr(),
			}
		}
		return inner.group, nil
	}
	return nil, nil
}

// cutCycles reports the groups that contain themselves through other
// groups, and cuts each such loop. Every node has at most one parent now,
// so following parents from a group either ends at a root or comes back
// around a cycle. Each cycle is reported once, at its member declared
// first.
func cutCycles(groups []*groupDecl, parents map[Node]membership) hcl.Diagnostics {
	var diags hcl.Diagnostics
	reported := make(map[*groupDecl]bool)
	for _, g := range groups {
		if reported[g] {
			continue
		}
		var chain []*groupDecl
		seen := make(map[*groupDecl]int)
		cur := g
		for cur != nil {
			if i, loop := seen[cur]; loop {
				cycle := chain[i:]
				if !slices.Contains(cycle, g) {
					break // g only leads into a cycle found from another group
				}
				for _, c := range cycle {
					reported[c] = true
				}
				diags = diags.Append(cycleDiag(cycle, func(child *groupDecl) reference {
					return parents[child.group].ref
				}))
				// Cut the loop where it is reported, so that Members form a
				// tree even in a configuration in error, and a caller
				// walking it cannot recurse forever.
				last := cycle[len(cycle)-1].group
				cycle[0].group.Members = slices.DeleteFunc(cycle[0].group.Members, func(n Node) bool { return n == Node(last) })
				break
			}
			seen[cur] = len(chain)
			chain = append(chain, cur)
			m, ok := parents[cur.group]
			if !ok {
				break
			}
			cur = m.group
		}
	}
	return diags
}

func undeclaredMember(ref reference, names []string) *hcl.Diagnostic {
	what := "task"
	if ref.kind == "parallelize" {
		what = "parallelize block"
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Reference to undeclared %s %q", what, ref.name),
		Detail: fmt.Sprintf("No %s named %q is declared.%s Declared: %s.",
			what, ref.name, didYouMean(ref.name, names), quotedList(names)),
		Subject: ref.rng.Ptr(),
	}
}

// twoPlaces reports a member listed by a second group, or twice by one.
func twoPlaces(ref reference, g *groupDecl, prevRef reference, prev *groupDecl) *hcl.Diagnostic {
	kind := "Task"
	if ref.kind == "parallelize" {
		kind = "Parallelize"
	}
	if g == prev {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("%s %q listed twice", kind, ref.name),
			Detail: fmt.Sprintf("%s is already in this tasks list, at %s. "+
				"A member runs once per group; remove one of the two.", ref, prevRef.rng),
			Subject: ref.rng.Ptr(),
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("%s %q in two groups", kind, ref.name),
		Detail: fmt.Sprintf("%s is a member of %s, at %s, and of %s here. A task or group belongs to one group "+
			"at most, so that threads and rollback order are clear; remove one of the references, "+
			"or declare a second %s under another name.", ref, prev.label(), prevRef.rng, g.label(), ref.kind),
		Subject: ref.rng.Ptr(),
	}
}

// cycleDiag reports groups nested in each other in a loop. cycle[i+1] is
// the parent of cycle[i], and cycle[0], declared first, the parent of the
// last; ref gives the reference through which a group's parent lists it.
func cycleDiag(cycle []*groupDecl, ref func(*groupDecl) reference) *hcl.Diagnostic {
	names := []string{cycle[0].group.NodeName()}
	for i := len(cycle) - 1; i >= 0; i-- {
		names = append(names, cycle[i].group.NodeName())
	}
	r := ref(cycle[len(cycle)-1]) // in cycle[0]'s tasks list
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Cycle of parallelize blocks",
		Detail: fmt.Sprintf("These groups contain each other in a loop: %s. A group cannot run inside itself, "+
			"even through other groups; remove one of these references.", strings.Join(names, " contains ")),
		Subject: r.rng.Ptr(),
	}
}

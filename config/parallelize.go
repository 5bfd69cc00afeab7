package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// groupDecl is a decoded parallelize block: its threads unevaluated and
// its tasks list read as references, not values.
type groupDecl struct {
	group   *Parallelize
	threads *hcl.Attribute
	refs    []reference
}

// label names the block in diagnostics.
func (g *groupDecl) label() string {
	if g.group.Name == "" {
		return fmt.Sprintf("the parallelize block at %s", g.group.DeclRange)
	}
	return fmt.Sprintf("parallelize %q", g.group.Name)
}

func decodeParallelizeBlock(block *hcl.Block) (*groupDecl, hcl.Diagnostics) {
	p := &Parallelize{DeclRange: block.DefRange, NameRange: block.TypeRange}
	g := &groupDecl{group: p}
	var diags hcl.Diagnostics
	if len(block.Labels) > 0 {
		p.Name, p.NameRange = block.Labels[0], block.LabelRanges[0]
		diags = diags.Extend(checkName("parallelize", p.Name, p.NameRange))
	}
	if len(block.Labels) > 1 {
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Extraneous label for parallelize",
			Detail: "A parallelize block has at most one label, its name, as in parallelize \"restart\" {...}; " +
				"remove the others.",
			Subject: hcl.RangeBetween(block.LabelRanges[1], block.LabelRanges[len(block.LabelRanges)-1]).Ptr(),
			Context: block.DefRange.Ptr(),
		})
	}

	content, d := block.Body.Content(parallelizeSchema)
	diags = diags.Extend(d)
	g.threads = content.Attributes["threads"]
	if attr, ok := content.Attributes["tasks"]; ok {
		g.refs, d = decodeMembers(g, attr)
		diags = diags.Extend(d)
	}
	return g, diags
}

// decodeMembers reads a tasks list as references, the way Terraform reads
// depends_on.
func decodeMembers(g *groupDecl, attr *hcl.Attribute) ([]reference, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid tasks list",
			Detail: "tasks must be a list written out in brackets, of references to tasks and named parallelize " +
				"blocks, such as tasks = [task.migrate, parallelize.web]. It cannot be computed.",
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		}}
	}
	if len(exprs) == 0 {
		what := fmt.Sprintf("parallelize %q", g.group.Name)
		if g.group.Name == "" {
			what = "parallelize block"
		}
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("No tasks in %s", what),
			Detail: "A parallelize block runs the tasks and groups its tasks list references, so the list " +
				"cannot be empty. Add members, such as tasks = [task.migrate, parallelize.web], or remove the block.",
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		}}
	}

	var refs []reference
	for _, expr := range exprs {
		ref, diag := decodeMember(expr)
		if diag != nil {
			diags = diags.Append(diag)
			continue
		}
		refs = append(refs, ref)
	}
	return refs, diags
}

// decodeMember reads one element of a tasks list.
func decodeMember(expr hcl.Expression) (reference, *hcl.Diagnostic) {
	invalid := func(detail string, rng hcl.Range) (reference, *hcl.Diagnostic) {
		return reference{}, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference in tasks",
			Detail:   detail + " Each member is task.NAME or parallelize.NAME.",
			Subject:  rng.Ptr(),
		}
	}
	tr, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		// A quoted name is the likeliest mistake: say what to write.
		if v, vd := expr.Value(nil); !vd.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			s := v.AsString()
			if !strings.Contains(s, ".") {
				s = "task." + s
			}
			return invalid(fmt.Sprintf("A member is a reference, not a string: write %s, without quotes.", s), expr.Range())
		}
		return invalid("A member is a reference to a task or a named group, not a computed value.", expr.Range())
	}
	root := tr.RootName()
	if root != "task" && root != "parallelize" {
		return invalid(fmt.Sprintf("%s is not a task or a group: a parallelize block lists tasks and groups, not values.",
			traversalString(tr)), tr.SourceRange())
	}
	if len(tr) != 2 {
		return invalid(fmt.Sprintf("A reference to a %s names it and nothing more.", root), tr.SourceRange())
	}
	step, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return invalid(fmt.Sprintf("A reference to a %s names it with a dot: %s.NAME.", root, root), tr.SourceRange())
	}
	return reference{kind: root, name: step.Name, rng: tr.SourceRange()}, nil
}

// traversalString writes a traversal back as source, for messages.
func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for _, step := range tr {
		switch step := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(step.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + step.Name)
		case hcl.TraverseIndex:
			switch k := step.Key; {
			case k.IsKnown() && !k.IsNull() && k.Type() == cty.String:
				fmt.Fprintf(&b, "[%q]", k.AsString())
			case k.IsKnown() && !k.IsNull() && k.Type() == cty.Number:
				fmt.Fprintf(&b, "[%s]", numberText(k.AsBigFloat()))
			default:
				b.WriteString("[...]")
			}
		case hcl.TraverseSplat:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// evalGroupThreads evaluates threads, defaulting to the fanout block's.
func (e *evaluator) evalGroupThreads(g *groupDecl, settings *Settings) hcl.Diagnostics {
	g.group.Threads = settings.Threads
	n, ok, diags := e.wholeNumberAttr(g.threads, 1, "Invalid threads")
	if ok {
		g.group.Threads = n
	}
	return diags
}

var parallelizeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "threads"},
		{Name: "tasks", Required: true},
	},
}

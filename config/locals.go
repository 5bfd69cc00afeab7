package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func decodeLocalsBlock(block *hcl.Block) ([]*Local, hcl.Diagnostics) {
	attrs, diags := block.Body.JustAttributes()
	locals := make([]*Local, 0, len(attrs))
	for _, attr := range attrs {
		locals = append(locals, &Local{
			Name:      attr.Name,
			Value:     cty.DynamicVal,
			Expr:      attr.Expr,
			DeclRange: attr.Range,
			NameRange: attr.NameRange,
		})
	}
	// JustAttributes returns a map; keep the order of the source.
	slices.SortFunc(locals, func(a, b *Local) int { return a.DeclRange.Start.Byte - b.DeclRange.Start.Byte })
	return locals, diags
}

// valueNode is a local or a host: the values other expressions can refer
// to, which may refer to each other. A host's address may use a local, and
// a local may use a host's address, so both are ordered together.
type valueNode struct {
	key   string // "local.NAME" or "host.NAME"
	local *Local
	host  *hostDecl
	// deps are the nodes this one refers to, in the order of their first
	// reference, with that reference's range.
	deps    []*valueNode
	depRefs []hcl.Range
}

func (n *valueNode) exprs() []hcl.Expression {
	if n.local != nil {
		return []hcl.Expression{n.local.Expr}
	}
	var exprs []hcl.Expression
	for _, a := range []*hcl.Attribute{n.host.forEach, n.host.address, n.host.roles, n.host.transport, n.host.vars} {
		if a != nil {
			exprs = append(exprs, a.Expr)
		}
	}
	return exprs
}

// evalLocalsAndHosts evaluates locals and hosts so that each comes after
// what it refers to, reporting cycles. Members of a cycle stay unknown, so
// what depends on them is skipped without more errors.
func (e *evaluator) evalLocalsAndHosts(locals []*Local, hosts []*hostDecl, transports map[string]*Transport) hcl.Diagnostics {
	order, broken, diags := orderValues(valueGraph(locals, hosts))
	for _, n := range order {
		if broken[n] {
			continue
		}
		if n.local != nil {
			v, d := e.value(n.local.Expr)
			diags = diags.Extend(d)
			n.local.Value = v
			e.locals[n.local.Name] = v
			e.stale["local"] = true
		} else {
			diags = diags.Extend(e.evalHost(n.host, transports))
		}
	}
	return diags
}

// valueGraph returns the nodes of locals and hosts, in declaration order,
// each with the nodes its expressions refer to.
func valueGraph(locals []*Local, hosts []*hostDecl) []*valueNode {
	nodes := make([]*valueNode, 0, len(locals)+len(hosts))
	byKey := make(map[string]*valueNode)
	for _, l := range locals {
		n := &valueNode{key: "local." + l.Name, local: l}
		nodes, byKey[n.key] = append(nodes, n), n
	}
	for _, h := range hosts {
		n := &valueNode{key: "host." + h.h.Name, host: h}
		nodes, byKey[n.key] = append(nodes, n), n
	}
	for _, n := range nodes {
		n.link(nodes, byKey)
	}
	return nodes
}

// link sets n's deps: the nodes, of all nodes, that its expressions refer
// to, each once.
func (n *valueNode) link(nodes []*valueNode, byKey map[string]*valueNode) {
	seen := make(map[*valueNode]bool)
	add := func(dep *valueNode, rng hcl.Range) {
		if dep != nil && !seen[dep] {
			seen[dep] = true
			n.deps, n.depRefs = append(n.deps, dep), append(n.depRefs, rng)
		}
	}
	for _, expr := range n.exprs() {
		for _, tr := range expr.Variables() {
			root := tr.RootName()
			if root != "local" && root != "host" {
				continue
			}
			if name, rng, ok := traversalName(tr); ok {
				if dep := byKey[root+"."+name]; dep != nil || root == "local" {
					add(dep, rng)
					continue
				}
				// Not a host block's name: maybe a host a for_each
				// makes, known only once every such block is evaluated.
				for _, dep := range nodes {
					if dep.host != nil && dep.host.forEach != nil && dep != n {
						add(dep, rng)
					}
				}
				continue
			}
			// A bare `local` or `host` is the whole object: every one.
			for _, dep := range nodes {
				if strings.HasPrefix(dep.key, root+".") {
					add(dep, tr.SourceRange())
				}
			}
		}
	}
}

// orderValues orders nodes so that each comes after its deps: depth-first,
// in declaration order, so independent values keep it. It reports each
// cycle, and returns the members of cycles as broken.
func orderValues(nodes []*valueNode) (order []*valueNode, broken map[*valueNode]bool, diags hcl.Diagnostics) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := make(map[*valueNode]int)
	broken = make(map[*valueNode]bool)
	var stack []*valueNode
	var visit func(n *valueNode)
	visit = func(n *valueNode) {
		state[n] = visiting
		stack = append(stack, n)
		for i, dep := range n.deps {
			switch state[dep] {
			case unvisited:
				visit(dep)
			case visiting:
				cycle := stack[slices.Index(stack, dep):]
				for _, c := range cycle {
					broken[c] = true
				}
				diags = diags.Append(valueCycle(cycle, n.depRefs[i]))
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		order = append(order, n)
	}
	for _, n := range nodes {
		if state[n] == unvisited {
			visit(n)
		}
	}
	return order, broken, diags
}

// valueCycle reports locals and hosts that refer to each other in a loop;
// the last one refers to the first at rng.
func valueCycle(cycle []*valueNode, rng hcl.Range) *hcl.Diagnostic {
	keys := make([]string, 0, len(cycle)+1)
	for _, c := range cycle {
		keys = append(keys, c.reference())
	}
	keys = append(keys, keys[0])
	detail := fmt.Sprintf("%s refers to itself. ", keys[0])
	if len(cycle) > 1 {
		detail = fmt.Sprintf("These values refer to each other in a loop: %s. ", strings.Join(keys, " refers to "))
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Circular reference to %s", keys[0]),
		Detail:   detail + "A value cannot depend on itself, even through others; break the loop, for example with a variable.",
		Subject:  rng.Ptr(),
	}
}

// reference is how an expression refers to n, for a message: local.a,
// host.web1, or host["db1.example.com"] for a host name that is no
// identifier (an empty one too, of a block already in error).
func (n *valueNode) reference() string {
	if n.host == nil || hclsyntax.ValidIdentifier(n.host.h.Name) {
		return n.key
	}
	return fmt.Sprintf("host[%q]", n.host.h.Name)
}

package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// DefaultTransport is the transport of a host that names none.
const DefaultTransport = "ssh"

// ImplicitHost returns the one host of a configuration without host blocks:
// this machine, through the local transport.
func ImplicitHost() *Host {
	return &Host{Name: "localhost", Address: "localhost", Transport: "local", Implicit: true}
}

// hostDecl is a decoded host block with its core attributes unevaluated.
// A block with for_each declares no host of its own: h is then the
// template its instances are made from, and instances are set once
// for_each is evaluated (see foreach.go).
type hostDecl struct {
	h                               *Host
	address, roles, transport, vars *hcl.Attribute
	forEach                         *hcl.Attribute
	instances                       []*Host
	// unknown is set when for_each could not be evaluated, so which hosts
	// the block makes is not known.
	unknown bool
}

// hosts are the hosts the block declares: itself, or its instances.
func (d *hostDecl) hosts() []*Host {
	if d.forEach != nil {
		return d.instances
	}
	return []*Host{d.h}
}

func decodeHostBlock(block *hcl.Block) (*hostDecl, hcl.Diagnostics) {
	h := &Host{
		Name:      block.Labels[0],
		Transport: DefaultTransport,
		DeclRange: block.DefRange,
		NameRange: block.LabelRanges[0],
	}
	h.Address = h.Name
	diags := checkHostName(h.Name, h.NameRange)
	content, remain, d := block.Body.PartialContent(hostSchema)
	diags = diags.Extend(d)
	h.Config = remain
	return &hostDecl{
		h:         h,
		address:   content.Attributes["address"],
		roles:     content.Attributes["roles"],
		transport: content.Attributes["transport"],
		vars:      content.Attributes["vars"],
		forEach:   content.Attributes["for_each"],
	}, diags
}

// evalHost evaluates a host's address, roles, transport and vars and makes
// it visible as host.NAME; a block with for_each makes every instance.
// transports are the declared transport blocks.
func (e *evaluator) evalHost(d *hostDecl, transports map[string]*Transport) hcl.Diagnostics {
	if d.forEach != nil {
		return e.evalHostForEach(d, transports)
	}
	return e.evalHostAttrs(d, transports)
}

// evalHostAttrs evaluates the attributes of d into d.h. For an instance of
// a for_each block, d is the block's declaration with h the instance, and
// each is set in the evaluation context.
func (e *evaluator) evalHostAttrs(d *hostDecl, transports map[string]*Transport) hcl.Diagnostics {
	h := d.h
	var diags hcl.Diagnostics
	address := cty.StringVal(h.Address)
	roles := cty.ListValEmpty(cty.String)
	if len(h.Roles) > 0 {
		roles = stringListVal(h.Roles)
	}

	s, ok, dd := e.stringAttr(d.address)
	diags = diags.Extend(dd)
	switch {
	case ok && strings.TrimSpace(s) == "":
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Empty address for host %q", h.Name),
			Detail:   "A host's address is a host name or an IP address; remove address to use the host's name.",
			Subject:  d.address.Expr.Range().Ptr(),
			Context:  d.address.Range.Ptr(),
		})
		address = cty.UnknownVal(cty.String)
	case ok:
		h.Address = s
		address = cty.StringVal(s)
	case d.address != nil && !dd.HasErrors():
		// null: the name stays the address.
	case d.address != nil:
		address = cty.UnknownVal(cty.String)
	}

	list, ok, dd := e.stringListAttr(d.roles)
	diags = diags.Extend(dd)
	switch {
	case ok:
		valid := true
		for i, r := range list {
			if r == "" || strings.ContainsFunc(r, isSpace) {
				valid = false
				diags = diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Invalid role %q", r),
					Detail:   "A role is a non-empty name without spaces, such as \"web\", that tasks select hosts by in on.",
					Subject:  elemRange(d.roles.Expr, i).Ptr(),
					Context:  d.roles.Range.Ptr(),
				})
			}
		}
		if valid {
			// An instance of a for_each block starts with its block's
			// label as a role, not repeated when roles names it too.
			label := len(h.Roles)
			for _, r := range list {
				if !slices.Contains(h.Roles[:label], r) {
					h.Roles = append(h.Roles, r)
				}
			}
			if len(h.Roles) > 0 {
				roles = stringListVal(h.Roles)
			}
		} else {
			roles = cty.UnknownVal(cty.List(cty.String))
		}
	case d.roles != nil:
		roles = cty.UnknownVal(cty.List(cty.String))
	}

	name, ok, dd := e.stringAttr(d.transport)
	diags = diags.Extend(dd)
	if ok {
		diags = diags.Extend(checkHostTransport(d, name, transports))
	}

	diags = diags.Extend(e.evalHostVars(d))

	e.hosts[h.Name] = hostObject(h.Name, address, roles)
	e.stale["host"] = true
	return diags
}

// evalHostVars evaluates vars, which must be an object or a map; its
// attributes are the host's own values, which a task's run, rollback, env
// and file blocks read as target.vars.NAME (target.go).
func (e *evaluator) evalHostVars(d *hostDecl) hcl.Diagnostics {
	v, ok, diags := e.attrValue(d.vars)
	if !ok {
		return diags
	}
	if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
		return diags.Append(typeError(d.vars, "an object, such as { weight = 3 },", v))
	}
	d.h.Vars = v
	return diags
}

func stringListVal(list []string) cty.Value {
	vals := make([]cty.Value, len(list))
	for i, s := range list {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// hostObject is a host as expressions see it: host.NAME, with name,
// address and roles.
func hostObject(name string, address, roles cty.Value) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name":    cty.StringVal(name),
		"address": address,
		"roles":   roles,
	})
}

// checkHostTransport sets the host's transport to name if it is a built-in
// or declared one.
func checkHostTransport(d *hostDecl, name string, transports map[string]*Transport) hcl.Diagnostics {
	subject, context := d.transport.Expr.Range().Ptr(), d.transport.Range.Ptr()
	if strings.TrimSpace(name) == "" {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Empty transport for host %q", d.h.Name),
			Detail: fmt.Sprintf("transport names how fanout reaches the host: %q (the default), %q, or a transport "+
				"declared by a transport block. Remove the attribute to use %q.", "ssh", "local", DefaultTransport),
			Subject: subject,
			Context: context,
		}}
	}
	if _, ok := transports[name]; !ok && !isBuiltinTransport(name) {
		// A built-in one declared by a block too is one transport.
		known := slices.Compact(slices.Sorted(slices.Values(slices.Concat(builtinTransports, slices.Collect(maps.Keys(transports))))))
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Unknown transport %q", name),
			Detail: fmt.Sprintf("Host %q uses the transport %q, which is neither built in nor declared.%s "+
				"Known transports: %s. To use the plugin fanout-transport-%s, declare it with a transport %q {} block.",
				d.h.Name, name, didYouMean(name, known), quotedList(known), name, name),
			Subject: subject,
			Context: context,
		}}
	}
	d.h.Transport = name
	return nil
}

// ReservedHostAttributes returns the names of the attributes fanout itself
// reads from a host block: a transport's host schema must not declare
// them, since its plugin would never receive them.
func ReservedHostAttributes() []string { return attributeNames(hostSchema) }

// hostSchema holds the attributes fanout itself reads; the rest of a host
// block is left in Host.Config for the transport.
var hostSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address"},
		{Name: "roles"},
		{Name: "transport"},
		{Name: "vars"},
		{Name: "for_each"},
	},
}

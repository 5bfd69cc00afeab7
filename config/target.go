package config

import (
	"fmt"
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// This file gives expressions target, the host a task's values are for:
// target.name, target.address, target.roles and target.vars. A task whose
// run, rollback or env refers to it is evaluated once per host, as are its
// upload and download blocks (transfer.go).

// HostValues are a task's run, rollback and env as one host gets them,
// and its check's commands when they refer to target (nil otherwise: the
// task's Check.Run).
type HostValues struct {
	Run      []string
	Rollback []string
	Env      map[string]string
	Check    []string
}

// targetObject is a host as expressions see it through target: name,
// address, roles, and vars (its own values, an empty object when it
// declares none).
func targetObject(h *Host) cty.Value {
	vars := h.Vars
	if vars == cty.NilVal || vars.IsNull() {
		vars = cty.EmptyObjectVal
	}
	roles := cty.ListValEmpty(cty.String)
	if len(h.Roles) > 0 {
		vals := make([]cty.Value, len(h.Roles))
		for i, r := range h.Roles {
			vals[i] = cty.StringVal(r)
		}
		roles = cty.ListVal(vals)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":    cty.StringVal(h.Name),
		"address": cty.StringVal(h.Address),
		"roles":   roles,
		"vars":    vars,
	})
}

// refersTarget reports whether any of attrs refers to target.
func refersTarget(attrs ...*hcl.Attribute) bool {
	for _, a := range attrs {
		if a == nil {
			continue
		}
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() == "target" {
				return true
			}
		}
	}
	return false
}

// evalPerHost evaluates run, rollback and env once per host of the task
// when any of them refers to target, into Task.PerHost; Run, Rollback and
// Env then hold the first host's values. A mistake is reported once, for
// the first host it shows on.
func (e *evaluator) evalPerHost(d *taskDecl) hcl.Diagnostics {
	run, rollback, env := d.attrs["run"], d.attrs["rollback"], d.attrs["env"]
	// Which of them refers to target is the same for every host.
	runT, rollbackT, envT := refersTarget(run), refersTarget(rollback), refersTarget(env)
	if !runT && !rollbackT && !envT || len(d.t.Hosts) == 0 {
		return nil
	}
	t := d.t
	taskEnv := t.Env
	defer func() { e.target = nil }()
	t.PerHost = make(map[string]*HostValues, len(t.Hosts))
	for _, h := range t.Hosts {
		e.target = h
		var diags hcl.Diagnostics
		hv := &HostValues{}
		if runT {
			cmds, _, dd := e.commands(d, run)
			diags = diags.Extend(dd)
			hv.Run = cmds
		} else {
			hv.Run = t.Run
		}
		if rollbackT {
			cmds, _, dd := e.commands(d, rollback)
			diags = diags.Extend(dd)
			if len(cmds) > 0 {
				hv.Rollback = cmds
			}
		} else {
			hv.Rollback = t.Rollback
		}
		if envT {
			diags = diags.Extend(e.evalEnv(d))
			hv.Env, t.Env = t.Env, taskEnv
		} else {
			hv.Env = taskEnv
		}
		if diags.HasErrors() {
			t.PerHost = nil
			return forHost(diags, h.Name)
		}
		t.PerHost[h.Name] = hv
	}
	first := t.PerHost[t.Hosts[0].Name]
	t.Run, t.Rollback, t.Env = first.Run, first.Rollback, maps.Clone(first.Env)
	return nil
}

// forHost says which host a value evaluated per host failed for: in an
// inventory of hundreds, "no attribute x" alone does not say where. A
// missing key of target.vars gets the function that gives a default.
func forHost(diags hcl.Diagnostics, host string) hcl.Diagnostics {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		d.Detail += fmt.Sprintf(" (Evaluated for host %q: the first host where it fails.)", host)
		if d.Summary == "Unsupported attribute" {
			d.Detail += ` A key only some hosts' vars have can be read with a default: lookup(target.vars, "NAME", "DEFAULT").`
		}
	}
	return diags
}

// evalCheckPerHost evaluates a check's run once per host when it refers
// to target, into the hosts' HostValues.Check; c.Run then holds the first
// host's. A task whose other values are the same everywhere gets
// PerHost all the same, with them.
func (e *evaluator) evalCheckPerHost(d *taskDecl, c *Check) hcl.Diagnostics {
	t := d.t
	if len(t.Hosts) == 0 {
		return nil
	}
	defer func() { e.target = nil }()
	per := make(map[string][]string, len(t.Hosts))
	for _, h := range t.Hosts {
		e.target = h
		cmds, _, diags := e.commands(d, d.check.attrs["run"])
		if diags.HasErrors() {
			return forHost(diags, h.Name)
		}
		per[h.Name] = cmds
	}
	if t.PerHost == nil {
		t.PerHost = make(map[string]*HostValues, len(t.Hosts))
		for _, h := range t.Hosts {
			t.PerHost[h.Name] = &HostValues{Run: t.Run, Rollback: t.Rollback, Env: maps.Clone(t.Env)}
		}
	}
	for name, cmds := range per {
		t.PerHost[name].Check = cmds
	}
	c.Run = per[t.Hosts[0].Name]
	return nil
}

package config

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// buildConfig merges decoded files into one Config, in the files' order,
// and evaluates it: names first (duplicates), then variables, locals and
// hosts, settings, transports, tasks, groups, and last the group tree and
// its roots. Each step goes on past errors in earlier ones; values in error
// are unknown, and what depends on them is skipped without more noise.
func buildConfig(files []*file, opts LoadOptions) (*Config, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cfg := &Config{Transports: make(map[string]*Transport)}
	e := newEvaluator()

	// The first declaration of a name wins; later ones are reported and
	// dropped, so references still resolve.
	var settings *settingsDecl
	var variables []*variableDecl
	var transports []*transportDecl
	var hosts []*hostDecl
	var tasks []*taskDecl
	var groups []*groupDecl
	var nodes []Node
	seenVars := make(map[string]*Variable)
	seenLocals := make(map[string]*Local)
	seenHosts := make(map[string]*Host)
	taskByName := make(map[string]*Task)
	groupByName := make(map[string]*groupDecl)

	for _, f := range files {
		for _, s := range f.settings {
			if settings != nil {
				diags = diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate fanout block",
					Detail: fmt.Sprintf("A fanout block was already given at %s. A configuration has one fanout block "+
						"at most, across all its files; merge the two.", settings.DeclRange),
					Subject: s.DeclRange.Ptr(),
				})
				continue
			}
			settings = s
		}
		for _, v := range f.variables {
			if prev, ok := seenVars[v.v.Name]; ok {
				diags = diags.Append(duplicate("variable", v.v.Name, v.v.NameRange, prev.DeclRange))
				continue
			}
			seenVars[v.v.Name] = v.v
			variables = append(variables, v)
			cfg.Variables = append(cfg.Variables, v.v)
		}
		for _, l := range f.locals {
			if prev, ok := seenLocals[l.Name]; ok {
				diags = diags.Append(duplicate("local value", l.Name, l.NameRange, prev.DeclRange))
				continue
			}
			seenLocals[l.Name] = l
			cfg.Locals = append(cfg.Locals, l)
			e.locals[l.Name] = cty.DynamicVal
		}
		for _, t := range f.transports {
			if prev, ok := cfg.Transports[t.t.Name]; ok {
				diags = diags.Append(duplicate("transport", t.t.Name, t.t.NameRange, prev.DeclRange))
				continue
			}
			cfg.Transports[t.t.Name] = t.t
			transports = append(transports, t)
		}
		for _, h := range f.hosts {
			if prev, ok := seenHosts[h.h.Name]; ok {
				diags = diags.Append(duplicate("host", h.h.Name, h.h.NameRange, prev.DeclRange))
				continue
			}
			seenHosts[h.h.Name] = h.h
			hosts = append(hosts, h)
			cfg.Hosts = append(cfg.Hosts, h.h)
			e.hosts[h.h.Name] = cty.DynamicVal
		}

		// Tasks and groups, interleaved as in the file, are the candidate
		// roots, whose order is the run order.
		var fileNodes []Node
		for _, t := range f.tasks {
			if prev, ok := taskByName[t.t.Name]; ok {
				diags = diags.Append(duplicate("task", t.t.Name, t.t.NameRange, prev.DeclRange))
				continue
			}
			taskByName[t.t.Name] = t.t
			tasks = append(tasks, t)
			cfg.Tasks = append(cfg.Tasks, t.t)
			fileNodes = append(fileNodes, t.t)
		}
		for _, g := range f.groups {
			if name := g.group.Name; name != "" {
				if prev, ok := groupByName[name]; ok {
					diags = diags.Append(duplicate("parallelize", name, g.group.NameRange, prev.group.DeclRange))
					continue
				}
				groupByName[name] = g
			}
			groups = append(groups, g)
			fileNodes = append(fileNodes, g.group)
		}
		slices.SortStableFunc(fileNodes, func(a, b Node) int { return a.Range().Start.Byte - b.Range().Start.Byte })
		nodes = append(nodes, fileNodes...)
	}
	// groups are in declaration order already: files in order, blocks in
	// source order.
	for _, g := range groups {
		cfg.Groups = append(cfg.Groups, g.group)
	}

	diags = diags.Extend(assignVariables(variables, opts.Vars, opts.Values))
	for _, v := range variables {
		e.vars[v.v.Name] = v.v.Value
	}

	if len(hosts) == 0 {
		h := ImplicitHost()
		cfg.Hosts = []*Host{h}
		e.hosts[h.Name] = cty.ObjectVal(map[string]cty.Value{
			"name":    cty.StringVal(h.Name),
			"address": cty.StringVal(h.Address),
			"roles":   cty.ListValEmpty(cty.String),
		})
	}
	e.sync()
	diags = diags.Extend(e.evalLocalsAndHosts(cfg.Locals, hosts, cfg.Transports))

	var s hcl.Diagnostics
	cfg.Settings, s = e.evalSettings(settings)
	diags = diags.Extend(s)
	for _, t := range transports {
		diags = diags.Extend(e.evalTransport(t))
	}
	for _, t := range tasks {
		diags = diags.Extend(e.evalTask(t, cfg.Hosts))
	}
	for _, g := range groups {
		diags = diags.Extend(e.evalGroupThreads(g, cfg.Settings))
	}

	cfg.Roots, s = resolveGroups(nodes, taskByName, groups, groupByName)
	diags = diags.Extend(s)
	cfg.EvalContext = e.context(allRoots)
	return cfg, diags
}

// duplicate reports a second declaration of a name.
func duplicate(kind, name string, rng, prev hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s %q", kind, name),
		Detail: fmt.Sprintf("A %s named %q was already declared at %s. Names of each kind are unique across "+
			"all the files of a configuration; rename or remove one of the two.", kind, name, prev),
		Subject: rng.Ptr(),
	}
}

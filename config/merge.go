package config

import (
	"fmt"
	"io/fs"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// buildConfig merges decoded files into one Config, in the files' order,
// and evaluates it: names first (duplicates), then variables, locals and
// hosts, settings, transports, tasks, groups, and last the group tree and
// its roots. Each step goes on past errors in earlier ones; values in error
// are unknown, and what depends on them is skipped without more noise.
//
// file(), templatefile() and upload sources read relative to dir in fsys:
// the configuration's directory.
func buildConfig(files []*file, opts LoadOptions, fsys fs.FS, dir string) (*Config, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	cfg := &Config{Transports: make(map[string]*Transport)}
	e := newEvaluator()
	e.ctx.Functions["file"] = fileFunc(fsys, dir)
	e.ctx.Functions["templatefile"] = templateFileFunc(fsys, dir)
	cfg.Files, cfg.Dir = fsys, dir
	e.fsys, e.dir = fsys, dir

	// The first declaration of a name wins; later ones are reported and
	// dropped, so references still resolve.
	var settings *settingsDecl
	var variables []*variableDecl
	var transports []*transportDecl
	var hosts []*hostDecl
	var tasks []*taskDecl
	var groups []*groupDecl
	var nodes []Node
	declared := make(declarations)
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
			if d := declared.add("variable", v.v.Name, v.v.NameRange, v.v.DeclRange); d != nil {
				diags = diags.Append(d)
				continue
			}
			variables = append(variables, v)
			cfg.Variables = append(cfg.Variables, v.v)
		}
		for _, l := range f.locals {
			if d := declared.add("local value", l.Name, l.NameRange, l.DeclRange); d != nil {
				diags = diags.Append(d)
				continue
			}
			cfg.Locals = append(cfg.Locals, l)
			e.locals[l.Name] = cty.DynamicVal
		}
		for _, t := range f.transports {
			if d := declared.add("transport", t.t.Name, t.t.NameRange, t.t.DeclRange); d != nil {
				diags = diags.Append(d)
				continue
			}
			cfg.Transports[t.t.Name] = t.t
			transports = append(transports, t)
		}
		for _, h := range f.hosts {
			if d := declared.add("host", h.h.Name, h.h.NameRange, h.h.DeclRange); d != nil {
				diags = diags.Append(d)
				continue
			}
			hosts = append(hosts, h)
			if h.forEach == nil {
				e.hosts[h.h.Name] = cty.DynamicVal
				e.hostRanges[h.h.Name] = h.h.NameRange
			}
		}

		// Tasks and groups, interleaved as in the file, are the candidate
		// roots, whose order is the run order.
		var fileNodes []Node
		for _, t := range f.tasks {
			if d := declared.add("task", t.t.Name, t.t.NameRange, t.t.DeclRange); d != nil {
				diags = diags.Append(d)
				continue
			}
			taskByName[t.t.Name] = t.t
			tasks = append(tasks, t)
			cfg.Tasks = append(cfg.Tasks, t.t)
			fileNodes = append(fileNodes, t.t)
		}
		for _, g := range f.groups {
			if name := g.group.Name; name != "" {
				if d := declared.add("parallelize", name, g.group.NameRange, g.group.DeclRange); d != nil {
					diags = diags.Append(d)
					continue
				}
				groupByName[name] = g
			}
			groups = append(groups, g)
			cfg.Groups = append(cfg.Groups, g.group)
			fileNodes = append(fileNodes, g.group)
		}
		slices.SortStableFunc(fileNodes, func(a, b Node) int { return a.Range().Start.Byte - b.Range().Start.Byte })
		nodes = append(nodes, fileNodes...)
	}

	diags = diags.Extend(assignVariables(variables, withEnvVars(variables, opts.EnvVars, opts.Vars), opts.Values))
	for _, v := range variables {
		e.vars[v.v.Name] = v.v.Value
	}

	if len(hosts) == 0 {
		h := ImplicitHost()
		cfg.Hosts = []*Host{h}
		e.hosts[h.Name] = hostObject(h.Name, cty.StringVal(h.Address), cty.ListValEmpty(cty.String))
	}
	e.sync()
	diags = diags.Extend(e.evalLocalsAndHosts(cfg.Locals, hosts, cfg.Transports))
	// The instances of for_each blocks are known now; hosts keep the
	// order of their blocks.
	for _, h := range hosts {
		cfg.Hosts = append(cfg.Hosts, h.hosts()...)
	}

	var s hcl.Diagnostics
	cfg.Settings, s = e.evalSettings(settings)
	diags = diags.Extend(s)
	for _, t := range transports {
		diags = diags.Extend(e.evalTransport(t))
	}
	hostIdx := newHostIndex(cfg.Hosts, e.hosts)
	for _, h := range hosts {
		if h.forEach != nil {
			// The label is a role even of a block that makes no host.
			hostIdx.roles[h.h.Name] = true
			hostIdx.complete = hostIdx.complete && !h.unknown
		}
	}
	for _, v := range cfg.Variables {
		if v.Sensitive {
			e.sensitive[v.Name] = true
		}
	}
	for _, t := range tasks {
		diags = diags.Extend(e.evalTask(t, hostIdx))
	}
	for _, g := range groups {
		diags = diags.Extend(e.evalGroupThreads(g, cfg.Settings))
	}

	cfg.Roots, s = resolveGroups(nodes, taskByName, groups, groupByName)
	diags = diags.Extend(s)
	cfg.EvalContext = e.context(allRoots)
	return cfg, diags
}

// declarations are where each name of each kind was first declared, by
// {kind, name}: names of different kinds, such as task "x" and host "x",
// do not clash.
type declarations map[[2]string]hcl.Range

// add records the declaration of name, whose label is at nameRng, or, when
// the name was declared already, returns the diagnostic for the duplicate.
func (ds declarations) add(kind, name string, nameRng, declRng hcl.Range) *hcl.Diagnostic {
	key := [2]string{kind, name}
	if prev, ok := ds[key]; ok {
		return duplicate(kind, name, nameRng, prev)
	}
	ds[key] = declRng
	return nil
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

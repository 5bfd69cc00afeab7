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
//
// file(), templatefile() and upload sources read from where.
func buildConfig(files []*file, opts LoadOptions, where configFS) (*Config, hcl.Diagnostics) {
	b := &builder{
		cfg:         &Config{Transports: make(map[string]*Transport)},
		e:           newEvaluator(),
		declared:    make(declarations),
		taskByName:  make(map[string]*Task),
		groupByName: make(map[string]*groupDecl),
		sensitive:   &sensitiveValues{},
	}
	// Every function records what it computes from a sensitive value,
	// for redaction (sensitive.go).
	funcs := Functions()
	funcs["file"] = fileFunc(where)
	funcs["templatefile"] = templateFileFunc(where, b.sensitive)
	b.e.ctx.Functions = b.sensitive.wrap(funcs)
	b.cfg.sensitive = b.sensitive
	b.cfg.Files, b.cfg.Dir = where.fsys, where.dir
	b.e.files = where

	for _, f := range files {
		b.declareSettings(f)
		b.declareValues(f)
		b.declareNodes(f)
	}
	b.evalVariables(opts)
	b.evalLocalsAndHosts()
	b.evalSettingsAndTransports()
	b.evalTasksAndGroups()

	roots, diags := resolveGroups(b.nodes, b.taskByName, b.groups, b.groupByName)
	b.diags = b.diags.Extend(diags)
	b.cfg.Roots = roots
	b.cfg.EvalContext = b.e.context(allRoots)
	return b.cfg, redactSensitive(b.diags, b.variables, opts, b.sensitive)
}

// builder is the state of buildConfig's steps: the Config being built, the
// evaluator its expressions are evaluated in, and the declarations kept.
// The first declaration of a name wins; later ones are reported and
// dropped, so references still resolve.
type builder struct {
	cfg   *Config
	e     *evaluator
	diags hcl.Diagnostics

	declared   declarations
	settings   *settingsDecl
	variables  []*variableDecl
	transports []*transportDecl
	hosts      []*hostDecl
	tasks      []*taskDecl
	groups     []*groupDecl
	// nodes are the tasks and groups of all files, the candidate roots,
	// in the run order: each file's in source order, files in order.
	nodes       []Node
	taskByName  map[string]*Task
	groupByName map[string]*groupDecl
	// sensitive holds the sensitive variables' values and what the
	// functions compute from them.
	sensitive *sensitiveValues
}

// declareSettings keeps the first fanout block of all files.
func (b *builder) declareSettings(f *file) {
	for _, s := range f.settings {
		if b.settings != nil {
			b.diags = b.diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate fanout block",
				Detail: fmt.Sprintf("A fanout block was already given at %s. A configuration has one fanout block "+
					"at most, across all its files; merge the two.", b.settings.DeclRange),
				Subject: s.DeclRange.Ptr(),
			})
			continue
		}
		b.settings = s
	}
}

// declareValues declares the variables, locals, transports and hosts of f,
// in that order. Locals and single hosts are unknown until evaluated.
func (b *builder) declareValues(f *file) {
	for _, v := range f.variables {
		if d := b.declared.add("variable", v.v.Name, v.v.NameRange, v.v.DeclRange); d != nil {
			b.diags = b.diags.Append(d)
			continue
		}
		b.variables = append(b.variables, v)
		b.cfg.Variables = append(b.cfg.Variables, v.v)
	}
	for _, l := range f.locals {
		if d := b.declared.add("local value", l.Name, l.NameRange, l.DeclRange); d != nil {
			b.diags = b.diags.Append(d)
			continue
		}
		b.cfg.Locals = append(b.cfg.Locals, l)
		b.e.locals[l.Name] = cty.DynamicVal
	}
	for _, t := range f.transports {
		if d := b.declared.add("transport", t.t.Name, t.t.NameRange, t.t.DeclRange); d != nil {
			b.diags = b.diags.Append(d)
			continue
		}
		b.cfg.Transports[t.t.Name] = t.t
		b.transports = append(b.transports, t)
	}
	for _, h := range f.hosts {
		if d := b.declared.add("host", h.h.Name, h.h.NameRange, h.h.DeclRange); d != nil {
			b.diags = b.diags.Append(d)
			continue
		}
		b.hosts = append(b.hosts, h)
		if h.forEach == nil {
			b.e.hosts[h.h.Name] = cty.DynamicVal
			b.e.hostRanges[h.h.Name] = h.h.NameRange
		}
	}
}

// declareNodes declares the tasks and groups of f. Interleaved as in the
// file, they are candidate roots, whose order is the run order.
func (b *builder) declareNodes(f *file) {
	var fileNodes []Node
	for _, t := range f.tasks {
		if d := b.declared.add("task", t.t.Name, t.t.NameRange, t.t.DeclRange); d != nil {
			b.diags = b.diags.Append(d)
			continue
		}
		b.taskByName[t.t.Name] = t.t
		b.tasks = append(b.tasks, t)
		b.cfg.Tasks = append(b.cfg.Tasks, t.t)
		fileNodes = append(fileNodes, t.t)
	}
	for _, g := range f.groups {
		if name := g.group.Name; name != "" {
			if d := b.declared.add("parallelize", name, g.group.NameRange, g.group.DeclRange); d != nil {
				b.diags = b.diags.Append(d)
				continue
			}
			b.groupByName[name] = g
		}
		b.groups = append(b.groups, g)
		b.cfg.Groups = append(b.cfg.Groups, g.group)
		fileNodes = append(fileNodes, g.group)
	}
	slices.SortStableFunc(fileNodes, func(x, y Node) int { return x.Range().Start.Byte - y.Range().Start.Byte })
	b.nodes = append(b.nodes, fileNodes...)
}

// evalVariables gives the variables their values: from opts, the
// environment, or their defaults.
func (b *builder) evalVariables(opts LoadOptions) {
	raw, fromEnv := withEnvVars(b.variables, opts.EnvVars, opts.Vars)
	b.diags = b.diags.Extend(assignVariables(b.variables, raw, fromEnv, opts.Values, opts.Unset))
	for _, v := range b.variables {
		b.e.vars[v.v.Name] = v.v.Value
		if v.v.Sensitive {
			b.sensitive.addVariable(v.v.Name, v.v.Value)
		}
	}
}

// evalLocalsAndHosts evaluates the locals and the host blocks, which may
// refer to each other; without host blocks the configuration has the
// implicit host.
func (b *builder) evalLocalsAndHosts() {
	if len(b.hosts) == 0 {
		h := ImplicitHost()
		b.cfg.Hosts = []*Host{h}
		b.e.hosts[h.Name] = hostObject(h.Name, cty.StringVal(h.Address), cty.ListValEmpty(cty.String))
	}
	b.e.sync()
	b.diags = b.diags.Extend(b.e.evalLocalsAndHosts(b.cfg.Locals, b.hosts, b.cfg.Transports))
	// The instances of for_each blocks are known now; hosts keep the
	// order of their blocks.
	for _, h := range b.hosts {
		b.cfg.Hosts = append(b.cfg.Hosts, h.hosts()...)
	}
}

// evalSettingsAndTransports evaluates the fanout block and the transports.
func (b *builder) evalSettingsAndTransports() {
	// sudo_password must name a sensitive variable; tasks' file blocks
	// ask the same later.
	for _, v := range b.cfg.Variables {
		if v.Sensitive {
			b.e.sensitive[v.Name] = true
		}
	}
	var diags hcl.Diagnostics
	b.cfg.Settings, diags = b.e.evalSettings(b.settings)
	b.diags = b.diags.Extend(diags)
	for _, t := range b.transports {
		b.diags = b.diags.Extend(b.e.evalTransport(t))
	}
}

// evalTasksAndGroups evaluates the tasks, against the hosts now known, and
// the groups' thread counts.
func (b *builder) evalTasksAndGroups() {
	hostIdx := newHostIndex(b.cfg.Hosts, b.e.hosts)
	for _, h := range b.hosts {
		if h.forEach != nil {
			// The label is a role even of a block that makes no host.
			hostIdx.roles[h.h.Name] = true
			hostIdx.complete = hostIdx.complete && !h.unknown
		}
	}
	b.diags = b.diags.Extend(hostsNamedLikeRoles(b.cfg.Hosts))
	for _, t := range b.tasks {
		b.diags = b.diags.Extend(b.e.evalTask(t, hostIdx))
	}
	for _, g := range b.groups {
		b.diags = b.diags.Extend(b.e.evalGroupThreads(g, b.cfg.Settings))
	}
}

// hostsNamedLikeRoles warns of a host whose name is a role of other
// hosts: on = ["web"] and -limit web then select it with the role's
// hosts, which an inventory making a host "web" beside a block "web"
// does by mistake.
func hostsNamedLikeRoles(hosts []*Host) hcl.Diagnostics {
	holders := map[string][]string{} // role -> hosts that hold it
	for _, h := range hosts {
		for _, r := range h.Roles {
			holders[r] = append(holders[r], h.Name)
		}
	}
	var diags hcl.Diagnostics
	for _, h := range hosts {
		others := slices.DeleteFunc(slices.Clone(holders[h.Name]), func(n string) bool { return n == h.Name })
		if len(others) == 0 {
			continue
		}
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  fmt.Sprintf("Host %q has the name of a role", h.Name),
			Detail: fmt.Sprintf("Role %q is also held by %s: on = [%q] and -limit %s select host %q with them. "+
				"Rename the host or the role if they are not meant to go together.", h.Name, quotedList(others), h.Name, h.Name, h.Name),
			Subject: h.NameRange.Ptr(),
		})
	}
	return diags
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

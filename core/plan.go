package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/internal/nodeset"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Plan is what a run would do: the roots in the order they run, every task
// expanded to its hosts. It is data only; Apply executes it. A Plan must
// always be accompanied by the Transports it was built with, since the
// transports' settings were validated by those plugin processes.
type Plan struct {
	// Roots run one after another, in this order.
	Roots []Node
	// Hosts are the hosts any task of the plan runs on, in declaration order.
	Hosts []*Host
	// Transports are the transports the plan's hosts use, by name, with
	// what their plugins declared and the decoded settings.
	Transports []*TransportPlan
	// OnFailure is what the run does once a (task, host) fails.
	OnFailure config.OnFailure
	// Preflight connects every host before the first task runs.
	Preflight bool
	// Config is the configuration the plan was built from.
	Config *config.Config
	// RunID is PlanOptions.RunID: the run the transports were configured
	// for, empty when none was named.
	RunID string
	// Limit and Exclude are the host selection the plan was built with
	// (PlanOptions); Unselected names the configuration's hosts it left
	// out, in declaration order. All empty without a selection.
	Limit, Exclude []string
	Unselected     []string
}

// Node is a *Group or a *TaskNode.
type Node interface {
	// Label is "task NAME" or "parallelize NAME" for messages.
	Label() string
	node()
}

// Group is a parallelize block: its members run at most Threads at a time.
type Group struct {
	// Name is empty for an anonymous group.
	Name    string
	Threads int
	Members []Node
}

// TaskNode is a task expanded to its hosts.
type TaskNode struct {
	Name        string
	Description string
	Hosts       []*Host
	Run         []string
	Rollback    []string
	// Timeout bounds the task on one host (all its commands); 0 is none.
	Timeout time.Duration
	// MaxHosts caps how many hosts run it at once, within a wave; always
	// >= 1.
	MaxHosts int
	Env      map[string]string
	// PerHost holds Run, Rollback and Env as each host gets them when
	// they refer to target (config.Task.PerHost); Run, Rollback and Env are
	// then the first host's. Nil when every host gets the same. Use
	// Commands and HostEnv rather than the fields.
	PerHost map[string]*config.HostValues
	// Files are the upload and download blocks as each host gets them, by
	// host name (config.Task.Files); uploads run before Run, downloads
	// after it, as part of the pair. Nil when the task has none.
	Files map[string]*config.Files
	// Transfers are Files as the plan shows them, folded where hosts
	// agree.
	Transfers []Transfer
	// SudoUser, when set, is the user the task's commands, checks and
	// rollbacks run as, through sudo (sudo.go); empty for the login user.
	SudoUser string
	// Rollout holds the waves, failure budget, check, retries and
	// conditions (rollout.go); every task has at least one wave.
	Rollout
}

// Host is a host the plan touches, with its transport settings decoded.
type Host struct {
	Name      string
	Address   string
	Roles     []string
	Transport string
	// Config is the host's transport-specific settings, an object value of
	// the transport's host schema.
	Config cty.Value
}

// Label returns "task NAME".
func (t *TaskNode) Label() string { return "task " + t.Name }

// Commands returns the commands of phase on host: Run or Rollback, as that
// host gets them.
func (t *TaskNode) Commands(host string, phase Phase) []string {
	run, rollback := t.Run, t.Rollback
	if hv, ok := t.PerHost[host]; ok {
		run, rollback = hv.Run, hv.Rollback
	}
	if phase == PhaseRollback {
		return rollback
	}
	return run
}

// CheckCommands returns the check's commands as host gets them; nil for
// a task without a check.
func (t *TaskNode) CheckCommands(host string) []string {
	if t.Check == nil {
		return nil
	}
	if hv, ok := t.PerHost[host]; ok && hv.Check != nil {
		return hv.Check
	}
	return t.Check.Run
}

// HostEnv returns Env as host gets it.
func (t *TaskNode) HostEnv(host string) map[string]string {
	if hv, ok := t.PerHost[host]; ok {
		return hv.Env
	}
	return t.Env
}

// Label returns "parallelize NAME", or "parallelize" when anonymous.
func (g *Group) Label() string {
	if g.Name == "" {
		return "parallelize"
	}
	return "parallelize " + g.Name
}

func (*TaskNode) node() {}
func (*Group) node()    {}

// PlanOptions selects and supports what BuildPlan does.
type PlanOptions struct {
	// Targets names the tasks or groups to run instead of every root, in
	// the order they should run (like `cap deploy:restart`). Empty means
	// every root. A name given twice, or a task or group held by another
	// target group, is run once, in its place in that group.
	Targets []string
	// Limit keeps only the hosts that match one of these patterns: a host
	// name, a role, a nodeset ("web[01-20,25]", as the views fold host
	// sets: a bracket of numbers with a range or a list), or else a glob
	// over names and roles ("web*", "db[12]", as path.Match reads them).
	// Empty keeps every host.
	Limit []string
	// Exclude drops the hosts that match one of these patterns, after
	// Limit. A pattern of Limit or Exclude that matches no host of the
	// configuration is an error, since it is most likely a typo.
	Exclude []string
	// Transports describes and validates the transports; the same value
	// must be passed to Apply.
	Transports *Transports
	// RunID is the run the plan is built for, when one will follow: the
	// transports are configured with it (sdk.ConfigureRequest.RunID), and
	// Apply uses it when ApplyOptions.RunID is empty.
	RunID string
}

// BuildPlan expands a configuration into a Plan. Problems are diagnostics
// with source ranges; nothing runs and no host is contacted.
func BuildPlan(ctx context.Context, cfg *config.Config, opts PlanOptions) (*Plan, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	p := &Plan{
		OnFailure: cfg.Settings.OnFailure,
		Preflight: cfg.Settings.Preflight,
		Config:    cfg,
		RunID:     opts.RunID,
	}

	if len(cfg.Tasks) == 0 {
		// A run of nothing that "succeeded" hides a wrong path or an
		// unsaved file; Terraform's empty-directory run is no model here.
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No task in the configuration",
			Detail: "The configuration declares no task, so there is nothing to plan or run. Check the path, " +
				"or add a task, such as: task \"hello\" { run = \"echo hello\" }.",
		})
	}
	roots, rootDiags := selectRoots(cfg, opts.Targets)
	diags = append(diags, rootDiags...)
	if diags.HasErrors() {
		return nil, diags
	}

	selected, selDiags := selectHosts(cfg.Hosts, opts.Limit, opts.Exclude)
	diags = append(diags, selDiags...)
	if diags.HasErrors() {
		return nil, diags
	}
	p.Limit, p.Exclude = opts.Limit, opts.Exclude

	hosts := map[string]*Host{}
	used := map[string]bool{}
	for _, h := range cfg.Hosts {
		if selected == nil || selected[h.Name] {
			hosts[h.Name] = &Host{Name: h.Name, Address: h.Address, Roles: h.Roles, Transport: h.Transport}
		} else {
			p.Unselected = append(p.Unselected, h.Name)
		}
	}
	b := &planBuilder{hosts: hosts, used: used, tasks: map[*config.Task]*TaskNode{}, groups: map[*config.Parallelize]*Group{}, files: cfg.Files}
	for _, r := range roots {
		if n := b.node(r); n != nil {
			p.Roots = append(p.Roots, n)
		}
	}
	diags = append(diags, b.diags...)
	for _, h := range cfg.Hosts {
		if used[h.Name] {
			p.Hosts = append(p.Hosts, hosts[h.Name])
		}
	}
	if selected != nil && len(p.Roots) == 0 {
		return nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No task runs on the selected hosts",
			Detail: fmt.Sprintf("The host selection keeps %s, but none of the tasks to run is on any of them. "+
				"Widen the selection or name other tasks.", joinNames(selectedNames(cfg.Hosts, selected))),
		})
	}

	if opts.Transports != nil {
		tps, tdiags := opts.Transports.prepare(ctx, cfg, p.Hosts, opts.RunID)
		diags = append(diags, tdiags...)
		p.Transports = tps
		diags = append(diags, checkCapabilities(p, cfg)...)
		diags = append(diags, checkSudoCapabilities(p, cfg)...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return p, diags
}

type planBuilder struct {
	hosts  map[string]*Host
	used   map[string]bool
	tasks  map[*config.Task]*TaskNode
	groups map[*config.Parallelize]*Group
	// files is where upload sources are read, to show their sizes.
	files fs.FS
	diags hcl.Diagnostics
}

// node returns the plan node of n, or nil when a host selection left it
// with no host to run on: such tasks, and groups left empty, are pruned so
// that the plan shows, and the run does, only what will happen.
func (b *planBuilder) node(n config.Node) Node {
	switch n := n.(type) {
	case *config.Task:
		if t := b.task(n); t != nil {
			return t
		}
		return nil
	case *config.Parallelize:
		if g, ok := b.groups[n]; ok {
			if g == nil {
				return nil
			}
			return g
		}
		g := &Group{Name: n.Name, Threads: n.Threads}
		for _, m := range n.Members {
			if mn := b.node(m); mn != nil {
				g.Members = append(g.Members, mn)
			}
		}
		if len(g.Members) == 0 {
			b.groups[n] = nil
			return nil
		}
		b.groups[n] = g
		return g
	default:
		panic(fmt.Sprintf("core: unexpected config node %T", n))
	}
}

func (b *planBuilder) task(t *config.Task) *TaskNode {
	if tn, ok := b.tasks[t]; ok {
		return tn
	}
	tn := &TaskNode{
		Name:        t.Name,
		Description: t.Description,
		Run:         t.Run,
		Rollback:    t.Rollback,
		Timeout:     t.Timeout,
		MaxHosts:    t.MaxHosts,
		Env:         t.Env,
		PerHost:     t.PerHost,
	}
	if t.Sudo {
		tn.SudoUser = t.SudoUser
	}
	for _, h := range t.Hosts {
		if ph, ok := b.hosts[h.Name]; ok { // absent: not selected
			tn.Hosts = append(tn.Hosts, ph)
			b.used[h.Name] = true
		}
	}
	if len(tn.Hosts) == 0 && len(t.Hosts) > 0 {
		b.tasks[t] = nil
		return nil
	}
	tn.Rollout = planRollout(t, tn.Hosts)
	if w := tn.widestWave(); tn.MaxHosts <= 0 || tn.MaxHosts > w {
		tn.MaxHosts = max(w, 1)
	}
	if len(t.Files) > 0 && len(tn.Hosts) > 0 {
		tn.Files = t.Files
		var diags hcl.Diagnostics
		tn.Transfers, diags = buildTransfers(t, tn.Hosts, b.files)
		b.diags = append(b.diags, diags...)
	}
	b.tasks[t] = tn
	return tn
}

// selectRoots returns the configuration's roots, or the named targets.
func selectRoots(cfg *config.Config, targets []string) ([]config.Node, hcl.Diagnostics) {
	if len(targets) == 0 {
		return cfg.Roots, nil
	}
	byName := map[string]config.Node{}
	var names []string
	for _, t := range cfg.Tasks {
		byName[t.Name] = t
		byName["task."+t.Name] = t
		names = append(names, t.Name)
	}
	// A bare name both a task and a group have is ambiguous: which one
	// runs must not depend on which kind fanout looks up first.
	ambiguous := map[string]bool{}
	for _, g := range cfg.Groups {
		if g.Name == "" {
			continue
		}
		if _, clash := byName[g.Name]; clash {
			ambiguous[g.Name] = true
		} else {
			byName[g.Name] = g
		}
		byName["parallelize."+g.Name] = g
		names = append(names, g.Name)
	}
	var diags hcl.Diagnostics
	var roots []config.Node
	seen := map[config.Node]bool{}
	for _, name := range targets {
		if ambiguous[name] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Ambiguous name %q", name),
				Detail:   fmt.Sprintf("A task and a parallelize block are both named %q. Give task.%s or parallelize.%s.", name, name, name),
			})
			continue
		}
		n, ok := byName[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("No task or group named %q", name),
				Detail:   fmt.Sprintf("The names given after the configuration must be tasks or labelled parallelize blocks. Known names: %s.", joinNames(names)),
			})
			continue
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		roots = append(roots, n)
	}
	return dropSelectedMembers(roots), diags
}

// dropSelectedMembers removes the targets that a group among the targets
// already holds, at any depth: `apply g a` with task a in group g runs a
// once, in its place in g, since a task runs at most once per run.
func dropSelectedMembers(roots []config.Node) []config.Node {
	inside := map[config.Node]bool{}
	var mark func(g *config.Parallelize)
	mark = func(g *config.Parallelize) {
		for _, m := range g.Members {
			if inside[m] {
				continue
			}
			inside[m] = true
			if inner, ok := m.(*config.Parallelize); ok {
				mark(inner)
			}
		}
	}
	for _, r := range roots {
		if g, ok := r.(*config.Parallelize); ok {
			mark(g)
		}
	}
	return slices.DeleteFunc(roots, func(n config.Node) bool { return inside[n] })
}

// joinNames lists names for a diagnostic's detail, "(none)" when empty.
func joinNames(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// Walk calls fn for every task of the plan, depth first, in plan order.
// A task that appears under several roots (named targets) is visited once.
func (p *Plan) Walk(fn func(t *TaskNode)) {
	seen := map[*TaskNode]bool{}
	var walk func(n Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *TaskNode:
			if !seen[n] {
				seen[n] = true
				fn(n)
			}
		case *Group:
			for _, m := range n.Members {
				walk(m)
			}
		}
	}
	for _, r := range p.Roots {
		walk(r)
	}
}

// Labels returns the names of the plan's hosts, tasks and transports and the words
// core writes around values in causes and results ("task", "failed on
// host", "timed out after"): fanout's own words, which redaction must not
// cut into when a short sensitive value happens to be part of one.
func (p *Plan) Labels() []string {
	out := slices.Clone(ownWords)
	for _, h := range p.Hosts {
		out = append(out, h.Name, h.Transport)
	}
	p.Walk(func(t *TaskNode) { out = append(out, t.Name) })
	return out
}

// selectHosts applies Limit and Exclude to the configuration's hosts. It
// returns nil when neither is given (every host), else the names kept. A
// pattern that matches no host, or is not a valid glob or nodeset, is an
// error.
func selectHosts(hosts []*config.Host, limit, exclude []string) (map[string]bool, hcl.Diagnostics) {
	if len(limit) == 0 && len(exclude) == 0 {
		return nil, nil
	}
	var diags hcl.Diagnostics
	compile := func(kind string, patterns []string) []hostPattern {
		var out []hostPattern
		for _, pat := range patterns {
			hp, err := compileHostPattern(pat)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Invalid host pattern %q", pat),
					Detail: fmt.Sprintf("The %s pattern %q is not valid: %s. A pattern is a host name, a role, "+
						"a nodeset such as web[01-20,25] (numbers and ranges in brackets), "+
						"or a glob with *, ? and [...] as in shell file names.", kind, pat, err),
				})
				continue
			}
			if !slices.ContainsFunc(hosts, hp.match) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("No host matches %q", pat),
					Detail: fmt.Sprintf("The %s pattern %q matches no host name or role of the configuration. Hosts: %s. Roles: %s.",
						kind, pat, joinNames(hostNames(hosts)), joinNames(roleNames(hosts))),
				})
			}
			out = append(out, hp)
		}
		return out
	}
	limits := compile("limit", limit)
	excludes := compile("exclude", exclude)
	if diags.HasErrors() {
		return nil, diags
	}
	keep := map[string]bool{}
	for _, h := range hosts {
		in := len(limits) == 0 || slices.ContainsFunc(limits, func(p hostPattern) bool { return p.match(h) })
		out := slices.ContainsFunc(excludes, func(p hostPattern) bool { return p.match(h) })
		if in && !out {
			keep[h.Name] = true
		}
	}
	if len(keep) == 0 {
		detail := "Every host matching the limit is also excluded, so nothing would run. Change the limit or the exclusions."
		if len(limits) == 0 {
			detail = "Every host is excluded, so nothing would run. Change the exclusions."
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No host selected", Detail: detail})
		return nil, diags
	}
	return keep, diags
}

// hostPattern is one -limit or -exclude pattern, read once: a nodeset
// (names holds what it expands to) or a glob.
type hostPattern struct {
	glob  string
	names map[string]bool
}

// compileHostPattern reads a pattern as a nodeset when it is written as
// one (a bracket of numbers with a range or a list, "web[01-20]", which is
// how the views fold host sets), else as a glob ("web*", "db[12]").
func compileHostPattern(pat string) (hostPattern, error) {
	if nodeset.IsPattern(pat) {
		names, err := nodeset.Expand(pat)
		if err != nil {
			var e *nodeset.Error
			if errors.As(err, &e) {
				return hostPattern{}, errors.New(e.Msg)
			}
			return hostPattern{}, err
		}
		set := make(map[string]bool, len(names))
		for _, n := range names {
			set[n] = true
		}
		return hostPattern{names: set}, nil
	}
	if _, err := path.Match(pat, ""); err != nil {
		return hostPattern{}, err
	}
	return hostPattern{glob: pat}, nil
}

// match reports whether the pattern selects h: its name or one of its
// roles, equal, in the nodeset, or matching the glob.
func (p hostPattern) match(h *config.Host) bool {
	for _, s := range append([]string{h.Name}, h.Roles...) {
		if p.names != nil {
			if p.names[s] {
				return true
			}
			continue
		}
		if ok, _ := path.Match(p.glob, s); ok {
			return true
		}
	}
	return false
}

func hostNames(hosts []*config.Host) []string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

// roleNames lists the roles of hosts, each once, in first-seen order.
func roleNames(hosts []*config.Host) []string {
	var out []string
	for _, h := range hosts {
		for _, r := range h.Roles {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

func selectedNames(hosts []*config.Host, selected map[string]bool) []string {
	var out []string
	for _, h := range hosts {
		if selected[h.Name] {
			out = append(out, h.Name)
		}
	}
	return out
}

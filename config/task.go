package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// reservedEnv are set by fanout on every command; a task cannot set them.
var reservedEnv = []string{"FANOUT_HOST", "FANOUT_PHASE", "FANOUT_RUN_ID", "FANOUT_TASK"}

// taskDecl is a decoded task block with its attributes unevaluated.
type taskDecl struct {
	t     *Task
	attrs hcl.Attributes
	check *checkDecl
	// uploads and downloads are the task's file blocks (transfer.go).
	uploads, downloads []*fileDecl
}

func decodeTaskBlock(block *hcl.Block) (*taskDecl, hcl.Diagnostics) {
	t := &Task{
		Name:      block.Labels[0],
		DeclRange: block.DefRange,
		NameRange: block.LabelRanges[0],
	}
	diags := checkName("task", t.Name, t.NameRange)
	content, d := block.Body.Content(taskSchema)
	diags = diags.Extend(d)
	check, d := decodeCheckBlocks(t.Name, content.Blocks.OfType("check"))
	diags = diags.Extend(d)
	td := &taskDecl{t: t, attrs: content.Attributes, check: check}
	td.uploads, td.downloads, d = decodeFileBlocks(content.Blocks)
	diags = diags.Extend(d)
	if td.attrs["run"] == nil && !td.hasFiles() {
		// run may be left out only by a task that transfers files.
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing required argument",
			Detail:   "The argument \"run\" is required, but no definition was found.",
			Subject:  block.Body.MissingItemRange().Ptr(),
		})
	}
	return td, diags
}

// evalTask evaluates a task's attributes and selects its hosts.
func (e *evaluator) evalTask(d *taskDecl, hosts *hostIndex) hcl.Diagnostics {
	t := d.t
	var diags hcl.Diagnostics

	s, ok, dd := e.stringAttr(d.attrs["description"])
	diags = diags.Extend(dd)
	if ok {
		t.Description = s
	}

	diags = diags.Extend(e.evalOn(d, hosts))

	// Values that refer to target are left for evalPerHost.
	e.perHost = true
	defer func() { e.perHost = false }()
	run, ok, dd := e.commands(d, d.attrs["run"])
	diags = diags.Extend(dd)
	if ok {
		if len(run) == 0 {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Empty run in task %q", t.Name),
				Detail: "A task runs at least one command. Give run a command, such as " +
					"run = \"systemctl restart app\", or a list of them, run in order.",
				Subject: d.attrs["run"].Expr.Range().Ptr(),
				Context: d.attrs["run"].Range.Ptr(),
			})
		}
		t.Run = run
	}
	rollback, ok, dd := e.commands(d, d.attrs["rollback"])
	diags = diags.Extend(dd)
	if ok && len(rollback) > 0 {
		t.Rollback = rollback
	}
	e.perHost = false // target is for run, rollback and env only

	s, ok, dd = e.stringAttr(d.attrs["timeout"])
	diags = diags.Extend(dd)
	if ok {
		timeout, err := time.ParseDuration(s)
		if err == nil && timeout <= 0 {
			err = fmt.Errorf("it is not positive")
		}
		if err != nil {
			attr := d.attrs["timeout"]
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid timeout in task %q", t.Name),
				Detail: fmt.Sprintf("The timeout %q is not a valid duration: %s. A timeout is a positive number "+
					"with a unit (ms, s, m, h), such as \"90s\", \"2m\" or \"1h30m\"; remove it for no limit.",
					s, strings.TrimPrefix(err.Error(), "time: ")),
				Subject: attr.Expr.Range().Ptr(),
				Context: attr.Range.Ptr(),
			})
		} else {
			t.Timeout = timeout
		}
	}

	n, ok, dd := e.wholeNumberAttr(d.attrs["max_hosts"], 1, fmt.Sprintf("Invalid max_hosts in task %q", t.Name))
	diags = diags.Extend(dd)
	if ok {
		t.MaxHosts = n
	}

	e.perHost = true
	diags = diags.Extend(e.evalEnv(d))
	e.perHost = false
	diags = diags.Extend(e.evalPerHost(d))
	diags = diags.Extend(e.evalFiles(d))
	diags = diags.Extend(e.evalRollout(d))
	diags = diags.Extend(e.evalSudo(d))
	return shellVariableHints(diags, d.shellAttrs())
}

// hostIndex is what on lists select hosts by, built once for all tasks.
type hostIndex struct {
	all          []*Host
	roles, names map[string]bool
	// complete is false when a host's address or roles are in error. Such a
	// host may hold a role an on list names, so a name not found is not
	// reported: that error says all there is to say.
	complete bool
}

// newHostIndex indexes hosts, whose values, as expressions see them, are
// in values.
func newHostIndex(hosts []*Host, values map[string]cty.Value) *hostIndex {
	x := &hostIndex{all: hosts, roles: make(map[string]bool), names: make(map[string]bool), complete: true}
	for _, h := range hosts {
		x.names[h.Name] = true
		for _, r := range h.Roles {
			x.roles[r] = true
		}
	}
	for _, hv := range values {
		x.complete = x.complete && hv.IsWhollyKnown()
	}
	return x
}

// evalOn evaluates on and selects the task's hosts: those named, and those
// with a role named, in host declaration order.
func (e *evaluator) evalOn(d *taskDecl, hosts *hostIndex) hcl.Diagnostics {
	t := d.t
	attr := d.attrs["on"]
	if attr == nil {
		t.Hosts = slices.Clone(hosts.all)
		return nil
	}
	v, diags := e.value(attr.Expr)
	switch {
	case !usable(v):
		return diags
	case v.IsNull():
		// on = null: every host, as when absent.
		t.Hosts = slices.Clone(hosts.all)
		return diags
	}
	on, diag := stringList(v, attr, "a list of strings")
	if diag != nil {
		return diags.Append(diag)
	}
	t.On = on

	wanted := make(map[string]bool, len(on))
	for i, x := range on {
		wanted[x] = true
		if hosts.roles[x] || hosts.names[x] || !hosts.complete {
			continue
		}
		roles, names := slices.Collect(maps.Keys(hosts.roles)), slices.Collect(maps.Keys(hosts.names))
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Unknown role or host %q", x),
			Detail: fmt.Sprintf("on lists roles and host names, and %q is neither.%s Known roles: %s. Hosts: %s.",
				x, didYouMean(x, slices.Concat(roles, names)), quotedList(roles), quotedList(names)),
			Subject: elemRange(attr.Expr, i).Ptr(),
		})
	}
	if diags.HasErrors() {
		return diags
	}
	for _, h := range hosts.all {
		if wanted[h.Name] || slices.ContainsFunc(h.Roles, func(r string) bool { return wanted[r] }) {
			t.Hosts = append(t.Hosts, h)
		}
	}
	if len(t.Hosts) == 0 && hosts.complete {
		detail := "on is an empty list, so the task does nothing. Remove on to run it on every host."
		if len(on) > 0 {
			// Roles whose host blocks' for_each made no host: an
			// inventory file come out empty, say.
			detail = fmt.Sprintf("on names %s, which have no hosts: the host blocks of those roles make none "+
				"(an empty for_each: check the inventory it reads), so the task does nothing.", quotedList(on))
		}
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  fmt.Sprintf("Task %q runs on no hosts", t.Name),
			Detail:   detail,
			Subject:  attr.Expr.Range().Ptr(),
			Context:  attr.Range.Ptr(),
		})
	}
	return diags
}

// commands evaluates run or rollback: a string, or a list of strings run in
// order. ok is false when attr is absent, null or in error.
func (e *evaluator) commands(d *taskDecl, attr *hcl.Attribute) (cmds []string, ok bool, diags hcl.Diagnostics) {
	if attr == nil {
		return nil, false, nil
	}
	v, diags := e.value(attr.Expr)
	if !usable(v) {
		return nil, false, diags
	}
	if v.IsNull() {
		if attr.Name == "run" {
			return nil, true, diags // reported as an empty run
		}
		return nil, false, diags
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		cmds = []string{v.AsString()}
	case ty.IsPrimitiveType():
		// A number or a bool is no command: run = 5 is a mistake, as
		// sh -c 5 would say only at apply.
		return nil, false, diags.Append(typeError(attr, "a string or a list of strings", v))
	case ty.IsListType() || ty.IsTupleType():
		if diag := commandElemTypes(v, attr); diag != nil {
			return nil, false, diags.Append(diag)
		}
		list, diag := stringList(v, attr, "a string or a list of strings")
		if diag != nil {
			return nil, false, diags.Append(diag)
		}
		cmds = list
	default:
		return nil, false, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s in task %q", attr.Name, d.t.Name),
			Detail: fmt.Sprintf("%s must be a string or a list of strings, run one after another, not %s. "+
				"For example: %s = [\"make build\", \"make install\"].", attr.Name, ty.FriendlyName(), attr.Name),
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		})
	}
	for i, c := range cmds {
		if strings.TrimSpace(c) == "" {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Empty command in task %q", d.t.Name),
				Detail: fmt.Sprintf("Command %d of %s is blank. Every command is run by sh -c; remove the blank one.",
					i+1, attr.Name),
				Subject: elemRange(attr.Expr, i).Ptr(),
			})
			return nil, false, diags
		}
		if strings.ContainsRune(c, 0) {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("NUL character in a command of task %q", d.t.Name),
				Detail: fmt.Sprintf("Command %d of %s holds a NUL character (\\u0000), which no command line can carry: "+
					"the system would refuse to start it on every host. Remove it.", i+1, attr.Name),
				Subject: elemRange(attr.Expr, i).Ptr(),
			})
			return nil, false, diags
		}
	}
	return cmds, true, diags
}

// commandElemTypes reports the first element of a run or rollback list
// that is not a string (a number or a bool, which stringList would
// convert), as run = 5 is reported.
func commandElemTypes(v cty.Value, attr *hcl.Attribute) *hcl.Diagnostic {
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, ev := it.Element()
		if ty := ev.Type(); ty.IsPrimitiveType() && ty != cty.String && !ev.IsNull() {
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Incorrect attribute value type",
				Detail: fmt.Sprintf("Inappropriate value for element %d of %q: a string or a list of strings is required, and a %s is not a string.",
					i, attr.Name, ty.FriendlyName()),
				Subject: elemRange(attr.Expr, i).Ptr(),
			}
		}
	}
	return nil
}

// evalEnv evaluates env: a map of strings whose keys are environment
// variable names.
func (e *evaluator) evalEnv(d *taskDecl) hcl.Diagnostics {
	attr := d.attrs["env"]
	v, ok, diags := e.attrValue(attr)
	if !ok {
		return diags
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail: fmt.Sprintf("Inappropriate value for attribute \"env\": a map of strings is required, not %s. "+
				"For example: env = { RELEASE = \"42\" }.", ty.FriendlyName()),
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		})
	}
	env := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		name := k.AsString()
		switch {
		case !isEnvName(name):
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid environment variable name %q", name),
				Detail: "An environment variable name starts with a letter or an underscore and contains only " +
					"letters, digits and underscores, such as RELEASE_ID.",
				Subject: keyRange(attr.Expr, name).Ptr(),
			})
			continue
		case slices.Contains(reservedEnv, name):
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Reserved environment variable %q", name),
				Detail: fmt.Sprintf("fanout sets %s itself on every command, so a task cannot. Reserved: %s.",
					name, strings.Join(reservedEnv, ", ")),
				Subject: keyRange(attr.Expr, name).Ptr(),
			})
			continue
		}
		sv, err := toString(ev)
		if err != nil || sv.IsNull() {
			got := ev.Type().FriendlyName()
			if ev.IsNull() {
				got = "null"
			}
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Incorrect attribute value type",
				Detail: fmt.Sprintf("Inappropriate value for env %q: a string is required, not %s.",
					name, got),
				Subject: keyRange(attr.Expr, name).Ptr(),
			})
			continue
		}
		if strings.ContainsRune(sv.AsString(), 0) {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("NUL character in env %q", name),
				Detail:   "An environment variable's value cannot hold a NUL character (\\u0000): the system would refuse to start the command. Remove it.",
				Subject:  keyRange(attr.Expr, name).Ptr(),
			})
			continue
		}
		env[name] = sv.AsString()
	}
	if !diags.HasErrors() {
		d.t.Env = env
	}
	return diags
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

var taskSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "on"},
		{Name: "run"}, // required unless the task has file blocks
		{Name: "rollback"},
		{Name: "timeout"},
		{Name: "max_hosts"},
		{Name: "env"},
		{Name: "batch"},
		{Name: "pause"},
		{Name: "max_failures"},
		{Name: "retries"},
		{Name: "retry_delay"},
		{Name: "only_if"},
		{Name: "unless"},
		{Name: "sudo"},
		{Name: "sudo_user"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "check"},
		{Type: "upload"},
		{Type: "download"},
	},
}

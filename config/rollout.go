package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// This file holds the rollout settings of a task: waves (batch, pause), the
// failure budget (max_failures), the health gate (check), retries and
// conditions (only_if, unless).

// Size is a number of hosts, or a percentage of some set of hosts: a batch
// of a task's selected hosts, or a failure budget of a wave.
type Size struct {
	// N is the count, or the percentage when Percent is set.
	N       int
	Percent bool
}

// String returns the size as written: "5" or "25%".
func (s Size) String() string {
	if s.Percent {
		return strconv.Itoa(s.N) + "%"
	}
	return strconv.Itoa(s.N)
}

// Check is a task's health gate: after run succeeded on a host, Run is run
// every Interval until it exits 0, for at most Timeout.
type Check struct {
	// Run are the check's commands, run in order; the first failure fails
	// the attempt.
	Run []string
	// Interval is the time between the start of one attempt and the next;
	// DefaultCheckInterval unless set.
	Interval time.Duration
	// Timeout bounds all attempts together; DefaultCheckTimeout unless set.
	// The host has failed when it passes without an attempt exiting 0.
	Timeout   time.Duration
	DeclRange hcl.Range
}

// The check block's defaults, and the shortest interval it takes.
const (
	DefaultCheckInterval = 2 * time.Second
	DefaultCheckTimeout  = 60 * time.Second
	MinCheckInterval     = 100 * time.Millisecond
)

// checkDecl is a decoded check block with its attributes unevaluated.
type checkDecl struct {
	block *hcl.Block
	attrs hcl.Attributes
}

// decodeCheckBlocks keeps a task's check block for evaluation; a second
// one is an error.
func decodeCheckBlocks(task string, blocks hcl.Blocks) (*checkDecl, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var first *checkDecl
	for _, b := range blocks {
		if first != nil {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate check block in task %q", task),
				Detail: fmt.Sprintf("A task has at most one health check; the first is at %s. Put every command "+
					"of the check in its run list.", first.block.DefRange),
				Subject: b.DefRange.Ptr(),
			})
			continue
		}
		content, d := b.Body.Content(checkSchema)
		diags = diags.Extend(d)
		first = &checkDecl{block: b, attrs: content.Attributes}
	}
	return first, diags
}

// evalRollout evaluates the rollout settings of a task.
func (e *evaluator) evalRollout(d *taskDecl) hcl.Diagnostics {
	t := d.t
	var diags hcl.Diagnostics

	if attr := d.attrs["batch"]; attr != nil {
		batch, dd := e.batchAttr(t.Name, attr)
		diags = diags.Extend(dd)
		t.Batch = batch
	}
	pause, ok, dd := e.durationAttr(t.Name, d.attrs["pause"], true)
	diags = diags.Extend(dd)
	if ok {
		t.Pause = pause
	}
	if attr := d.attrs["max_failures"]; attr != nil {
		v, ok, dd := e.attrValue(attr)
		diags = diags.Extend(dd)
		if ok {
			s, dd := sizeValue(t.Name, attr, attr.Expr.Range(), v, 0)
			diags = diags.Extend(dd)
			t.MaxFailures = s
		}
	}
	n, ok, dd := e.wholeNumberAttr(d.attrs["retries"], 0, fmt.Sprintf("Invalid retries in task %q", t.Name))
	diags = diags.Extend(dd)
	if ok {
		t.Retries = n
	}
	delay, ok, dd := e.durationAttr(t.Name, d.attrs["retry_delay"], true)
	diags = diags.Extend(dd)
	if ok {
		t.RetryDelay = delay
	}
	for _, name := range []string{"only_if", "unless"} {
		attr := d.attrs[name]
		cmds, ok, dd := e.commands(d, attr)
		diags = diags.Extend(dd)
		if ok && len(cmds) == 0 {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Empty %s in task %q", name, t.Name),
				Detail: fmt.Sprintf("%s runs a command on each host before the task; an empty one decides nothing. "+
					"Give it a command, such as %s = \"test -d /opt/app\", or remove it.", name, name),
				Subject: attr.Expr.Range().Ptr(),
				Context: attr.Range.Ptr(),
			})
			continue
		}
		if name == "only_if" {
			t.OnlyIf = cmds
		} else {
			t.Unless = cmds
		}
	}
	if d.check != nil {
		diags = diags.Extend(e.evalCheck(d))
	}
	diags = diags.Extend(uselessSettings(d))
	return diags
}

// uselessSettings warns of settings that do nothing without another: a
// pause between waves there are none of, a delay between retries there
// are none of.
func uselessSettings(d *taskDecl) hcl.Diagnostics {
	var diags hcl.Diagnostics
	warn := func(name, without, why string) {
		attr := d.attrs[name]
		if attr == nil || d.attrs[without] != nil {
			return
		}
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  fmt.Sprintf("Useless %s in task %q", name, d.t.Name),
			Detail:   why,
			Subject:  attr.NameRange.Ptr(),
			Context:  attr.Range.Ptr(),
		})
	}
	warn("pause", "batch", "pause waits between waves, and without batch the task's hosts are one wave: it does nothing. Set batch, or remove pause.")
	warn("retry_delay", "retries", "retry_delay waits before each retry, and without retries there are none: it does nothing. Set retries, or remove retry_delay.")
	return diags
}

// evalCheck evaluates a task's check block.
func (e *evaluator) evalCheck(d *taskDecl) hcl.Diagnostics {
	cd := d.check
	c := &Check{Interval: DefaultCheckInterval, Timeout: DefaultCheckTimeout, DeclRange: cd.block.DefRange}
	var diags hcl.Diagnostics
	// A run that refers to target is evaluated per host, below.
	e.perHost = true
	run, ok, dd := e.commands(d, cd.attrs["run"])
	e.perHost = false
	diags = diags.Extend(dd)
	switch {
	case cd.attrs["run"] == nil:
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Missing run in the check of task %q", d.t.Name),
			Detail: "A check runs a command on each host after the task's run, until it exits 0. Give it one, " +
				"such as run = \"curl -fsS localhost:8080/health\", or remove the check block.",
			Subject: cd.block.DefRange.Ptr(),
		})
	case ok && len(run) == 0:
		attr := cd.attrs["run"]
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Empty run in the check of task %q", d.t.Name),
			Detail:   "A check runs at least one command. Give run a command, or remove the check block.",
			Subject:  attr.Expr.Range().Ptr(),
			Context:  attr.Range.Ptr(),
		})
	case ok:
		c.Run = run
	}
	interval, iok, dd := e.durationAttr(d.t.Name, cd.attrs["interval"], false)
	diags = diags.Extend(dd)
	if iok {
		c.Interval = interval
		if interval < MinCheckInterval {
			attr := cd.attrs["interval"]
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Check interval too short in task %q", d.t.Name),
				Detail: fmt.Sprintf("A check waits at least %s between attempts: %s would run it hundreds of times a second "+
					"on every host. Give interval = \"%s\" or more.", MinCheckInterval, interval, MinCheckInterval),
				Subject: attr.Expr.Range().Ptr(),
				Context: attr.Range.Ptr(),
			})
		}
	}
	timeout, tok, dd := e.durationAttr(d.t.Name, cd.attrs["timeout"], false)
	diags = diags.Extend(dd)
	if tok {
		c.Timeout = timeout
	}
	if (iok || tok) && c.Interval > c.Timeout {
		attr := cd.attrs["interval"]
		if attr == nil {
			attr = cd.attrs["timeout"]
		}
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Check interval longer than its timeout in task %q", d.t.Name),
			Detail: fmt.Sprintf("The check would wait %s between attempts but gives up after %s, so it would "+
				"run once. Make interval shorter than timeout (the defaults are %s and %s).",
				c.Interval, c.Timeout, DefaultCheckInterval, DefaultCheckTimeout),
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		})
	}
	if !diags.HasErrors() && refersTarget(cd.attrs["run"]) {
		diags = diags.Extend(e.evalCheckPerHost(d, c))
	}
	if !diags.HasErrors() {
		d.t.Check = c
	}
	return diags
}

// batchAttr evaluates batch: a size, or a list of sizes whose last one
// repeats. Sizes are at least 1 host or 1%.
func (e *evaluator) batchAttr(task string, attr *hcl.Attribute) ([]Size, hcl.Diagnostics) {
	v, ok, diags := e.attrValue(attr)
	if !ok {
		return nil, diags
	}
	ty := v.Type()
	if !ty.IsListType() && !ty.IsTupleType() {
		s, dd := sizeValue(task, attr, attr.Expr.Range(), v, 1)
		if dd.HasErrors() {
			return nil, diags.Extend(dd)
		}
		return []Size{s}, diags
	}
	if v.LengthInt() == 0 {
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid batch in task %q", task),
			Detail:   "batch is an empty list. Give it the wave sizes, such as [1, \"25%\"], or remove it to run every host in one wave.",
			Subject:  attr.Expr.Range().Ptr(),
			Context:  attr.Range.Ptr(),
		})
	}
	var out []Size
	i := 0
	for it := v.ElementIterator(); it.Next(); i++ {
		_, ev := it.Element()
		s, dd := sizeValue(task, attr, elemRange(attr.Expr, i), ev, 1)
		diags = diags.Extend(dd)
		out = append(out, s)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return out, diags
}

// sizeValue reads a count (a whole number of at least min) or a percentage
// (a string "N%", N from min to 100) for batch or max_failures; subject is
// where a mistake is reported.
func sizeValue(task string, attr *hcl.Attribute, subject hcl.Range, v cty.Value, min int) (Size, hcl.Diagnostics) {
	what := "a wave size"
	example := `5, "25%" or [1, 5, "50%"]`
	if attr.Name == "max_failures" {
		what = "a failure budget"
		example = `2 or "10%"`
	}
	bad := func(why string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s in task %q", attr.Name, task),
			Detail: fmt.Sprintf("%s is %s: a whole number of at least %d, or a percentage from %d%% to 100%% as a string; %s. "+
				"For example: %s = %s.", attr.Name, what, min, min, why, attr.Name, example),
			Subject: subject.Ptr(),
			Context: attr.Range.Ptr(),
		}}
	}
	if !v.IsKnown() || v.IsNull() {
		return Size{}, bad("got null")
	}
	if v.Type() == cty.String {
		s := strings.TrimSpace(v.AsString())
		num, pct := strings.CutSuffix(s, "%")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		switch {
		case err != nil:
			return Size{}, bad(fmt.Sprintf("%q is neither", v.AsString()))
		case pct && (n < min || n > 100):
			return Size{}, bad(fmt.Sprintf("got %q", v.AsString()))
		case pct:
			return Size{N: n, Percent: true}, nil
		case n < min:
			return Size{}, bad(fmt.Sprintf("got %d", n))
		}
		return Size{N: n}, nil
	}
	nv, err := convert.Convert(v, cty.Number)
	if err != nil {
		return Size{}, bad(fmt.Sprintf("got %s", v.Type().FriendlyName()))
	}
	n, why := wholeNumber(nv.AsBigFloat(), min)
	if why != "" {
		return Size{}, bad(why)
	}
	return Size{N: n}, nil
}

// durationAttr evaluates a duration setting of a task or of its check:
// positive, or zero too when zeroOK.
func (e *evaluator) durationAttr(task string, attr *hcl.Attribute, zeroOK bool) (time.Duration, bool, hcl.Diagnostics) {
	s, ok, diags := e.stringAttr(attr)
	if !ok {
		return 0, false, diags
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
	case d < 0 || d == 0 && !zeroOK:
		err = fmt.Errorf("it is not positive")
	}
	if err == nil {
		return d, true, diags
	}
	least := "positive"
	if zeroOK {
		least = "zero or more"
	}
	return 0, false, diags.Append(&hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s in task %q", attr.Name, task),
		Detail: fmt.Sprintf("The %s %q is not a valid duration: %s. It is a number, %s, with a unit (ms, s, m, h), "+
			"such as \"5s\" or \"2m\".", attr.Name, s, strings.TrimPrefix(err.Error(), "time: "), least),
		Subject: attr.Expr.Range().Ptr(),
		Context: attr.Range.Ptr(),
	})
}

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "run"},
		{Name: "interval"},
		{Name: "timeout"},
	},
}

package config

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// templateFileFunc is templatefile(path, vars), as Terraform has it: the
// file at path, relative to the configuration's directory dir in fsys, read
// as an HCL template (${...} interpolations and %{...} directives) and
// rendered with vars, an object whose attributes are the template's only
// variables. The template may call the configuration's other functions,
// file() included, as Terraform's may, but not templatefile itself; they
// record what they compute from sensitive values in sensitive, as the
// configuration's do.
func templateFileFunc(where configFS, sensitive *sensitiveValues) function.Function {
	// A template is read and parsed once per configuration, not once per
	// host that renders it (templatefile of target.* runs for each host).
	var mu sync.Mutex
	parsed := map[string]*template{}
	// The table of functions it may call (some thirty, 24 allocations) is
	// made once too, not for each render.
	funcs := Functions()
	funcs["file"] = fileFunc(where)
	funcs = sensitive.wrap(funcs)
	load := func(name string) (*template, error) {
		mu.Lock()
		defer mu.Unlock()
		if t, ok := parsed[name]; ok {
			return t, nil
		}
		src, err := readTemplate(where, name)
		if err != nil {
			return nil, err
		}
		t := &template{}
		var diags hcl.Diagnostics
		if t.expr, diags = hclsyntax.ParseTemplate(src, name, hcl.InitialPos); diags.HasErrors() {
			t.err = templateError(diags)
		} else {
			t.err = recursion(t.expr)
		}
		parsed[name] = t
		return t, nil
	}
	return function.New(&function.Spec{
		Description: "Renders a template file with the given variables.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType, AllowMarked: true},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			tmpl, err := load(name)
			if err != nil {
				return cty.DynamicVal, function.NewArgError(0, err)
			}
			vars, marks := args[1].Unmark()
			if !vars.Type().IsObjectType() && !vars.Type().IsMapType() {
				return cty.DynamicVal, function.NewArgErrorf(1, "the variables of a template are an object, such as { host = target.name }, not %s",
					vars.Type().FriendlyName())
			}
			if tmpl.err != nil {
				return cty.DynamicVal, tmpl.err
			}
			out, err := renderTemplate(name, tmpl.expr, vars, funcs)
			if err != nil {
				return cty.DynamicVal, err
			}
			return out.WithMarks(marks), nil
		},
	})
}

// template is a template file as parsed, or why it does not parse.
type template struct {
	expr hclsyntax.Expression
	err  error
}

// renderTemplate renders expr, the template file name, with vars and
// funcs.
func renderTemplate(name string, expr hclsyntax.Expression, vars cty.Value, funcs map[string]function.Function) (cty.Value, error) {
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{}, Functions: funcs}
	if !vars.IsNull() && vars.IsKnown() {
		for it := vars.ElementIterator(); it.Next(); {
			k, v := it.Element()
			ctx.Variables[k.AsString()] = v
		}
	}
	for _, tr := range expr.Variables() {
		if _, ok := ctx.Variables[tr.RootName()]; !ok {
			return cty.DynamicVal, fmt.Errorf("template %s: %s uses the variable %q, which the call does not give: add %s = ... to templatefile's second argument",
				name, tr.SourceRange(), tr.RootName(), tr.RootName())
		}
	}
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return cty.DynamicVal, templateError(diags)
	}
	if !v.IsWhollyKnown() {
		return cty.UnknownVal(cty.String), nil
	}
	return v, nil
}

// readTemplate reads name for templatefile(). Templates are configuration
// files, not payloads (an upload's source is for those): they are bounded
// as file() is, by MaxFileSize.
func readTemplate(where configFS, name string) ([]byte, error) {
	return readConfigFile(where, name, configFileKind{
		fn:   "templatefile()",
		keep: "keep templates beside the configuration",
		what: "a template file",
	})
}

// recursion finds a call of templatefile in a template: Terraform
// refuses the recursion too, and left to the evaluation the call was
// "There is no function named "templatefile"", which says nothing of why.
func recursion(expr hclsyntax.Expression) error {
	var err error
	_ = hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "templatefile" && err == nil {
			err = fmt.Errorf("template %s line %d: a template cannot call templatefile: render the inner template in the "+
				"configuration and give it to the outer one as a variable, as in "+
				"templatefile(\"outer.tftpl\", { inner = templatefile(\"inner.tftpl\", {}) })",
				call.NameRange.Filename, call.NameRange.Start.Line)
		}
		return nil
	})
	return err
}

// templateError is a template's diagnostics as one error, for hcl's
// "Call to function "templatefile" failed: ...": the template's file and
// line, then the first error's summary and detail, whose final period is
// dropped since hcl ends the message with its own.
func templateError(diags hcl.Diagnostics) error {
	var first *hcl.Diagnostic
	errs := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			if first == nil {
				first = d
			}
			errs++
		}
	}
	msg := first.Summary
	if first.Detail != "" {
		msg += "; " + strings.TrimSuffix(first.Detail, ".")
	}
	if first.Subject != nil {
		msg = fmt.Sprintf("template %s line %d: %s", first.Subject.Filename, first.Subject.Start.Line, msg)
	}
	if errs > 1 {
		msg += fmt.Sprintf(" (and %d more errors in the template)", errs-1)
	}
	return errors.New(msg)
}

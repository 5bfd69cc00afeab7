package config

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variableDecl is a decoded variable block and the defaults its type
// constraint gives optional object attributes, applied to every value.
type variableDecl struct {
	v        *Variable
	defaults *typeexpr.Defaults
	// badDefault is set when the default is in error: the variable is not
	// required, its value just unknown.
	badDefault bool
	// validations are its validation blocks.
	validations []*validation
}

func decodeVariableBlock(block *hcl.Block) (*variableDecl, hcl.Diagnostics) {
	v := &Variable{
		Name:      block.Labels[0],
		Type:      cty.DynamicPseudoType,
		DeclRange: block.DefRange,
		NameRange: block.LabelRanges[0],
	}
	decl := &variableDecl{v: v}
	diags := checkName("variable", v.Name, v.NameRange)

	content, d := block.Body.Content(variableSchema)
	diags = diags.Extend(d)

	if attr, ok := content.Attributes["type"]; ok {
		ty, defaults, d := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		diags = diags.Extend(d)
		if !d.HasErrors() {
			v.Type, decl.defaults = ty, defaults
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		diags = diags.Extend(gohcl.DecodeExpression(attr.Expr, nil, &v.Description))
	}
	for _, b := range content.Blocks {
		val, d := decodeValidation(v.Name, b)
		diags = diags.Extend(d)
		if val != nil {
			decl.validations = append(decl.validations, val)
		}
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		diags = diags.Extend(gohcl.DecodeExpression(attr.Expr, nil, &v.Sensitive))
	}
	if attr, ok := content.Attributes["default"]; ok {
		// A default is a constant: functions, but no references, since
		// variables are what everything else refers to.
		if refs := attr.Expr.Variables(); len(refs) > 0 {
			decl.badDefault = true
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid default for variable %q", v.Name),
				Detail: fmt.Sprintf("A default is a constant, so it cannot refer to %s. To derive a value from "+
					"variables, declare it in a locals block.", traversalString(refs[0])),
				Subject: refs[0].SourceRange().Ptr(),
				Context: attr.Range.Ptr(),
			})
			return decl, diags
		}
		val, d := attr.Expr.Value(&hcl.EvalContext{Functions: Functions()})
		diags = diags.Extend(d)
		decl.badDefault = d.HasErrors()
		if !d.HasErrors() {
			val, err := decl.convert(val)
			if err != nil {
				decl.badDefault = true
				diags = diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Invalid default for variable %q", v.Name),
					Detail: fmt.Sprintf("The default is not a valid %s: %s. Change the default or the type.",
						typeexpr.TypeString(v.Type), err),
					Subject: attr.Expr.Range().Ptr(),
					Context: attr.Range.Ptr(),
				})
			} else {
				v.Default = val
			}
		}
	}
	return decl, diags
}

// convert applies the type's optional attribute defaults, then converts
// val to the variable's type.
func (d *variableDecl) convert(val cty.Value) (cty.Value, error) {
	if d.defaults != nil {
		val = d.defaults.Apply(val)
	}
	return convert.Convert(val, d.v.Type)
}

// InputValue is a variable's value written in HCL, as a variables file
// (-var-file) holds it, rather than a raw string.
type InputValue struct {
	Value cty.Value
	// Range is where the value is written, for diagnostics.
	Range hcl.Range
}

// ReadHCLFile reads the HCL file name as ReadLimited does, as much of it
// as ParseVarFile or CheckSource refuse past MaxFileSize: a variables file
// (-var-file), a file for fmt.
func ReadHCLFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	return ReadLimited(f)
}

// ParseVarFile reads a variables file: NAME = VALUE attributes and nothing
// else, each value a constant (no references, no function calls), as
// Terraform reads a .tfvars file. It returns the parsed file too, for
// rendering the diagnostics' source snippets. Whether each name is a
// declared variable is checked by LoadConfig. A file is held to a
// configuration file's limits (checkSource), and at most MaxDiagnostics
// diagnostics are returned, then one that counts the rest.
func ParseVarFile(src []byte, filename string) (*hcl.File, map[string]InputValue, hcl.Diagnostics) {
	if d := checkSource(filename, src); d.HasErrors() {
		if showable(src, d[0].Subject) {
			return &hcl.File{Bytes: src}, nil, d
		}
		return nil, nil, d
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return f, nil, capDiagnostics(diags)
	}
	attrs, d := f.Body.JustAttributes()
	diags = diags.Extend(d)
	values := make(map[string]InputValue, len(attrs))
	for name, attr := range attrs {
		// A nil context makes references and function calls errors that
		// say so, which is what a file of plain values needs.
		val, d := attr.Expr.Value(nil)
		diags = diags.Extend(d)
		if !d.HasErrors() {
			values[name] = InputValue{Value: val, Range: attr.Expr.Range()}
		}
	}
	return f, values, capDiagnostics(diags)
}

// withEnvVars returns raw with, under it, the environment's values for
// the declared variables, and the names whose value is the environment's
// (FANOUT_VAR_NAME: an error about it names that). The environment's
// values for names the configuration does not declare are ignored, as
// Terraform ignores TF_VAR_*: a shell may set FANOUT_VAR_* for other
// configurations.
func withEnvVars(decls []*variableDecl, env, raw map[string]string) (map[string]string, map[string]bool) {
	if len(env) == 0 {
		return raw, nil
	}
	out := make(map[string]string, len(env)+len(raw))
	fromEnv := map[string]bool{}
	for _, d := range decls {
		if v, ok := env[d.v.Name]; ok {
			out[d.v.Name] = v
			fromEnv[d.v.Name] = true
		}
	}
	for k, v := range raw {
		out[k] = v
		delete(fromEnv, k)
	}
	return out, fromEnv
}

// assignVariables sets each variable's Value from the inputs (values
// first, then raw), else its default, and reports inputs for undeclared
// variables and required variables left without a value. An undeclared
// name in a file is a warning, as Terraform has it, since one file may
// serve several configurations; given on the command line it is an error.
func assignVariables(decls []*variableDecl, raw map[string]string, fromEnv map[string]bool, values map[string]InputValue, unset bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	declared := make(map[string]*variableDecl, len(decls))
	for _, d := range decls {
		declared[d.v.Name] = d
	}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if _, ok := declared[name]; ok {
			continue
		}
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Value for undeclared variable",
			Detail: fmt.Sprintf("The variables file sets %q, but the configuration declares no variable of that name, "+
				"so the value is ignored.%s", name, didYouMean(name, slices.Collect(maps.Keys(declared)))),
			Subject: values[name].Range.Ptr(),
		})
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if _, ok := declared[name]; ok {
			continue
		}
		if _, ok := values[name]; ok {
			continue
		}
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Value for undeclared variable",
			Detail: fmt.Sprintf("A value was given for the variable %q by -var, but the configuration "+
				"declares no variable of that name.%s To use the value, add a variable %q {} block; otherwise remove it.",
				name, didYouMean(name, slices.Collect(maps.Keys(declared))), name),
		})
	}

	for _, d := range decls {
		v := d.v
		rawVal, given := raw[v.Name]
		input, fromFile := values[v.Name]
		var subject *hcl.Range // where the value was given, if in a file
		switch {
		case fromFile:
			subject = input.Range.Ptr()
			val, err := d.convert(input.Value)
			if err != nil {
				val = cty.UnknownVal(v.Type)
				diags = diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Invalid value for variable %q", v.Name),
					Detail: fmt.Sprintf("The value is not a valid %s: %s. The variable is declared at %s.",
						typeexpr.TypeString(v.Type), err, v.DeclRange),
					Subject: input.Range.Ptr(),
				})
			}
			v.Value = val
		case given:
			val, valDiags := d.parseRaw(rawVal, fromEnv[v.Name])
			diags = diags.Extend(valDiags)
			v.Value = val
		case v.Default.Type() != cty.NilType: // not cty.NilVal
			v.Value = v.Default
		case d.badDefault, unset:
			v.Value = cty.UnknownVal(v.Type)
		default:
			v.Value = cty.UnknownVal(v.Type)
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required variable",
				Detail: fmt.Sprintf("The variable %q has no default, so it must be set: with -var %s=VALUE, "+
					"in a file given by -var-file, or with the environment variable FANOUT_VAR_%s. Or give it a default.", v.Name, v.Name, v.Name),
				Subject: v.NameRange.Ptr(),
			})
		}
		diags = diags.Extend(d.validate(subject))
	}
	return diags
}

// parseRaw turns a raw input into the variable's value: as is for a string
// (or untyped) variable, else parsed as an HCL expression and converted.
// On error the value is unknown. env says it came from FANOUT_VAR_NAME,
// which the error then names, where it spoke of -var.
func (d *variableDecl) parseRaw(raw string, env bool) (cty.Value, hcl.Diagnostics) {
	v := d.v
	if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	unknown := cty.UnknownVal(v.Type)
	shown := fmt.Sprintf("%q", raw)
	if v.Sensitive {
		shown = redactedValue
	}
	given := fmt.Sprintf("given for %q", v.Name)
	if env {
		given = "of the environment variable FANOUT_VAR_" + v.Name
	}
	example := hclExample(v.Name, v.Type, env)
	bad := func(why string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid value for variable %q", v.Name),
			Detail: fmt.Sprintf("The value %s, %s, is not a valid %s: %s. The variable is declared at %s; "+
				"a value of a type other than string is written as in HCL, such as %s.",
				given, shown, typeexpr.TypeString(v.Type), why, v.DeclRange, example),
		}}
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), fmt.Sprintf("<value for var.%s>", v.Name), hcl.InitialPos)
	if diags.HasErrors() {
		return unknown, bad(diags[0].Summary)
	}
	// A value is a constant: no references, no functions. Said in the
	// variable's words: "Variables not allowed" on a typo such as
	// -var port=abc would be hcl's, about a value it took for a reference.
	if refs := expr.Variables(); len(refs) > 0 {
		return unknown, bad("it reads as a reference, not a value")
	}
	val, valDiags := expr.Value(nil)
	if valDiags.HasErrors() {
		return unknown, bad(valDiags[0].Summary)
	}
	val, err := d.convert(val)
	if err != nil {
		return unknown, bad(err.Error())
	}
	return val, nil
}

// hclExample shows a value of type ty for variable name as a -var would
// give it, or, env, the environment variable FANOUT_VAR_NAME.
func hclExample(name string, ty cty.Type, env bool) string {
	value := "'{ port = 8080 }'"
	switch {
	case ty == cty.Number:
		value = "8080"
	case ty == cty.Bool:
		value = "true"
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		value = `'["web1", "web2"]'`
	}
	if env {
		return "FANOUT_VAR_" + name + "=" + value
	}
	if value[0] == '\'' {
		// The shell's quotes around the whole word, as usual.
		return "-var '" + name + "=" + value[1:]
	}
	return "-var " + name + "=" + value
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

// validation is a variable's validation block, as Terraform has it: a
// condition on the variable's value alone, and the message that says
// what a good value is.
type validation struct {
	condition, message hcl.Expression
	rng                hcl.Range
}

// decodeValidation reads a validation block of variable name: its
// condition and its message may refer to var.NAME only, as Terraform's.
func decodeValidation(name string, block *hcl.Block) (*validation, hcl.Diagnostics) {
	content, diags := block.Body.Content(validationSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	for _, attr := range []*hcl.Attribute{content.Attributes["condition"], content.Attributes["error_message"]} {
		for _, ref := range attr.Expr.Variables() {
			rel := ref.SimpleSplit().Rel
			if t, ok := firstAttr(rel); ref.RootName() != "var" || !ok || t != name {
				return nil, diags.Append(&hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Invalid validation %s for variable %q", attr.Name, name),
					Detail:   fmt.Sprintf("A variable's validation may refer to var.%s only, its own value; it refers to %s.", name, traversalString(ref)),
					Subject:  ref.SourceRange().Ptr(),
					Context:  attr.Range.Ptr(),
				})
			}
		}
	}
	msg := content.Attributes["error_message"]
	if v, d := msg.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() && strings.TrimSpace(v.AsString()) == "" {
		// As Terraform refuses it: the operator whose value fails would
		// read nothing of why.
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Empty validation error_message for variable %q", name),
			Detail:   "error_message is what an operator whose value fails the condition reads: say what a valid value is.",
			Subject:  msg.Expr.Range().Ptr(),
			Context:  msg.Range.Ptr(),
		})
	}
	cond := content.Attributes["condition"]
	return &validation{condition: cond.Expr, message: msg.Expr, rng: cond.Range}, diags
}

// firstAttr is the name of a traversal's first step when it is an
// attribute (var.NAME's NAME).
func firstAttr(rel hcl.Traversal) (string, bool) {
	if len(rel) == 0 {
		return "", false
	}
	a, ok := rel[0].(hcl.TraverseAttr)
	return a.Name, ok
}

// validate checks d's value against its validation blocks: each
// condition false is an error at the value's source, with its message.
// An unknown value (unset under validate, or in error) is not checked.
func (d *variableDecl) validate(subject *hcl.Range) hcl.Diagnostics {
	v := d.v
	if !v.Value.IsWhollyKnown() || v.Value.IsNull() && len(d.validations) == 0 {
		return nil
	}
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: v.Value})},
		Functions: Functions(),
	}
	for _, val := range d.validations {
		res, dd := val.condition.Value(ctx)
		if dd.HasErrors() {
			diags = diags.Extend(dd)
			continue
		}
		if res.IsNull() || !res.IsKnown() || !res.Type().Equals(cty.Bool) {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid validation condition for variable %q", v.Name),
				Detail:   "The condition must be true or false.",
				Subject:  val.rng.Ptr(),
			})
			continue
		}
		if res.False() {
			if subject == nil {
				subject = v.NameRange.Ptr()
			}
			msg := "The value is not valid."
			if m, dd := val.message.Value(ctx); !dd.HasErrors() && m.Type() == cty.String && m.IsKnown() && !m.IsNull() {
				msg = m.AsString()
			} else {
				diags = diags.Extend(dd)
			}
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid value for variable %q", v.Name),
				Detail:   fmt.Sprintf("%s (This was checked by the validation rule at %s.)", msg, val.rng),
				Subject:  subject,
			})
		}
	}
	return diags
}

package config

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestFunctions: the Terraform functions inventories and commands reach
// for, through a configuration as a user writes them.
func TestFunctions(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{`join(",", flatten([["a", "b"], ["c"]]))`, "a,b,c"},
		{`join(",", distinct(["a", "b", "a"]))`, "a,b"},
		{`join(",", sort(["b", "a"]))`, "a,b"},
		{`element(["a", "b"], 3)`, "b"},
		{`join(",", slice(["a", "b", "c"], 1, 3))`, "b,c"},
		{`join(",", reverse(["a", "b"]))`, "b,a"},
		{`regex("^web(\\d+)$", "web12")[0]`, "12"},
		{`tostring(length(regexall("a", "banana")))`, "3"},
		{`zipmap(["a", "b"], ["1", "2"])["b"]`, "2"},
		{`tostring(ceil(1.2) + floor(1.8) + abs(-1))`, "4"},
		{`trimprefix("web01", "web")`, "01"},
		{`trimsuffix("app.example.com", ".example.com")`, "app"},
		{`substr("release-42", 8, 2)`, "42"},
		{`tostring(startswith("web01", "web") && endswith("web01", "01"))`, "true"},
		{`base64decode(base64encode("héllo"))`, "héllo"},
		{`sha256("fanout")`, fmt.Sprintf("%x", sha256.Sum256([]byte("fanout")))},
		{`try(yamldecode("a: 1").b, "default")`, "default"},
		{`tostring(can(yamldecode("a: 1").b))`, "false"},
		{`join(",", tolist(toset(["a"])))`, "a"},
		{`tomap({ a = "1" })["a"]`, "1"},
		{`chomp("line\n")`, "line"},
		{`title("web")`, "Web"},
		{`join(",", compact(["a", "", "b"]))`, "a,b"},
		{`coalesce("", "b")`, "b"},
		{`coalesce(null, "", "c")`, "c"},
		{`coalesce("a", "b")`, "a"},
		{`coalesce("", 1)`, "1"},
		{`tostring(coalesce(null, 2, 3))`, "2"},
		{`replace("web01.example.com", "/\\..*$/", "")`, "web01"},
		{`replace("web-01", "/^(\\w+)-(\\d+)$/", "$2-$1")`, "01-web"},
		{`replace("a.b.c", ".", "-")`, "a-b-c"},
		{`replace("a/b/c", "/", "-")`, "a-b-c"},
		{`lookup({ a = "1" }, "a")`, "1"},
		{`lookup(tomap({ a = "1" }), "a")`, "1"},
		{`lookup({ a = "1" }, "b", "d")`, "d"},
		{`lookup(tomap({ a = "1" }), "b", "d")`, "d"},
		{`coalesce(lookup({ a = "1" }, "b", null), "none")`, "none"},
	} {
		_, cfg, diags := testLoad(t, map[string]string{"main.hcl": "locals {\n  x = " + tt.expr + "\n}\n"}, "main.hcl", LoadOptions{})
		if diags.HasErrors() {
			t.Errorf("%s: %v", tt.expr, diags)
			continue
		}
		if got := cfg.Locals[0].Value; !got.RawEquals(cty.StringVal(tt.want)) {
			t.Errorf("%s = %#v, want %q", tt.expr, got, tt.want)
		}
	}
	_, _, diags := testLoad(t, map[string]string{"main.hcl": "locals {\n  x = formatdate(\"YYYY\", \"2026-01-01T00:00:00Z\")\n}\n"}, "main.hcl", LoadOptions{})
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "The functions there are: abs, base64decode,") || !strings.Contains(diags[0].Detail, "templatefile") {
		t.Errorf("an unknown function: %v, want the functions listed", diags)
	}
}

// TestFunctionErrors: calls Terraform refuses are refused, with what to
// write instead.
func TestFunctionErrors(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{`coalesce("", "")`, "all arguments are null or empty strings"},
		{`coalesce(null, "")`, "all arguments are null or empty strings"},
		{`coalesce()`, "at least one argument is required"},
		{`coalesce("a", ["b"])`, "all arguments must have the same type"},
		{`lookup({ a = "1" }, "b")`, `the map has no key "b": give a default as a third argument`},
		{`lookup(tomap({ a = "1" }), "b")`, `the map has no key "b"`},
		{`lookup({ a = "1" }, "a", "d", "e")`, "lookup takes two or three arguments"},
		{`lookup("a", "a")`, "lookup needs a map or an object, not string"},
		{`replace("a", "/(/", "")`, "is a regular expression (RE2 syntax), and this one is not valid"},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			_, _, diags := testLoad(t, map[string]string{"main.hcl": "locals {\n  x = " + tt.expr + "\n}\n"}, "main.hcl", LoadOptions{})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.want) {
				t.Errorf("%v, want an error saying %q", diags, tt.want)
			}
		})
	}
}

// TestVariableValidation: a variable's validation blocks, as Terraform's:
// a false condition is an error with its message, at the value's source
// when a file gave it; a condition may refer to the variable only; an
// unknown value (validate without values) is not checked.
func TestVariableValidation(t *testing.T) {
	const decl = `variable "release" {
  type = string
  validation {
    condition     = startswith(var.release, "v")
    error_message = "release is a tag such as v1.2."
  }
}
`
	for _, tt := range []struct {
		name string
		opts LoadOptions
		want string
	}{
		{"good", LoadOptions{Vars: map[string]string{"release": "v1.2"}}, ""},
		{"bad -var", LoadOptions{Vars: map[string]string{"release": "latest"}}, "release is a tag such as v1.2."},
		{"bad file value", LoadOptions{Values: map[string]InputValue{"release": {Value: cty.StringVal("latest")}}}, "release is a tag such as v1.2."},
		{"unset under validate", LoadOptions{Unset: true}, ""},
	} {
		_, _, diags := testLoad(t, map[string]string{"main.hcl": decl}, "main.hcl", tt.opts)
		switch {
		case tt.want == "" && diags.HasErrors():
			t.Errorf("%s: %v", tt.name, diags)
		case tt.want != "" && (len(diags) != 1 || diags[0].Summary != `Invalid value for variable "release"` || !strings.Contains(diags[0].Detail, tt.want)):
			t.Errorf("%s: %v, want the rule's message", tt.name, diags)
		}
	}
	_, _, diags := testLoad(t, map[string]string{"main.hcl": `variable "a" {
  default = "x"
}
variable "b" {
  default = "y"
  validation {
    condition     = var.a == var.b
    error_message = "b is a."
  }
}
`}, "main.hcl", LoadOptions{})
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "may refer to var.b only") {
		t.Errorf("a condition on another variable: %v", diags)
	}
}

// TestSensitiveValuesStayOutOfDiagnostics: a sensitive variable's value
// never reaches a diagnostic: not a -var of the wrong type, not a
// function's error or hcl's "with var.x as ..." on it, not a validation
// rule's message that quotes it; an error_message may quote the
// variable, as Terraform's, and a value that is not sensitive is shown.
func TestSensitiveValuesStayOutOfDiagnostics(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		opts      LoadOptions
		want      string
	}{
		{"-var of the wrong type", `variable "pin" {
  type      = number
  sensitive = true
}`, LoadOptions{Vars: map[string]string{"pin": "hunter2secret"}}, "is not a valid number"},
		{"function error", `variable "token" {
  sensitive = true
}
locals {
  n = tonumber(var.token)
}`, LoadOptions{Vars: map[string]string{"token": "hunter2secret"}}, "Invalid function argument"},
		{"validation quoting the value", `variable "token" {
  type      = string
  sensitive = true
  validation {
    condition     = startswith(var.token, "tok_")
    error_message = "token must start with tok_, not ${var.token}."
  }
}`, LoadOptions{EnvVars: map[string]string{"token": "hunter2secret"}}, "token must start with tok_, not (sensitive)."},
	} {
		_, _, diags := testLoad(t, map[string]string{"main.hcl": tt.src}, "main.hcl", tt.opts)
		var text strings.Builder
		for _, d := range diags {
			fmt.Fprintf(&text, "%s: %s\n", d.Summary, d.Detail)
			if d.EvalContext != nil && d.Expression != nil {
				text.WriteString("(an evaluation context hcl would print)\n")
			}
		}
		if !diags.HasErrors() || !strings.Contains(text.String(), tt.want) || strings.Contains(text.String(), "hunter2secret") || strings.Contains(text.String(), "evaluation context") {
			t.Errorf("%s: want %q and no secret:\n%s", tt.name, tt.want, text.String())
		}
	}
	// Not sensitive: the value helps, and is shown.
	_, _, diags := testLoad(t, map[string]string{"main.hcl": `variable "port" {
  type = number
  validation {
    condition     = var.port > 1024
    error_message = "port must be above 1024, got ${var.port}."
  }
}`}, "main.hcl", LoadOptions{Vars: map[string]string{"port": "80"}})
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, "port must be above 1024, got 80.") {
		t.Errorf("an error_message quoting the variable: %v", diags)
	}
}

// TestFunctionPanicsShowNoStackTrace: indent's bad counts are refused
// (go-cty's panicked on a negative one, and indent(1e9, s) made 2 GB),
// and a function that panics all the same shows one line, not the Go
// stack trace hcl puts in the detail.
func TestFunctionPanicsShowNoStackTrace(t *testing.T) {
	for _, expr := range []string{`indent(-5, "a\nb")`, `indent(1000000000, "a\nb")`, `indent(1.5, "a")`} {
		_, _, diags := testLoad(t, map[string]string{"main.hcl": "locals {\n  x = " + expr + "\n}\n"}, "main.hcl", LoadOptions{})
		if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "spaces is a whole number from 0 to 1000") {
			t.Errorf("%s: %v", expr, diags)
		}
	}
	d := &hcl.Diagnostic{Summary: "Error in function call", Detail: "Call to function \"x\" failed: panic in function implementation: boom\ngoroutine 1 [running]:\nmain.main()\n"}
	_ = functionDiagnostics(hcl.Diagnostics{d}) // it changes d in place
	if strings.Contains(d.Detail, "goroutine") || !strings.Contains(d.Detail, "panic in function implementation: boom. This is a bug in fanout") {
		t.Errorf("detail %q", d.Detail)
	}
}

package config

import (
	"os/exec"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestShellQuote(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `''`},
		{"abc", `'abc'`},
		{"it's", `'it'\''s'`},
		{"a b\tc", `'a b	c'`},
		{"$(rm -rf /) `id` $HOME", "'$(rm -rf /) `id` $HOME'"},
		{"'", `''\'''`},
		{"''", `''\'''\'''`},
		{"line\nbreak", "'line\nbreak'"},
		{`back\slash "dq"`, `'back\slash "dq"'`},
	}
	sh, err := exec.LookPath("sh")
	for _, tt := range tests {
		t.Run(cty.StringVal(tt.in).GoString(), func(t *testing.T) {
			if got := ShellQuote(tt.in); got != tt.want {
				t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
			}
			got, callErr := ShellQuoteFunc.Call([]cty.Value{cty.StringVal(tt.in)})
			if callErr != nil || got.AsString() != tt.want {
				t.Errorf("shellquote(%q) = %#v, %v", tt.in, got, callErr)
			}
			if err != nil {
				return // no sh to check the round trip with
			}
			// sh must see exactly one word, equal to the input.
			out, runErr := exec.Command(sh, "-c", "printf '%s|' "+tt.want).Output()
			if runErr != nil || string(out) != tt.in+"|" {
				t.Errorf("sh saw %q (%v), want %q", out, runErr, tt.in+"|")
			}
		})
	}
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		expr string
		want cty.Value
	}{
		{`upper("a")`, cty.StringVal("A")},
		{`lower("A")`, cty.StringVal("a")},
		{`join("-", ["a", "b"])`, cty.StringVal("a-b")},
		{`split(",", "a,b")`, cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		{`format("%s:%d", "h", 22)`, cty.StringVal("h:22")},
		{`formatlist("%s!", ["a", "b"])`, cty.ListVal([]cty.Value{cty.StringVal("a!"), cty.StringVal("b!")})},
		{`replace("a.b.c", ".", "/")`, cty.StringVal("a/b/c")},
		{`trimspace("  a ")`, cty.StringVal("a")},
		{`concat(["a"], ["b"])`, cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		{`length("héllo")`, cty.NumberIntVal(5)},
		{`length(["a", "b"])`, cty.NumberIntVal(2)},
		{`length({ a = 1 })`, cty.NumberIntVal(1)},
		{`contains(["a"], "a")`, cty.True},
		{`keys({ b = 1, a = 2 })`, cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		{`values({ a = "x" })`, cty.TupleVal([]cty.Value{cty.StringVal("x")})},
		{`lookup({ a = "x" }, "b", "d")`, cty.StringVal("d")},
		{`merge({ a = 1 }, { b = 2 })`, cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.NumberIntVal(2)})},
		{`jsonencode({ a = [1] })`, cty.StringVal(`{"a":[1]}`)},
		{`jsondecode("[1]")`, cty.TupleVal([]cty.Value{cty.NumberIntVal(1)})},
		{`coalesce(null, "b")`, cty.StringVal("b")},
		{`min(3, 1)`, cty.NumberIntVal(1)},
		{`max(3, 1)`, cty.NumberIntVal(3)},
		{`range(2)`, cty.ListVal([]cty.Value{cty.NumberIntVal(0), cty.NumberIntVal(1)})},
		{`tostring(1)`, cty.StringVal("1")},
		{`tonumber("2")`, cty.NumberIntVal(2)},
		{`shellquote("a'b")`, cty.StringVal(`'a'\''b'`)},
	}
	ctx := &hcl.EvalContext{Functions: Functions()}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			expr, diags := hclsyntax.ParseExpression([]byte(tt.expr), "test", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			got, diags := expr.Value(ctx)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if !got.RawEquals(tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLengthRejects(t *testing.T) {
	if _, err := LengthFunc.Call([]cty.Value{cty.NumberIntVal(1)}); err == nil {
		t.Error("length(1) did not fail")
	}
}

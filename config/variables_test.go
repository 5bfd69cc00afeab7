package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestVariableValues(t *testing.T) {
	tests := []struct {
		name string
		decl string
		vars map[string]string
		want cty.Value
	}{
		{
			name: "default when not set",
			decl: `default = "app"`,
			want: cty.StringVal("app"),
		},
		{
			name: "input over default",
			decl: `default = "app"`,
			vars: map[string]string{"v": "web"},
			want: cty.StringVal("web"),
		},
		{
			name: "untyped input stays a string",
			decl: `default = 1`,
			vars: map[string]string{"v": "[1, 2]"},
			want: cty.StringVal("[1, 2]"),
		},
		{
			name: "string input is not parsed",
			decl: `type = string`,
			vars: map[string]string{"v": `"quoted" ${x}`},
			want: cty.StringVal(`"quoted" ${x}`),
		},
		{
			name: "number parsed",
			decl: `type = number`,
			vars: map[string]string{"v": "8080"},
			want: cty.NumberIntVal(8080),
		},
		{
			name: "bool parsed",
			decl: "type = bool\ndefault = true",
			vars: map[string]string{"v": "false"},
			want: cty.False,
		},
		{
			name: "list parsed and converted",
			decl: `type = list(string)`,
			vars: map[string]string{"v": `["a", 1]`},
			want: cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("1")}),
		},
		{
			name: "map parsed",
			decl: `type = map(number)`,
			vars: map[string]string{"v": `{ a = 1, "b" = 2 }`},
			want: cty.MapVal(map[string]cty.Value{"a": cty.NumberIntVal(1), "b": cty.NumberIntVal(2)}),
		},
		{
			name: "optional attribute defaults applied",
			decl: `type = object({ name = string, port = optional(number, 22) })`,
			vars: map[string]string{"v": `{ name = "web" }`},
			want: cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("web"), "port": cty.NumberIntVal(22)}),
		},
		{
			name: "default converted to the type",
			decl: "type = number\ndefault = \"10\"",
			want: cty.NumberIntVal(10),
		},
		{
			name: "default may call functions",
			decl: `default = upper("app")`,
			want: cty.StringVal("APP"),
		},
		{
			name: "null default makes it optional",
			decl: "type = string\ndefault = null",
			want: cty.NullVal(cty.String),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "variable \"v\" {\n" + tt.decl + "\n}\ntask \"t\" { run = \"true\" }\n"
			cfg := mustLoad(t, map[string]string{"a.hcl": src}, "a.hcl", LoadOptions{Vars: tt.vars})
			got := cfg.Variables[0].Value
			if !got.RawEquals(tt.want) {
				t.Errorf("value = %#v, want %#v", got, tt.want)
			}
			if v := cfg.EvalContext.Variables["var"].GetAttr("v"); !v.RawEquals(tt.want) {
				t.Errorf("var.v in EvalContext = %#v", v)
			}
		})
	}
}

func TestVariableErrors(t *testing.T) {
	src := `
variable "port" {
  type = number
}
variable "names" {
  type    = list(string)
  default = []
}
variable "service" {
  default = "app"
}
task "t" { run = "true" }
`
	tests := []struct {
		name    string
		vars    map[string]string
		summary string
		detail  string // a part of it
	}{
		{"required not set", nil, "No value for required variable", `-var port=VALUE`},
		{"undeclared", map[string]string{"port": "1", "servce": "x"}, "Value for undeclared variable", `Did you mean "service"?`},
		{"not a number", map[string]string{"port": "eighty"}, "Variables not allowed", ""},
		{"wrong type", map[string]string{"port": `"eighty"`}, `Invalid value for variable "port"`, "not a valid number"},
		{"bad syntax", map[string]string{"port": "1", "names": `["a",`}, "Missing expression", ""},
		{"list element", map[string]string{"port": "1", "names": `[["a"]]`}, `Invalid value for variable "names"`, "not a valid list(string)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := testLoad(t, map[string]string{"a.hcl": src}, "a.hcl", LoadOptions{Vars: tt.vars})
			var got []string
			for _, d := range diags {
				got = append(got, d.Summary)
			}
			if diff := cmp.Diff([]string{tt.summary}, got); diff != "" {
				t.Fatalf("summaries (-want +got):\n%s", diff)
			}
			if !strings.Contains(diags[0].Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", diags[0].Detail, tt.detail)
			}
		})
	}
}

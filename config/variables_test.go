package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
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
		{"not a number", map[string]string{"port": "eighty"}, `Invalid value for variable "port"`, "it reads as a reference, not a value"},
		{"wrong type", map[string]string{"port": `"eighty"`}, `Invalid value for variable "port"`, "not a valid number"},
		{"bad syntax", map[string]string{"port": "1", "names": `["a",`}, `Invalid value for variable "names"`, "Missing expression"},
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

func TestParseVarFile(t *testing.T) {
	src := "port  = 8080\nnames = [\"a\", \"b\"]\nservice = \"web\"\n"
	f, values, diags := ParseVarFile([]byte(src), "prod.vars.hcl")
	if diags.HasErrors() || f == nil {
		t.Fatalf("diagnostics: %v", diags)
	}
	if got := values["port"]; !got.Value.RawEquals(cty.NumberIntVal(8080)) || got.Range.Start.Line != 1 || got.Range.Filename != "prod.vars.hcl" {
		t.Errorf("port = %#v at %v", got.Value, got.Range)
	}
	if got := values["names"].Value; !got.RawEquals(cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})) {
		t.Errorf("names = %#v", got)
	}

	for name, bad := range map[string]struct{ src, summary string }{
		"reference": {"port = var.x\n", "Variables not allowed"},
		"function":  {"port = upper(\"a\")\n", "Function calls not allowed"},
		"block":     {"variable \"x\" {}\n", "Unexpected \"variable\" block"},
		"syntax":    {"port = \n", "Invalid expression"},
		// A -var-file is held to a configuration file's limits.
		"nul":        {"port = 1\x00\n", "Not a text file"},
		"deep":       {"x = " + strings.Repeat("[", 100_000) + "1" + strings.Repeat("]", 100_000) + "\n", "Configuration nested too deeply"},
		"long chain": {"x = 1" + strings.Repeat("+1", 100_000) + "\n", "Configuration nested too deeply"},
		"too large":  {strings.Repeat("# comment\n", MaxFileSize/10+1), "Configuration file too large"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, diags := ParseVarFile([]byte(bad.src), "bad.hcl")
			if !diags.HasErrors() || diags[0].Summary != bad.summary {
				t.Errorf("diagnostics = %v, want %q", diags, bad.summary)
			}
		})
	}
	t.Run("many errors", func(t *testing.T) {
		_, _, diags := ParseVarFile([]byte(strings.Repeat("port = =\n", 5000)), "bad.hcl")
		if len(diags) != MaxDiagnostics+1 {
			t.Errorf("%d diagnostics, want %d and a count of the rest", len(diags), MaxDiagnostics+1)
		}
	})
}

func TestVariableValuesFromFile(t *testing.T) {
	src := `
variable "port" {
  type = number
}
variable "names" {
  type    = list(string)
  default = []
}
task "t" { run = "true" }
`
	_, values, diags := ParseVarFile([]byte("port = 8080\nnames = [\"a\", 1]\nservce = \"x\"\n"), "vars.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	_, cfg, diags := testLoad(t, map[string]string{"a.hcl": src}, "a.hcl", LoadOptions{
		Values: values,
		// Values wins over a raw value for the same name.
		Vars: map[string]string{"port": "1"},
	})
	if diags.HasErrors() {
		t.Fatalf("errors: %v", diags)
	}
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != "Value for undeclared variable" ||
		!strings.Contains(diags[0].Detail, `"servce"`) {
		t.Errorf("want one warning for the undeclared name, got %v", diags)
	}
	if got := cfg.Variables[0].Value; !got.RawEquals(cty.NumberIntVal(8080)) {
		t.Errorf("port = %#v, want 8080 from the file", got)
	}
	if got := cfg.Variables[1].Value; !got.RawEquals(cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("1")})) {
		t.Errorf("names = %#v, want the file's list converted", got)
	}

	_, values, _ = ParseVarFile([]byte("port = \"eighty\"\n"), "vars.hcl")
	_, _, diags = testLoad(t, map[string]string{"a.hcl": src}, "a.hcl", LoadOptions{Values: values})
	if !diags.HasErrors() || diags[0].Summary != `Invalid value for variable "port"` || diags[0].Subject == nil || diags[0].Subject.Filename != "vars.hcl" {
		t.Errorf("a wrong type in the file: %v", diags)
	}
}

// TestEnvVars: FANOUT_VAR_* values sit under -var, and one for a variable
// the configuration does not declare is ignored, as TF_VAR_* is.
func TestEnvVars(t *testing.T) {
	files := map[string]string{"main.hcl": `
variable "who" {
  type = string
}
variable "n" {
  type    = number
  default = 1
}
task "a" {
  run = "echo ${var.who} ${var.n}"
}`}
	p, cfg, diags := testLoad(t, files, "main.hcl", LoadOptions{
		EnvVars: map[string]string{"who": "env", "n": "2", "other": "x"},
		Vars:    map[string]string{"n": "3"},
	})
	if len(diags) != 0 {
		t.Fatalf("diagnostics:\n%s", render(t, p, diags))
	}
	if got := cfg.Tasks[0].Run[0]; got != "echo env 3" {
		t.Errorf("run = %q, want the environment's who and -var's n", got)
	}
	_, _, diags = testLoad(t, files, "main.hcl", LoadOptions{Vars: map[string]string{"who": "x", "other": "x"}})
	if len(diags) != 1 || diags[0].Summary != "Value for undeclared variable" || !diags.HasErrors() {
		t.Errorf("-var for an undeclared variable: %v, want one error", diags)
	}

	// A bad value names where it came from: the environment's said -var.
	for _, tt := range []struct {
		opts LoadOptions
		want string
	}{
		{LoadOptions{EnvVars: map[string]string{"who": "x", "n": "abc"}}, "The value of the environment variable FANOUT_VAR_n, \"abc\", is not a valid number"},
		{LoadOptions{EnvVars: map[string]string{"who": "x", "n": "abc"}}, "such as FANOUT_VAR_n=8080."},
		{LoadOptions{EnvVars: map[string]string{"who": "x", "n": "2"}, Vars: map[string]string{"n": "abc"}}, "The value given for \"n\", \"abc\""},
		{LoadOptions{Vars: map[string]string{"who": "x", "n": "abc"}}, "such as -var n=8080."},
	} {
		_, _, diags = testLoad(t, files, "main.hcl", tt.opts)
		if len(diags) != 1 || !strings.Contains(diags[0].Detail, tt.want) {
			t.Errorf("%+v: %v, want %q", tt.opts, diags, tt.want)
		}
	}
}

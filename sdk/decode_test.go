package sdk_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
)

type decodeTarget struct {
	Shell   string            `cty:"shell"`
	Port    int               `cty:"port"`
	Jump    []string          `cty:"jump"`
	Env     map[string]string `cty:"env"`
	Token   *string           `cty:"token"`
	Raw     cty.Value         `cty:"raw"`
	Ignored string
}

func TestDecode(t *testing.T) {
	defaults := func() decodeTarget { return decodeTarget{Shell: "/bin/sh", Port: 22, Ignored: "kept"} }
	token := "s3cret"
	tests := []struct {
		name string
		obj  cty.Value
		want decodeTarget
	}{
		{"no value keeps every default", cty.NilVal, defaults()},
		{"null object keeps every default", cty.NullVal(cty.Object(map[string]cty.Type{"port": cty.Number})), defaults()},
		{"null attributes keep their defaults", cty.ObjectVal(map[string]cty.Value{
			"shell": cty.NullVal(cty.String), "port": cty.NullVal(cty.Number), "jump": cty.NullVal(cty.List(cty.String)),
			"env": cty.NullVal(cty.Map(cty.String)), "token": cty.NullVal(cty.String), "raw": cty.NullVal(cty.DynamicPseudoType),
		}), defaults()},
		{"set attributes replace them", cty.ObjectVal(map[string]cty.Value{
			"shell": cty.StringVal("/bin/bash"), "port": cty.NumberIntVal(2222),
			"jump":  cty.ListVal([]cty.Value{cty.StringVal("bastion")}),
			"env":   cty.MapVal(map[string]cty.Value{"A": cty.StringVal("1")}),
			"token": cty.StringVal(token).Mark("sensitive"), "raw": cty.True,
			"other": cty.StringVal("an attribute no field names"),
		}), decodeTarget{Shell: "/bin/bash", Port: 2222, Jump: []string{"bastion"}, Env: map[string]string{"A": "1"},
			Token: &token, Raw: cty.True, Ignored: "kept"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaults()
			if err := sdk.Decode(tt.obj, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	var target decodeTarget
	tests := []struct {
		name   string
		obj    cty.Value
		target any
		want   string
	}{
		{"wrong type names the attribute", cty.ObjectVal(map[string]cty.Value{"port": cty.StringVal("ssh")}), &target, `attribute "port"`},
		{"fraction into an int", cty.ObjectVal(map[string]cty.Value{"port": cty.NumberFloatVal(2.5)}), &target, `attribute "port"`},
		{"unknown value", cty.ObjectVal(map[string]cty.Value{"port": cty.UnknownVal(cty.Number)}), &target, "unknown"},
		{"not an object", cty.StringVal("x"), &target, "want an object"},
		{"not a pointer", cty.EmptyObjectVal, target, "pointer to a struct"},
		{"nil pointer", cty.EmptyObjectVal, (*decodeTarget)(nil), "pointer to a struct"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sdk.Decode(tt.obj, tt.target)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSeverityZeroIsNotError(t *testing.T) {
	var d sdk.Diagnostic
	if d.Severity == sdk.Error || d.Severity.String() != "invalid" {
		t.Errorf("the zero Severity is %v", d.Severity)
	}
	// A diagnostic whose severity was forgotten still stops the run.
	if !(sdk.Diagnostics{d}).HasErrors() || (sdk.Diagnostics{d}).Err() == nil {
		t.Error("a diagnostic without severity does not count as an error")
	}
	if (sdk.Diagnostics{{Severity: sdk.Warning}}).HasErrors() {
		t.Error("a warning counts as an error")
	}
}

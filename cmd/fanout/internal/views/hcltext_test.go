package views

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestHCLText: values of settings and vars are written on one line, as
// HCL writes them, names quoted where HCL would quote them; an object
// spanned lines, which broke the plan's rows across the left margin.
func TestHCLText(t *testing.T) {
	for _, tt := range []struct {
		v    cty.Value
		want string
	}{
		{cty.StringVal("a \"b\"\n"), `"a \"b\"\n"`},
		{cty.NumberIntVal(443), `443`},
		{cty.True, `true`},
		{cty.NullVal(cty.String), `null`},
		{cty.ObjectVal(map[string]cty.Value{"team": cty.StringVal("a"), "tier": cty.StringVal("web")}), `{ team = "a", tier = "web" }`},
		{cty.MapVal(map[string]cty.Value{"has space": cty.NumberIntVal(1), "": cty.NumberIntVal(2)}), `{ "" = 2, "has space" = 1 }`},
		{cty.TupleVal([]cty.Value{cty.NumberIntVal(80), cty.StringVal("x")}), `[80, "x"]`},
		{cty.ListValEmpty(cty.String), `[]`},
		{cty.EmptyObjectVal, `{}`},
		{cty.ObjectVal(map[string]cty.Value{"env": cty.MapVal(map[string]cty.Value{"A": cty.StringVal("1")})}), `{ env = { A = "1" } }`},
	} {
		if got := hclText(tt.v); got != tt.want {
			t.Errorf("hclText(%#v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

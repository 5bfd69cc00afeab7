package config

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestTemplateFile: a template calls every function of the configuration,
// file() too, as Terraform's templates do; templatefile inside a template
// is refused with why and what to write instead; a template's error says
// where, with no doubled period (hcl ends the message with its own).
func TestTemplateFile(t *testing.T) {
	for _, tt := range []struct {
		name, tpl     string
		want, wantErr string
	}{
		{"file", `motd=${trimspace(file("motd.txt"))}`, "motd=hello", ""},
		{"a function", `${upper("x")}`, "X", ""},
		{"templatefile", "a\n${templatefile(\"x.tftpl\", {})}", "",
			`template t.tftpl line 2: a template cannot call templatefile: render the inner template in the configuration`},
		{"an unknown function", `${nope()}`, "", `template t.tftpl line 1: Call to unknown function; There is no function named "nope".`},
		{"a syntax error", `${`, "", "template t.tftpl line 1: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg, diags := testLoad(t, map[string]string{
				"main.hcl": "locals {\n  x = templatefile(\"t.tftpl\", {})\n}\n",
				"t.tftpl":  tt.tpl,
				"motd.txt": "hello\n",
				"x.tftpl":  "inner",
			}, "main.hcl", LoadOptions{})
			if tt.wantErr == "" {
				if diags.HasErrors() {
					t.Fatal(diags.Error())
				}
				if got := cfg.Locals[0].Value; !got.RawEquals(cty.StringVal(tt.want)) {
					t.Errorf("got %#v, want %q", got, tt.want)
				}
				return
			}
			if !diags.HasErrors() || !strings.Contains(diags[0].Detail, tt.wantErr) || strings.Contains(diags[0].Detail, "..") {
				t.Errorf("%v, want an error saying %q, with no doubled period", diags, tt.wantErr)
			}
		})
	}
}

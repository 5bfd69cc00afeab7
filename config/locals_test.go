package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// TestLocalsOrder declares locals before what they use, across files: they
// are evaluated in dependency order and listed in declaration order.
func TestLocalsOrder(t *testing.T) {
	files := map[string]string{
		"a.hcl": `
locals {
  url  = "https://${local.fqdn}:${var.port}/"
  fqdn = "${local.name}.${local.domain}"
}
task "t" { run = "curl ${local.url}" }
`,
		"b.hcl": `
locals {
  name   = lower(host.web.name)
  domain = "example.com"
}
variable "port" { default = 8443 }
host "web" {}
`,
	}
	cfg := mustLoad(t, files, ".", LoadOptions{})
	want := []*Local{
		{Name: "url", Value: cty.StringVal("https://web.example.com:8443/")},
		{Name: "fqdn", Value: cty.StringVal("web.example.com")},
		{Name: "name", Value: cty.StringVal("web")},
		{Name: "domain", Value: cty.StringVal("example.com")},
	}
	if diff := cmp.Diff(want, cfg.Locals, cmpConfig); diff != "" {
		t.Errorf("locals (-want +got):\n%s", diff)
	}
	if got := cfg.Tasks[0].Run[0]; got != "curl https://web.example.com:8443/" {
		t.Errorf("run = %q", got)
	}
}

// TestLocalsCycleQuiet checks that what depends on a cycle gets no error of
// its own: the cycle is the one mistake.
func TestLocalsCycleQuiet(t *testing.T) {
	_, _, diags := testLoad(t, map[string]string{"a.hcl": `
locals {
  a = local.b
  b = local.a
  c = "${local.a}!"
}
host "h" { address = local.c }
task "t" {
  on  = [local.c]
  run = "echo ${local.c} ${host.h.address}"
}
`}, "a.hcl", LoadOptions{})
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary)
	}
	if diff := cmp.Diff([]string{"Circular reference to local.a"}, got); diff != "" {
		t.Errorf("summaries (-want +got):\n%s", diff)
	}
}

func TestHostLocalCycle(t *testing.T) {
	_, _, diags := testLoad(t, map[string]string{"a.hcl": `
locals { addr = host.web.address }
host "web" { address = local.addr }
task "t" { run = "true" }
`}, "a.hcl", LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Circular reference to local.addr" {
		t.Fatalf("got %v", diags)
	}
	if want := "local.addr refers to host.web refers to local.addr"; !strings.Contains(diags[0].Detail, want) {
		t.Errorf("detail %q does not name the loop %q", diags[0].Detail, want)
	}
}

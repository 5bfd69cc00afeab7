package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestHostForEach checks the hosts for_each makes from each kind of
// inventory: names, addresses, roles (the label first), vars, the order,
// and the transport's own settings evaluated per instance.
func TestHostForEach(t *testing.T) {
	files := map[string]string{
		"fleet/main.hcl": `
locals {
  db = yamldecode(file("inventory/db.yaml"))
}

host "web" {
  for_each = hostrange("web[08-10].example.com")
  address  = "${each.key}"
  roles    = ["frontend", "web"]
  vars     = { weight = 3, name = each.key }
}

host "db" {
  for_each = local.db
  address  = each.value.address
  port     = each.value.port
}

host "cache" {
  for_each = { for r in csvdecode(file("cache.csv")) : r.name => r }
  address  = each.value.addr
}

host "lb1" {
  vars = { vip = "10.9.9.9" }
}

task "t" {
  on  = ["web", "db", "cache", "lb1"]
  run = "true"
}
`,
		"fleet/inventory/db.yaml": "db2: {address: 10.1.0.2, port: 2222}\ndb1: {address: 10.1.0.1, port: 22}\n",
		"fleet/cache.csv":         "name,addr\ncache1,10.2.0.1\ncache2,10.2.0.2\n",
	}
	cfg := mustLoad(t, files, "fleet", LoadOptions{})

	type host struct {
		Name, Address string
		Roles         []string
	}
	var got []host
	for _, h := range cfg.Hosts {
		got = append(got, host{h.Name, h.Address, h.Roles})
	}
	want := []host{
		{"web08.example.com", "web08.example.com", []string{"web", "frontend"}},
		{"web09.example.com", "web09.example.com", []string{"web", "frontend"}},
		{"web10.example.com", "web10.example.com", []string{"web", "frontend"}},
		{"db1", "10.1.0.1", []string{"db"}}, // a map's keys in lexical order
		{"db2", "10.1.0.2", []string{"db"}},
		{"cache1", "10.2.0.1", []string{"cache"}},
		{"cache2", "10.2.0.2", []string{"cache"}},
		{"lb1", "lb1", nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hosts (-want +got):\n%s", diff)
	}
	if n := len(cfg.Tasks[0].Hosts); n != len(want) {
		t.Errorf("task runs on %d hosts, want %d", n, len(want))
	}

	web := cfg.Hosts[1]
	if want := cty.ObjectVal(map[string]cty.Value{"weight": cty.NumberIntVal(3), "name": cty.StringVal("web09.example.com")}); !web.Vars.RawEquals(want) {
		t.Errorf("vars of %s = %#v, want %#v", web.Name, web.Vars, want)
	}
	if lb := cfg.Hosts[7]; lb.Vars.GetAttr("vip").AsString() != "10.9.9.9" || lb.EvalContext != nil {
		t.Errorf("lb1: vars %#v, context %v", lb.Vars, lb.EvalContext)
	}

	// The transport's settings (port here) stay in the shared body and are
	// decoded per instance, with each, by the core.
	for i, port := range map[int]int64{3: 22, 4: 2222} {
		h := cfg.Hosts[i]
		attrs, diags := h.Config.JustAttributes()
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, diags := attrs["port"].Expr.Value(h.EvalContext)
		if diags.HasErrors() || !v.RawEquals(cty.NumberIntVal(port)) {
			t.Errorf("port of %s = %#v (%v), want %d", h.Name, v, diags, port)
		}
		if _, ok := attrs["for_each"]; ok {
			t.Errorf("for_each left in %s's transport settings", h.Name)
		}
	}
}

// TestForEachReferences checks that a value may refer to a host made by
// for_each, wherever the block is, and that an empty fleet is a role.
func TestForEachReferences(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"main.hcl": `
locals {
  first = host["n1"].address
}

host "jump" {
  address = "via-${local.first}"
}

host "n" {
  for_each = toset(["n1", "n2"])
  address  = "${each.value}.lan"
}

host "spare" {
  for_each = []
}

task "t" {
  on  = ["n", "jump", "spare"]
  run = "echo ${host.n2.address}"
}
`}, "main.hcl", LoadOptions{})
	if got := cfg.Hosts[0].Address; got != "via-n1.lan" {
		t.Errorf("jump's address = %q, want via-n1.lan", got)
	}
	if got := cfg.Tasks[0].Run; !slices.Equal(got, []string{"echo n2.lan"}) {
		t.Errorf("run = %q", got)
	}
}

// TestHostRange checks hostrange's names and order.
func TestHostRange(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"web[01-03,10].example.com", []string{"web01.example.com", "web02.example.com", "web03.example.com", "web10.example.com"}},
		{"db1", []string{"db1"}},
		{"r[1-2]n[1-2]", []string{"r1n1", "r1n2", "r2n1", "r2n2"}},
		{"a[3,1],b", []string{"a3", "a1", "b"}},
	}
	for _, tt := range tests {
		t.Run(cty.StringVal(tt.pattern).GoString(), func(t *testing.T) {
			v, err := HostRangeFunc.Call([]cty.Value{cty.StringVal(tt.pattern)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range v.AsValueSlice() {
				got = append(got, e.AsString())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("hostrange(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
	if v, err := HostRangeFunc.Call([]cty.Value{cty.StringVal("h[1-100000]")}); err != nil || v.LengthInt() != 100_000 {
		t.Errorf("100,000 names: %v", err)
	}
}

// TestCSVDecode checks csvdecode's rows and its quoting.
func TestCSVDecode(t *testing.T) {
	v, err := CSVDecodeFunc.Call([]cty.Value{cty.StringVal("name,note\nh1,\"a, b\"\nh2,\n")})
	if err != nil {
		t.Fatal(err)
	}
	want := cty.ListVal([]cty.Value{
		cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("h1"), "note": cty.StringVal("a, b")}),
		cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal("h2"), "note": cty.StringVal("")}),
	})
	if !v.RawEquals(want) {
		t.Errorf("csvdecode = %#v, want %#v", v, want)
	}
	v, err = CSVDecodeFunc.Call([]cty.Value{cty.StringVal("name\n")})
	if err != nil || v.LengthInt() != 0 {
		t.Errorf("header only: %#v, %v", v, err)
	}
	for _, bad := range []string{"", "a,a\n1,2\n", "a,b\n1\n"} {
		if _, err := CSVDecodeFunc.Call([]cty.Value{cty.StringVal(bad)}); err == nil {
			t.Errorf("csvdecode(%q) did not fail", bad)
		}
	}
}

// TestFileRelative checks that file() is relative to the directory
// of the file loaded, and is not offered where no configuration is.
func TestFileRelative(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"a/b/main.hcl": `locals { x = trimspace(file("../x.txt")) }`,
		"a/x.txt":      "hello\n",
	}, "a/b/main.hcl", LoadOptions{})
	if got := cfg.Locals[0].Value; !got.RawEquals(cty.StringVal("hello")) {
		t.Errorf("file() = %#v", got)
	}
	if _, ok := Functions()["file"]; ok {
		t.Error("Functions() offers file(), which has no directory to read from")
	}
	_, _, diags := testLoad(t, map[string]string{"main.hcl": `locals { x = file("x.bin") }`, "x.bin": "\xff\xfe"}, "main.hcl", LoadOptions{})
	if !diags.HasErrors() || !containsDetail(diags, "not UTF-8") {
		t.Errorf("a binary file: %v", diags)
	}
}

func containsDetail(diags hcl.Diagnostics, s string) bool {
	return slices.ContainsFunc(diags, func(d *hcl.Diagnostic) bool { return strings.Contains(d.Detail, s) })
}

// TestHostNamedLikeARole: a host whose name is a role of other hosts is
// warned of (on and -limit select it with them), at its label; a host
// holding a role of its own name is not.
func TestHostNamedLikeARole(t *testing.T) {
	src := `
host "db" {
  for_each  = ["web"]
  transport = "local"
}
host "web" {
  for_each  = hostrange("web[1-2]")
  transport = "local"
}
host "cache" {
  roles     = ["cache"]
  transport = "local"
}
task "t" {
  run = "true"
}
`
	p, cfg, diags := testLoad(t, map[string]string{"f.hcl": src}, "f.hcl", LoadOptions{})
	if cfg == nil || diags.HasErrors() {
		t.Fatalf("load: %s", render(t, p, diags))
	}
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%s line %d", d.Summary, d.Subject.Start.Line))
	}
	if want := []string{`Host "web" has the name of a role line 2`}; !slices.Equal(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
}

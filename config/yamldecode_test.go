package config

import (
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// TestYAMLDecodeBounded: yamldecode refuses at once what would take
// unbounded memory or time, and decodes anchors, aliases and merge keys
// as go-cty-yaml does.
func TestYAMLDecodeBounded(t *testing.T) {
	laughs := "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	for i, c := range "bcdefghi" {
		prev := string("abcdefgh"[i])
		laughs += string(c) + ": &" + string(c) + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+", ", 9), ", ") + "]\n"
	}
	for _, tt := range []struct{ name, src, want string }{
		{"billion laughs", laughs, "expand it to more than 1000000 values"},
		{"deep flow", strings.Repeat("[", 200) + strings.Repeat("]", 200), "nests deeper than 100 levels"},
		{"very deep flow", strings.Repeat("[", 50_000) + strings.Repeat("]", 50_000), "nests deeper than 100 levels"},
		{"deep block", deepBlockYAML(150), "nests deeper than 100 levels"},
		{"second document", "a: 1\n---\n" + laughs, "expand it to more than"},
		{"a key twice", "web1: {addr: 10.0.0.1}\nweb2: {addr: 10.0.0.2}\nweb1: {addr: 10.0.0.9}\n", `the YAML gives the key "web1" twice, on lines 1 and 3`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := YAMLDecodeFunc.Call([]cty.Value{cty.StringVal(tt.src)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}

	src := "defaults: &d {user: deploy, port: 22}\nhosts:\n  web1: {<<: *d, port: 2222}\n  web2: *d\n"
	got, err := YAMLDecodeFunc.Call([]cty.Value{cty.StringVal(src)})
	if err != nil {
		t.Fatal(err)
	}
	hosts := got.GetAttr("hosts")
	if p := hosts.GetAttr("web1").GetAttr("port"); !p.RawEquals(cty.NumberIntVal(2222)) {
		t.Errorf("web1's port = %#v", p)
	}
	if u := hosts.GetAttr("web2").GetAttr("user"); !u.RawEquals(cty.StringVal("deploy")) {
		t.Errorf("web2's user = %#v", u)
	}
	if _, err := YAMLDecodeFunc.Call([]cty.Value{cty.StringVal(strings.Repeat("[", 99) + strings.Repeat("]", 99))}); err != nil {
		t.Errorf("99 levels: %v", err)
	}
}

// deepBlockYAML is n levels of block mappings.
func deepBlockYAML(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", n) + "v: 1\n")
	return b.String()
}

// TestJSONDecodeDuplicateKeys: jsondecode refuses an object giving a key
// twice, at any depth, and decodes the rest as go-cty does.
func TestJSONDecodeDuplicateKeys(t *testing.T) {
	for src, want := range map[string]string{
		`{"web1": {"addr": "10.0.0.1"}, "web1": {"addr": "10.0.0.9"}}`: `the JSON gives the key "web1" twice`,
		`[{"a": 1}, {"b": {"c": 1, "c": 2}}]`:                          `the JSON gives the key "c" twice`,
		`{"a": [1, {"a": 2}], "b": {"a": 3}}`:                          "",
		`{"a": {"b": 1}, "b": [{"b": 2}, {"b": 3}]}`:                   "",
	} {
		_, err := JSONDecodeFunc.Call([]cty.Value{cty.StringVal(src)})
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", src, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}

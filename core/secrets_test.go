package core

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSecretsDerived: what a configuration's functions compute from a
// sensitive variable is a secret, named "var.NAME#" and a digest that is
// the same on every load of the same configuration and values (a rollback
// fills the journal's placeholders by name) and differs with the
// variable's value; a derived value shorter than 4 bytes is not one.
func TestSecretsDerived(t *testing.T) {
	const src = `variable "token" {
  sensitive = true
  default   = "s3cr3t-token"
}
locals {
  up    = upper(var.token)
  short = substr(var.token, 0, 3)
}
task "t" {
  run = "echo ${base64encode(var.token)}"
}
`
	first := Secrets(loadTestConfig(t, src), nil)
	names := map[string]string{}
	for _, s := range first {
		names[s.Value] = s.Name
	}
	for _, tt := range []struct{ value, prefix string }{
		{"s3cr3t-token", "var.token"},
		{"S3CR3T-TOKEN", "var.token#"},
		{"czNjcjN0LXRva2Vu", "var.token#"},
	} {
		if n, ok := names[tt.value]; !ok || !strings.HasPrefix(n, tt.prefix) {
			t.Errorf("%q is named %q, want a secret named %s...", tt.value, n, tt.prefix)
		}
	}
	if _, ok := names["s3c"]; ok {
		t.Errorf("a 3-byte derived value is a secret: %v", first)
	}
	if diff := cmp.Diff(first, Secrets(loadTestConfig(t, src), nil)); diff != "" {
		t.Errorf("a second load names its secrets otherwise (-first +second):\n%s", diff)
	}
	other := Secrets(loadTestConfig(t, strings.Replace(src, "s3cr3t-token", "other-secret", 1)), nil)
	for _, s := range other {
		if strings.Contains(s.Name, "#") && s.Name == names["S3CR3T-TOKEN"] {
			t.Errorf("another value has the same name %q", s.Name)
		}
	}
}

package config

import (
	"strings"
	"testing"
)

// TestTargetMistakeNamesTheHost: a value evaluated per host that fails on
// some hosts only (a key of target.vars some lack) says which host, and
// how to give the others a default.
func TestTargetMistakeNamesTheHost(t *testing.T) {
	_, _, diags := testLoad(t, map[string]string{"main.hcl": `
host "h" {
  vars      = { x = 1 }
  transport = "local"
}
host "g" {
  transport = "local"
}
task "a" {
  run = "echo x=${target.vars.x}"
}
`}, "main.hcl", LoadOptions{})
	if len(diags) != 1 || !strings.Contains(diags[0].Detail, `for host "g"`) || !strings.Contains(diags[0].Detail, `lookup(target.vars, "NAME", "DEFAULT")`) {
		t.Errorf("diagnostics %v: want one, naming host g and lookup()", diags)
	}
	_, cfg, diags := testLoad(t, map[string]string{"main.hcl": `
host "h" {
  vars      = { x = 1 }
  transport = "local"
}
host "g" {
  transport = "local"
}
task "a" {
  run = "echo x=${lookup(target.vars, "x", 0)}"
}
`}, "main.hcl", LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("with lookup: %v", diags)
	}
	if got := cfg.Tasks[0].PerHost["g"].Run[0]; got != "echo x=0" {
		t.Errorf("g runs %q, want the default", got)
	}
}

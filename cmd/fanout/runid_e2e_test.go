package main

import (
	"os"
	"strings"
	"testing"
)

// TestPluginConfiguredWithRunID (issue 19): the local plugin is
// configured with the ID of the run apply prints (its debug log says so),
// not with an empty one.
func TestPluginConfiguredWithRunID(t *testing.T) {
	dir, _ := workdir(t, `
task "a" {
  run = "true"
}
`)
	r := runFanout(t, dir, append(os.Environ(), "NO_COLOR=1", "FANOUT_LOG=debug"), "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	id := runID(t, r.stdout)
	var configured string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "configured") && strings.Contains(l, "run_id") {
			configured = l
		}
	}
	if !strings.Contains(configured, "run_id="+id) {
		t.Errorf("the plugin was configured with another run ID than %s: %q\n%s", id, configured, r.stderr)
	}
}

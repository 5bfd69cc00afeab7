// Package layering holds the test that keeps fanout's data flowing one way:
// config -> core -> sdk -> plugin. It has no code of its own.
//
// Plugin hosting (internal/pluginhost: discovery, checksums, the lock
// file, starting processes through sdk/client) sits beside core, not in
// it: core consumes transports through its own Launcher interface, and
// cmd/fanout wires the two together.
package layering

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/fanout/fanout"

// forbidden lists, per package (prefix), the imports (prefixes) it must
// never reach, directly or not.
var forbidden = map[string][]string{
	module + "/config": {
		module + "/core", module + "/sdk", module + "/plugins", module + "/cmd",
		"github.com/hashicorp/go-plugin", "google.golang.org/grpc", "golang.org/x/crypto/ssh",
	},
	module + "/core": {
		module + "/cmd", module + "/plugins", module + "/internal/pluginhost", module + "/sdk/client",
		"golang.org/x/crypto/ssh", "golang.org/x/term",
	},
	module + "/internal/pluginhost": {
		module + "/config", module + "/core", module + "/cmd", module + "/plugins",
		"golang.org/x/crypto/ssh", "golang.org/x/term",
	},
	module + "/sdk": {
		module + "/config", module + "/core", module + "/cmd", module + "/plugins", module + "/internal",
		"github.com/hashicorp/hcl", "golang.org/x/crypto/ssh",
	},
	// nodeset is strings to strings, shared by config, core and the CLI.
	module + "/internal/nodeset": {
		module + "/config", module + "/core", module + "/sdk", module + "/cmd", module + "/plugins",
		"github.com/hashicorp/hcl", "github.com/zclconf/go-cty",
	},
	// shellquote is strings to strings, for the CLI's suggestions, the ssh
	// transport's remote script and the test fleet.
	module + "/internal/shellquote": {
		module + "/config", module + "/core", module + "/sdk", module + "/cmd", module + "/plugins",
	},
	module + "/plugins/local": {
		module + "/config", module + "/core", module + "/cmd", module + "/plugins/ssh", module + "/internal/pluginhost",
		module + "/sdk/client", "github.com/hashicorp/hcl",
	},
	module + "/plugins/ssh": {
		module + "/config", module + "/core", module + "/cmd", module + "/plugins/local", module + "/internal/pluginhost",
		module + "/sdk/client", "github.com/hashicorp/hcl",
	},
}

func TestImportsFlowOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "-json=ImportPath,Deps,Module", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		for pkg, bans := range forbidden {
			if p.ImportPath != pkg && !strings.HasPrefix(p.ImportPath, pkg+"/") {
				continue
			}
			checked++
			for _, dep := range p.Deps {
				for _, ban := range bans {
					if dep == ban || strings.HasPrefix(dep, ban+"/") {
						t.Errorf("%s imports %s: data flows config -> core -> sdk -> plugin, never back", p.ImportPath, dep)
					}
				}
			}
		}
	}
	if checked < len(forbidden) {
		t.Errorf("checked %d packages, want at least %d: did a package move?", checked, len(forbidden))
	}
}

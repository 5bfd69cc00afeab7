package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
)

func TestPlugins(t *testing.T) {
	infos := []*Plugin{
		{Name: "local", Builtin: true, Path: "/usr/bin/fanout", ProtocolVersion: 1, Version: "0.1.0",
			TransportSchema: []PluginAttribute{}, HostSchema: []PluginAttribute{{Name: "shell", Type: "string", Description: "the shell"}}},
		{Name: "echo", Path: "/p/fanout-transport-echo", Lock: "not recorded", Error: "checksum mismatch"},
	}
	var h bytes.Buffer
	NewPlugins(arguments.ViewHuman, &h, Options{}).List("deploy.hcl", infos)
	want := `Transports used by deploy.hcl:

local (built in), version 0.1.0, protocol 1
  path:     /usr/bin/fanout internal-plugin local
  transport block: no attributes
  host block:
    shell  string, optional
           the shell

echo (plugin)
  path:     /p/fanout-transport-echo
  lock:     not recorded
  error:    checksum mismatch
`
	if h.String() != want {
		t.Errorf("human:\n%s\nwant:\n%s", h.String(), want)
	}

	var j bytes.Buffer
	NewPlugins(arguments.ViewJSON, &j, Options{}).List("", nil)
	var doc struct {
		FormatVersion string            `json:"format_version"`
		Plugins       []json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil || doc.FormatVersion != PluginsJSONVersion || doc.Plugins == nil || !strings.Contains(j.String(), `"plugins": []`) {
		t.Errorf("json: %v\n%s", err, j.String())
	}
}

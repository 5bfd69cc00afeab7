package ssh

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestForwardAgentSetting: forward_agent gives commands the agent, or
// keeps it from them, whatever ssh_config's ForwardAgent says; unset,
// ssh_config decides. ssh-add's exit status says whether a command has
// an agent: 0 when it lists a key, 2 when there is none to ask.
func TestForwardAgentSetting(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	dir := t.TempDir()
	tests := []struct {
		setting   cty.Value // cty.NilVal: unset
		sshConfig string
		want      int
	}{
		{cty.NilVal, "", 2},
		{cty.NilVal, "ForwardAgent yes\n", 0},
		{cty.True, "ForwardAgent no\n", 0},
		{cty.False, "ForwardAgent yes\n", 2},
	}
	for i, tt := range tests {
		conf := filepath.Join(dir, "config"+string(rune('a'+i)))
		if err := os.WriteFile(conf, []byte(tt.sshConfig), 0o644); err != nil {
			t.Fatal(err)
		}
		settings := map[string]cty.Value{"ssh_config": cty.StringVal(conf)}
		if tt.setting != cty.NilVal {
			settings["forward_agent"] = tt.setting
		}
		s, h := newConnected(t, f, setupOpts{settings: settings})
		r := s.exec(t.Context(), h.Name, "ssh-add -l", nil)
		if r.err != nil || r.resp.ExitCode != tt.want {
			t.Errorf("forward_agent %#v, ssh_config %q: ssh-add -l: %+v %v %q %q, want exit %d", tt.setting, tt.sshConfig, r.resp, r.err, r.stdout, r.stderr, tt.want)
		}
	}
}

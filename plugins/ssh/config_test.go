package ssh

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// execRequest shortens test signatures.
type execRequest = sdk.ExecRequest

func TestConfigure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		attrs    map[string]cty.Value
		wantAttr string   // "" for no diagnostic
		want     []string // substrings of summary + detail
	}{
		{name: "empty"},
		{name: "all set", attrs: map[string]cty.Value{
			"user": cty.StringVal("deploy"), "port": cty.NumberIntVal(2222),
			"known_hosts":       cty.ListVal([]cty.Value{cty.StringVal("/tmp/kh")}),
			"host_key_checking": cty.StringVal("accept-new"), "max_sessions": cty.NumberIntVal(4),
			"max_connects": cty.NumberIntVal(8), "connect_timeout": cty.StringVal("3s"),
			"keepalive_interval": cty.StringVal("1m"), "agent_socket": cty.StringVal("/tmp/agent"),
			"proxy_jump": cty.StringVal("jump@bastion:2222,ssh://other"), "forward_agent": cty.True,
			"keepalive_count_max": cty.NumberIntVal(5), "raw": cty.True,
		}},
		{name: "known_hosts one string", attrs: map[string]cty.Value{"known_hosts": cty.StringVal("/tmp/kh")}},
		{name: "known_hosts a tuple", attrs: map[string]cty.Value{"known_hosts": cty.TupleVal([]cty.Value{cty.StringVal("/tmp/kh"), cty.StringVal("/tmp/kh2")})}},
		{name: "known_hosts a number", attrs: map[string]cty.Value{"known_hosts": cty.NumberIntVal(3)},
			wantAttr: "known_hosts", want: []string{"a path or a list of paths"}},
		{name: "known_hosts a list of numbers", attrs: map[string]cty.Value{"known_hosts": cty.TupleVal([]cty.Value{cty.NumberIntVal(3)})},
			wantAttr: "known_hosts", want: []string{"a path or a list of paths"}},
		{name: "no off", attrs: map[string]cty.Value{"host_key_checking": cty.StringVal("off")},
			wantAttr: "host_key_checking", want: []string{"cannot be turned off", `"strict"`, `"accept-new"`}},
		{name: "unknown policy", attrs: map[string]cty.Value{"host_key_checking": cty.StringVal("yes")},
			wantAttr: "host_key_checking", want: []string{`"strict"`, `"accept-new"`}},
		{name: "port range", attrs: map[string]cty.Value{"port": cty.NumberIntVal(70000)},
			wantAttr: "port", want: []string{"between 1 and 65535"}},
		{name: "fractional port", attrs: map[string]cty.Value{"port": cty.NumberFloatVal(22.5)},
			wantAttr: "port", want: []string{"whole number"}},
		{name: "max_sessions", attrs: map[string]cty.Value{"max_sessions": cty.NumberIntVal(0)},
			wantAttr: "max_sessions", want: []string{"at least 1"}},
		{name: "max_connects", attrs: map[string]cty.Value{"max_connects": cty.NumberIntVal(-1)},
			wantAttr: "max_connects", want: []string{"at least 1"}},
		{name: "connect_timeout", attrs: map[string]cty.Value{"connect_timeout": cty.StringVal("ten")},
			wantAttr: "connect_timeout", want: []string{"positive duration"}},
		{name: "keepalive_interval", attrs: map[string]cty.Value{"keepalive_interval": cty.StringVal("-1s")},
			wantAttr: "keepalive_interval", want: []string{"positive duration"}},
		{name: "keepalive_count_max", attrs: map[string]cty.Value{"keepalive_count_max": cty.NumberIntVal(0)},
			wantAttr: "keepalive_count_max", want: []string{"at least 1"}},
		{name: "identity_file", attrs: map[string]cty.Value{"identity_file": cty.StringVal("/nonexistent/key")},
			wantAttr: "identity_file", want: []string{"/nonexistent/key"}},
		{name: "ssh_config", attrs: map[string]cty.Value{"ssh_config": cty.StringVal("/nonexistent/config")},
			wantAttr: "ssh_config", want: []string{"/nonexistent/config"}},
		{name: "proxy_jump", attrs: map[string]cty.Value{"proxy_jump": cty.StringVal("a,,b")},
			wantAttr: "proxy_jump", want: []string{"empty jump host"}},
	}
	impl := New(nil)
	impl.env = environment{getenv: func(string) string { return "" }, home: t.TempDir(), user: "u"}
	tr := sdktest.NewHarness(t, impl).Transport()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tr.Configure(context.Background(), &sdk.ConfigureRequest{Config: object(t, transportSchema(), tt.attrs)})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantAttr == "" {
				if len(resp.Diagnostics) != 0 {
					t.Fatalf("diagnostics: %v", resp.Diagnostics.Err())
				}
				return
			}
			if len(resp.Diagnostics) != 1 {
				t.Fatalf("diagnostics %+v, want one", resp.Diagnostics)
			}
			d := resp.Diagnostics[0]
			if d.Severity != sdk.Error || d.Attribute.String() != tt.wantAttr {
				t.Errorf("diagnostic %+v, want an error on %s", d, tt.wantAttr)
			}
			for _, w := range tt.want {
				if !strings.Contains(d.Summary+" "+d.Detail, w) {
					t.Errorf("diagnostic %q / %q does not contain %q", d.Summary, d.Detail, w)
				}
			}
		})
	}
}

// TestKnownHostsStringOrList reads known_hosts written as one path or as a
// list (issue 11: one string was a type error).
func TestKnownHostsStringOrList(t *testing.T) {
	for _, v := range []cty.Value{
		cty.StringVal("/a"),
		cty.ListVal([]cty.Value{cty.StringVal("/a"), cty.StringVal("/b")}),
		cty.TupleVal([]cty.Value{cty.StringVal("/a")}),
	} {
		cfg, diags := decodeConfig(cty.ObjectVal(map[string]cty.Value{"known_hosts": v}))
		if diags.HasErrors() {
			t.Fatalf("%#v: %v", v, diags.Err())
		}
		if len(cfg.KnownHosts) == 0 || cfg.KnownHosts[0] != "/a" {
			t.Errorf("%#v: known_hosts %q", v, cfg.KnownHosts)
		}
	}
}

func TestDecodeConfigValues(t *testing.T) {
	cfg, diags := decodeConfig(cty.ObjectVal(map[string]cty.Value{
		"max_sessions":    cty.NumberIntVal(3),
		"connect_timeout": cty.StringVal("2s"),
		"user":            cty.NullVal(cty.String),
	}))
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	if cfg.MaxSessions != 3 || cfg.ConnectTimeout != 2*time.Second || cfg.User != "" ||
		cfg.MaxConnects != DefaultMaxConnects || cfg.HostKeyChecking != Strict || cfg.KeepaliveInterval != DefaultKeepaliveInterval {
		t.Errorf("config %+v", cfg)
	}
	if cfg, diags := decodeConfig(cty.NilVal); diags.HasErrors() || cfg.MaxSessions != DefaultMaxSessions {
		t.Errorf("nil value: %+v %v", cfg, diags.Err())
	}
}

func TestDescribe(t *testing.T) {
	resp, err := New(nil).Describe(context.Background(), &sdk.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Name != "ssh" || !resp.Capabilities.Signal {
		t.Errorf("%+v", resp)
	}
	names := map[string]bool{}
	for _, a := range resp.TransportSchema.Attributes {
		names[a.Name] = true
	}
	for _, want := range []string{"user", "port", "identity_file", "known_hosts", "host_key_checking", "max_sessions",
		"max_connects", "connect_timeout", "keepalive_interval", "keepalive_count_max", "ssh_config", "agent_socket", "forward_agent", "raw"} {
		if !names[want] {
			t.Errorf("transport schema lacks %s", want)
		}
	}
}

func TestParseJumpList(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{in: "", want: ""},
		{in: "none", want: ""},
		{in: "bastion", want: "bastion"},
		{in: "u@b:2222, ssh://v@c", want: "u@b:2222,v@c"},
		{in: "[::1]:22", want: "[::1]:22"},
		{in: "b:0", err: true},
		{in: "@b", err: true},
		{in: "a,,b", err: true},
	}
	for _, tt := range tests {
		js, err := parseJumpList(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: error %v", tt.in, err)
			continue
		}
		var got []string
		for _, j := range js {
			got = append(got, j.String())
		}
		if g := strings.Join(got, ","); !tt.err && g != tt.want {
			t.Errorf("%q: %q, want %q", tt.in, g, tt.want)
		}
	}
}

func TestRemoteCommand(t *testing.T) {
	// The command line is the same for every command: nothing of it, nor
	// of its environment, is where ps shows it.
	if !strings.HasPrefix(remoteCommand, `exec /bin/sh -c 'eval "$1"' sh '`) || strings.Count(remoteCommand, "' '") != 0 {
		t.Errorf("remoteCommand = %s", remoteCommand)
	}
	got := string(input(script(&sdk.ExecRequest{Command: "echo hi\n.", Env: map[string]string{"B": "it's", "A": "x y"}}, "N")))
	want := "fanout\n|printf '\\037fanout:N:w\\n'\n|export A='x y'\n|export B='it'\\''s'\n|unset f\n|eval 'echo hi\n|.'\n.\n"
	if got != want {
		t.Errorf("input = %q, want %q", got, want)
	}
	for name, ok := range map[string]bool{"A": true, "_a1": true, "FANOUT_HOST": true, "1A": false, "A-B": false, "": false, "A B": false} {
		if validEnvName(name) != ok {
			t.Errorf("validEnvName(%q) = %v", name, !ok)
		}
	}
}

// TestUnreadSSHConfigWarned: ssh_config keywords ssh obeys and fanout
// does not read, where they change how a host is reached, are warned of
// once each at Configure, naming the line, an Include's too; set to what
// changes nothing, or keywords that change nothing (SendEnv, as Debian's
// own ssh_config sets), they are not.
func TestUnreadSSHConfigWarned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	if err := os.WriteFile(inc, []byte("Host *.corp\n  BindAddress 10.0.0.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("SendEnv LANG LC_*\nCanonicalizeHostname yes\nHost a\n  CanonicalizeHostname always\n  AddressFamily any\n  RemoteCommand none\nInclude "+inc+"\nHost b\n  SetEnv TZ=UTC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	impl := New(nil)
	impl.env = environment{getenv: func(string) string { return "" }, home: dir, user: "u"}
	tr := sdktest.NewHarness(t, impl).Transport()
	resp, err := tr.Configure(context.Background(), &sdk.ConfigureRequest{Config: object(t, transportSchema(), map[string]cty.Value{"ssh_config": cty.StringVal(config)})})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range resp.Diagnostics {
		if d.Severity != sdk.Warning {
			t.Errorf("%+v is not a warning", d)
		}
		got = append(got, d.Detail[:strings.Index(d.Detail, ")")+1])
	}
	want := []string{"CanonicalizeHostname (" + config + ":2)", "BindAddress (" + inc + ":2)", "SetEnv (" + config + ":9)"}
	if !slices.Equal(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
}

// TestValidateHost: a host block's bad port or proxy_jump is a diagnostic
// on its attribute at plan and validate time, as a transport block's is;
// it was found only by the run's connect.
func TestValidateHost(t *testing.T) {
	tr := New(testLogger())
	for _, tt := range []struct {
		attrs    map[string]cty.Value
		wantAttr string
		want     string
	}{
		{map[string]cty.Value{"port": cty.NumberIntVal(70000)}, "port", "between 1 and 65535, not 70000"},
		{map[string]cty.Value{"port": cty.NumberIntVal(0)}, "port", "between 1 and 65535, not 0"},
		{map[string]cty.Value{"proxy_jump": cty.StringVal("bastion:notaport")}, "proxy_jump", "[user@]host[:port]"},
		{map[string]cty.Value{"port": cty.NumberIntVal(2222)}, "", ""},
	} {
		resp, err := tr.ValidateHost(context.Background(), &sdk.ValidateHostRequest{Host: sdk.Host{Name: "h", Config: object(t, hostSchema(), tt.attrs)}})
		if err != nil {
			t.Fatal(err)
		}
		d := resp.Diagnostics
		switch {
		case tt.want == "" && len(d) != 0:
			t.Errorf("%v: %v, want no diagnostic", tt.attrs, d)
		case tt.want != "" && (len(d) != 1 || d[0].Attribute.String() != tt.wantAttr || !strings.Contains(d[0].Detail, tt.want)):
			t.Errorf("%v: %v, want one on %s saying %q", tt.attrs, d, tt.wantAttr, tt.want)
		}
	}
}

//go:build unix

package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// config is the transport block's value as the core sends it: every
// attribute of the schema, null when not set.
func config(greeting string, prefix []string) cty.Value {
	p := cty.NullVal(cty.List(cty.String))
	if len(prefix) > 0 {
		var vs []cty.Value
		for _, s := range prefix {
			vs = append(vs, cty.StringVal(s))
		}
		p = cty.ListVal(vs)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"greeting": cty.StringVal(greeting),
		"prefix":   p,
		"token":    cty.NullVal(cty.String),
	})
}

func configure(t *testing.T, tr sdk.Transport, cfg cty.Value) {
	t.Helper()
	resp, err := tr.Configure(context.Background(), &sdk.ConfigureRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Diagnostics.Err(); err != nil {
		t.Fatal(err)
	}
}

var host = sdk.Host{Name: "box", Config: cty.ObjectVal(map[string]cty.Value{"dir": cty.NullVal(cty.String)})}

// TestConformance checks the transport against the sdk.Transport contract
// three ways: called directly, over real gRPC in this process, and as the
// plugin binary fanout would start.
func TestConformance(t *testing.T) {
	t.Run("in process", func(t *testing.T) {
		tr := New(hclog.NewNullLogger())
		configure(t, tr, config("hi", nil))
		sdktest.Conformance(t, tr, host)
	})
	t.Run("over gRPC", func(t *testing.T) {
		tr := sdktest.NewHarness(t, New(hclog.NewNullLogger())).Transport()
		configure(t, tr, config("hi", []string{"env"}))
		sdktest.Conformance(t, tr, host)
	})
	t.Run("plugin binary", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "fanout-transport-echo")
		build := exec.Command("go", "build", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		client, err := sdk.NewClient(sdk.ClientConfig{Cmd: exec.Command(bin)})
		if err != nil {
			t.Fatal(err)
		}
		defer client.Kill()
		tr := client.Transport()
		configure(t, tr, config("hi", nil))
		sdktest.Conformance(t, tr, host)
	})
}

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	tr := sdktest.NewHarness(t, New(hclog.NewNullLogger())).Transport()
	ctx := context.Background()
	token := cty.StringVal("s3cret")
	cfg := config("hello", []string{"env", "ECHO_PREFIXED=yes"})
	cfg = cty.ObjectVal(map[string]cty.Value{"greeting": cfg.GetAttr("greeting"), "prefix": cfg.GetAttr("prefix"), "token": token})
	configure(t, tr, cfg)
	h := sdk.Host{Name: "box", Config: cty.ObjectVal(map[string]cty.Value{"dir": cty.StringVal(dir)})}
	if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: h}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: "1", Host: "box", Command: `echo "$ECHO_GREETING $ECHO_PREFIXED $ECHO_TOKEN $(pwd)"`},
		sdk.ExecOutput{Stdout: &out})
	if err != nil || resp.ExitCode != 0 {
		t.Fatalf("Exec = %+v, %v", resp, err)
	}
	real, _ := filepath.EvalSymlinks(dir)
	if got, want := strings.TrimSpace(out.String()), "hello yes s3cret "+real; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestConfigureAndConnectErrors(t *testing.T) {
	tr := New(hclog.NewNullLogger())
	ctx := context.Background()
	resp, err := tr.Configure(ctx, &sdk.ConfigureRequest{Config: config("hi", []string{"no-such-program-here"})})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Attribute.String() != "prefix" {
		t.Errorf("diagnostics = %+v, want one on prefix", resp.Diagnostics)
	}
	bad := sdk.Host{Name: "box", Config: cty.ObjectVal(map[string]cty.Value{"dir": cty.StringVal("/no/such/dir")})}
	if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: bad}); err == nil || !strings.Contains(err.Error(), "/no/such/dir") {
		t.Errorf("Connect to a missing dir: %v", err)
	}
	if _, err := tr.Exec(ctx, &sdk.ExecRequest{ID: "1", Host: "nope", Command: "true"}, sdk.ExecOutput{}); err == nil {
		t.Error("Exec on a host never connected succeeded")
	}
}

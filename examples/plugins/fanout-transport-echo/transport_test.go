//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
	"github.com/fanout/fanout/sdk/sdktest"
)

// hostConfig is the host block's value as fanout sends it: dir null
// unless set.
func hostConfig(t *testing.T, tr sdk.Transport, dir string) sdk.Host {
	t.Helper()
	desc, err := tr.Describe(context.Background(), &sdk.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]cty.Value{}
	if dir != "" {
		values["dir"] = cty.StringVal(dir)
	}
	return sdk.Host{Name: "box", Config: sdktest.Object(t, desc.HostSchema, values)}
}

// TestConformance checks the transport against the sdk.Transport contract
// three ways: called directly, over real gRPC in this process, and as the
// plugin binary fanout would start.
func TestConformance(t *testing.T) {
	t.Run("in process", func(t *testing.T) {
		tr := New(hclog.NewNullLogger())
		sdktest.Configure(t, tr, map[string]cty.Value{"greeting": cty.StringVal("hi")})
		sdktest.Conformance(t, tr, hostConfig(t, tr, ""))
	})
	t.Run("over gRPC", func(t *testing.T) {
		tr := sdktest.NewHarness(t, New(hclog.NewNullLogger())).Transport()
		sdktest.Configure(t, tr, map[string]cty.Value{"greeting": cty.StringVal("hi"), "prefix": cty.TupleVal([]cty.Value{cty.StringVal("env")})})
		sdktest.Conformance(t, tr, hostConfig(t, tr, ""))
	})
	t.Run("plugin binary", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "fanout-transport-echo")
		build := exec.Command("go", "build", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		c, err := client.New(client.Config{Cmd: exec.Command(bin)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Kill()
		tr := c.Transport()
		sdktest.Configure(t, tr, map[string]cty.Value{"greeting": cty.StringVal("hi")})
		sdktest.Conformance(t, tr, hostConfig(t, tr, ""))
	})
}

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	tr := sdktest.NewHarness(t, New(hclog.NewNullLogger())).Transport()
	ctx := context.Background()
	sdktest.Configure(t, tr, map[string]cty.Value{
		"greeting": cty.StringVal("hello"),
		"prefix":   cty.TupleVal([]cty.Value{cty.StringVal("env"), cty.StringVal("ECHO_PREFIXED=yes")}),
		"token":    cty.StringVal("s3cret"),
	})
	if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: hostConfig(t, tr, dir)}); err != nil {
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
	desc, err := tr.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := sdktest.Object(t, desc.TransportSchema, map[string]cty.Value{
		"greeting": cty.StringVal("hi"),
		"prefix":   cty.TupleVal([]cty.Value{cty.StringVal("no-such-program-here")}),
	})
	resp, err := tr.Configure(ctx, &sdk.ConfigureRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Attribute.String() != "prefix" {
		t.Errorf("diagnostics = %+v, want one on prefix", resp.Diagnostics)
	}
	if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: hostConfig(t, tr, "/no/such/dir")}); err == nil || !strings.Contains(err.Error(), "/no/such/dir") {
		t.Errorf("Connect to a missing dir: %v", err)
	}
	if _, err := tr.Exec(ctx, &sdk.ExecRequest{ID: "1", Host: "nope", Command: "true"}, sdk.ExecOutput{}); err == nil {
		t.Error("Exec on a host never connected succeeded")
	}
}

// TestBackgroundChildKept: what a command leaves running when it exits by
// itself (`nohup server &`) keeps running, as under fanout's local and
// ssh transports; the example killed it, and authors copy the example.
func TestBackgroundChildKept(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the child's state in /proc")
	}
	tr := New(hclog.NewNullLogger())
	sdktest.Configure(t, tr, map[string]cty.Value{"greeting": cty.StringVal("hi")})
	host := hostConfig(t, tr, "")
	if _, err := tr.Connect(context.Background(), &sdk.ConnectRequest{Host: host}); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	resp, err := tr.Exec(context.Background(), &sdk.ExecRequest{ID: "bg", Host: "box", Command: "sleep 60 >/dev/null 2>&1 & echo $!"},
		sdk.ExecOutput{Stdout: &stdout})
	if err != nil || resp.ExitCode != 0 {
		t.Fatalf("Exec: %+v, %v", resp, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(stdout.String(), "hi ")))
	if err != nil {
		t.Fatalf("stdout %q, want the child's pid", stdout.String())
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGKILL) }()
	// A kill lands a moment after it is sent, and the killed child lingers
	// as a zombie, which kill(pid, 0) still finds: its state says.
	for range 10 {
		time.Sleep(50 * time.Millisecond)
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if _, after, _ := strings.Cut(string(stat), ") "); err != nil || strings.HasPrefix(after, "Z") {
			t.Fatalf("the command's background child %d is gone (%v, %q): the transport killed it though the command exited by itself", pid, err, stat)
		}
	}
}

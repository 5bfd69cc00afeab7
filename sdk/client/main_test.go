package client_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// pluginModeEnv makes the test binary, re-executed by a test, act as a
// plugin process of the given behaviour instead of running tests (go-plugin's
// helperProcess pattern): the client side is then tested against a real
// process, handshake and crash included.
const pluginModeEnv = "FANOUT_SDK_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if mode := os.Getenv(pluginModeEnv); mode != "" {
		servePluginMode(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// servePluginMode behaves as the plugin a test asked for.
func servePluginMode(mode string) {
	serve := func() {
		sdk.Serve(func(hclog.Logger) sdk.Transport { return &echoTransport{} }, &sdk.ServeOpts{Name: "test"})
	}
	switch mode {
	case "serve":
		serve()
	case "v2":
		// A plugin built with an sdk that speaks only a later protocol.
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  wire.Handshake,
			VersionedPlugins: map[int]plugin.PluginSet{2: {wire.PluginName: &wire.Plugin{Register: wire.Server(&echoTransport{})}}},
			GRPCServer:       plugin.DefaultGRPCServer,
		})
	case "nomtls":
		// A plugin that ignores the client's certificate, as one built
		// with a go-plugin before AutoMTLS, or another language's that
		// does not implement it, would: it serves plaintext gRPC.
		_ = os.Unsetenv("PLUGIN_CLIENT_CERT") // a valid name: it cannot fail
		serve()
	case "garbage":
		fmt.Println("hello from a plugin that prints")
		serve()
	case "exit":
		fmt.Fprintln(os.Stderr, "boom: cannot read my settings")
		os.Exit(3)
	case "exitchild":
		// A plugin that dies before its handshake, leaving a child that
		// holds its stdout and stderr, as a shell script's `sleep &` does.
		leaveChild()
		fmt.Fprintln(os.Stderr, "boom: cannot read my settings")
		os.Exit(3)
	case "servechild":
		leaveChild()
		serve()
	case "hang":
		time.Sleep(time.Hour)
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", pluginModeEnv, mode)
		os.Exit(2)
	}
}

// leaveChild starts a child that keeps the process's stdout and stderr
// open for 30 seconds after the process has gone.
func leaveChild() {
	child := exec.Command("sleep", "30")
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if err := child.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start sleep:", err)
		os.Exit(2)
	}
}

// echoTransport writes each command to stdout and succeeds; the command
// "panic" crashes the plugin process.
type echoTransport struct{}

func (*echoTransport) Describe(context.Context, *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{Name: "echo", Version: "1.2.3"}, nil
}

func (*echoTransport) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}

func (*echoTransport) Connect(context.Context, *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	return &sdk.ConnectResponse{}, nil
}

func (*echoTransport) Exec(_ context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if req.Command == "panic" {
		panic("echo: asked to panic")
	}
	if _, err := fmt.Fprintln(out.Stdout, req.Command); err != nil {
		return nil, err
	}
	return &sdk.ExecResponse{}, nil
}

func (*echoTransport) Signal(context.Context, *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	return &sdk.SignalResponse{}, nil
}

// Close leaves a mark in the file closedFileEnv names, if set, for tests
// to see that it ran.
func (*echoTransport) Close(context.Context, *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	if f := os.Getenv(closedFileEnv); f != "" {
		if err := os.WriteFile(f, []byte("closed"), 0o644); err != nil {
			return nil, err
		}
	}
	return &sdk.CloseResponse{}, nil
}

// closedFileEnv names the file echoTransport.Close writes.
const closedFileEnv = "FANOUT_SDK_TEST_CLOSED_FILE"

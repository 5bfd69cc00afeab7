package sdk_test

import (
	"context"
	"fmt"
	"os"

	"github.com/fanout/fanout/sdk"
)

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
	fmt.Fprintln(out.Stdout, req.Command)
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

package sdk_test

import (
	"context"
	"fmt"

	"github.com/fanout/fanout/sdk"
)

// echoTransport writes each command to stdout and succeeds: the smallest
// Transport, for examples.
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
	if _, err := fmt.Fprintln(out.Stdout, req.Command); err != nil {
		return nil, err
	}
	return &sdk.ExecResponse{}, nil
}

func (*echoTransport) Signal(context.Context, *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	return &sdk.SignalResponse{}, nil
}

func (*echoTransport) Close(context.Context, *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	return &sdk.CloseResponse{}, nil
}

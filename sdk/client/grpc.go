package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fanout/fanout/sdk"
	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// exitNoticeWait is how long a call whose connection broke waits to learn
// whether the plugin process died. The socket closes a moment before
// go-plugin reaps the process, and "the plugin exited" is the error an
// operator can act on, where "connection lost" is not.
const exitNoticeWait = 2 * time.Second

// grpcClient is the Transport that calls a plugin over gRPC, on the host
// side. It is safe for concurrent use, like the gRPC connection under it.
type grpcClient struct {
	// done is cancelled when the plugin process exits.
	done   context.Context
	client pb.TransportClient
	// exited is the error of a call once done is cancelled.
	exited func() error
	// uploadLocal is set once Describe said the plugin reads an upload's
	// local file itself (files.go).
	uploadLocal atomic.Bool
	// hostConfigs encodes the hosts' settings sent with Connect and
	// ValidateHost.
	hostConfigs hostConfigs
}

var (
	_ sdk.Transport     = (*grpcClient)(nil)
	_ sdk.HostValidator = (*grpcClient)(nil)
	_ sdk.Releaser      = (*grpcClient)(nil)
)

// NewTransport returns an sdk.Transport whose calls go over conn, a gRPC
// connection to a server of the transport protocol (a plugin process's,
// or one a test serves). done, when cancelled, means the server is gone
// for good: calls in progress then fail at once with ErrPluginExited. The
// Transport is safe for concurrent use. New uses it; most callers want
// New.
func NewTransport(done context.Context, conn *grpc.ClientConn) sdk.Transport {
	return newGRPCClient(done, conn)
}

func newGRPCClient(done context.Context, conn *grpc.ClientConn) *grpcClient {
	return &grpcClient{
		done:   done,
		client: pb.NewTransportClient(conn),
		exited: func() error { return ErrPluginExited },
	}
}

// callContext derives the context of one call from the caller's: it is
// also cancelled when the plugin process exits, so that no call waits on a
// dead process. The returned function releases it.
func (c *grpcClient) callContext(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.done, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// callError explains why a call failed. ctx is the caller's context, not
// the one callContext derived from it.
func (c *grpcClient) callError(ctx context.Context, err error) error {
	code := status.Code(err)
	if ctx.Err() != nil && (code == codes.Canceled || code == codes.DeadlineExceeded) {
		return ctx.Err()
	}
	if c.done.Err() != nil {
		return c.exited()
	}
	if code == codes.Unavailable {
		t := time.NewTimer(exitNoticeWait)
		defer t.Stop()
		select {
		case <-c.done.Done():
			return c.exited()
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		return fmt.Errorf("%w: %s", ErrPluginUnavailable, status.Convert(err).Message())
	}
	return errorFromStatus(err)
}

func (c *grpcClient) Describe(ctx context.Context, _ *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	cctx, release := c.callContext(ctx)
	defer release()
	resp, err := c.client.Describe(cctx, &pb.Describe_Request{})
	if err != nil {
		return nil, c.callError(ctx, err)
	}
	out, err := describeResponseFromProto(resp)
	if err != nil {
		return nil, fmt.Errorf("decode describe response: %w", err)
	}
	c.uploadLocal.Store(resp.GetCapabilities().GetUploadLocalPath())
	return out, nil
}

func (c *grpcClient) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	r, err := configureRequestToProto(req)
	if err != nil {
		return nil, fmt.Errorf("encode configure request: %w", err)
	}
	cctx, release := c.callContext(ctx)
	defer release()
	resp, err := c.client.Configure(cctx, r)
	if err != nil {
		return nil, c.callError(ctx, err)
	}
	return configureResponseFromProto(resp), nil
}

func (c *grpcClient) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	r, err := connectRequestToProto(req, &c.hostConfigs)
	if err != nil {
		return nil, fmt.Errorf("encode connect request: %w", err)
	}
	cctx, release := c.callContext(ctx)
	defer release()
	resp, err := c.client.Connect(cctx, r)
	if err != nil {
		return nil, c.callError(ctx, err)
	}
	return connectResponseFromProto(resp), nil
}

// ValidateHost calls the plugin's ValidateHost. Call it only when Describe
// declared Capabilities.ValidateHost: a plugin of protocol 1.1 does not
// serve it.
func (c *grpcClient) ValidateHost(ctx context.Context, req *sdk.ValidateHostRequest) (*sdk.ValidateHostResponse, error) {
	r, err := validateHostRequestToProto(req, &c.hostConfigs)
	if err != nil {
		return nil, fmt.Errorf("encode validate host request: %w", err)
	}
	cctx, release := c.callContext(ctx)
	defer release()
	resp, err := c.client.ValidateHost(cctx, r)
	if err != nil {
		return nil, c.callError(ctx, err)
	}
	return &sdk.ValidateHostResponse{Diagnostics: diagnosticsFromProto(resp.GetDiagnostics())}, nil
}

// Release calls the plugin's Release. Call it only when Describe declared
// Capabilities.Release: a plugin of protocol 1.2 or older does not serve
// it.
func (c *grpcClient) Release(ctx context.Context, req *sdk.ReleaseRequest) (*sdk.ReleaseResponse, error) {
	cctx, release := c.callContext(ctx)
	defer release()
	if _, err := c.client.Release(cctx, &pb.Release_Request{Hosts: req.Hosts}); err != nil {
		return nil, c.callError(ctx, err)
	}
	return &sdk.ReleaseResponse{}, nil
}

// Exec writes each output event to out as it arrives and returns the exit
// event. Returning early, on ctx or on a failed write, cancels the stream,
// which cancels the Exec inside the plugin and so stops the command.
func (c *grpcClient) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	out = out.OrDiscard()
	cctx, release := c.callContext(ctx)
	defer release()
	stream, err := c.client.Exec(cctx, execRequestToProto(req), execCodecOption)
	if err != nil {
		return nil, c.callError(ctx, err)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, ErrExecIncomplete
		}
		if err != nil {
			return nil, c.callError(ctx, err)
		}
		switch e := ev.GetEvent().(type) {
		case *pb.Exec_Event_Stdout:
			_, err := out.Stdout.Write(e.Stdout)
			releaseOutput(e.Stdout)
			if err != nil {
				return nil, fmt.Errorf("write stdout: %w", err)
			}
		case *pb.Exec_Event_Stderr:
			_, err := out.Stderr.Write(e.Stderr)
			releaseOutput(e.Stderr)
			if err != nil {
				return nil, fmt.Errorf("write stderr: %w", err)
			}
		case *pb.Exec_Event_Exit:
			return execResponseFromProto(e.Exit), nil
		default:
			// An event a later minor version added; this client does not
			// know it and may ignore it.
		}
	}
}

func (c *grpcClient) Signal(ctx context.Context, req *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	cctx, release := c.callContext(ctx)
	defer release()
	if _, err := c.client.Signal(cctx, signalRequestToProto(req)); err != nil {
		return nil, c.callError(ctx, err)
	}
	return &sdk.SignalResponse{}, nil
}

func (c *grpcClient) Close(ctx context.Context, _ *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	cctx, release := c.callContext(ctx)
	defer release()
	if _, err := c.client.Close(cctx, &pb.Close_Request{}); err != nil {
		return nil, c.callError(ctx, err)
	}
	return &sdk.CloseResponse{}, nil
}

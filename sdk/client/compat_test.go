package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
	pb "github.com/fanout/fanout/sdk/internal/transportv1"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// oldPlugin serves the protocol as a 1.1 plugin did: its Capabilities have
// no exec, stdin, upload or download, and it has no Upload or Download.
type oldPlugin struct {
	pb.UnimplementedTransportServer
}

func (oldPlugin) Describe(context.Context, *pb.Describe_Request) (*pb.Describe_Response, error) {
	return &pb.Describe_Response{Name: "old", Version: "1.1.0", Capabilities: &pb.Capabilities{Signal: true}}, nil
}

func (oldPlugin) Exec(req *pb.Exec_Request, stream pb.Transport_ExecServer) error {
	if err := stream.Send(&pb.Exec_Event{Event: &pb.Exec_Event_Stdout{Stdout: []byte(req.GetCommand())}}); err != nil {
		return err
	}
	return stream.Send(&pb.Exec_Event{Event: &pb.Exec_Event_Exit{Exit: &pb.Exec_Exit{}}})
}

// dialRaw serves srv over a real gRPC connection and returns the host's
// Transport for it.
func dialRaw(t *testing.T, srv pb.TransportServer) sdk.Transport {
	t.Helper()
	glue := &wire.Plugin{
		Register: func(s *grpc.Server) { pb.RegisterTransportServer(s, srv) },
		Dial:     func(done context.Context, conn *grpc.ClientConn) any { return client.NewTransport(done, conn) },
	}
	rpc, _ := plugin.TestPluginGRPCConn(t, false, plugin.PluginSet{wire.PluginName: glue})
	t.Cleanup(func() { _ = rpc.Close() })
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(sdk.Transport)
}

// A 1.1 plugin keeps running commands, and is refused, saying why, for
// files.
func TestProtocol11Plugin(t *testing.T) {
	tr := dialRaw(t, oldPlugin{})
	ctx := context.Background()
	desc, err := tr.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (sdk.Capabilities{Signal: true, Exec: true}); desc.Capabilities != want {
		t.Errorf("capabilities of a 1.1 plugin = %+v, want %+v", desc.Capabilities, want)
	}
	var out bytes.Buffer
	resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: "1", Host: "h", Command: "uptime"}, sdk.ExecOutput{Stdout: &out})
	if err != nil || resp.ExitCode != 0 || out.String() != "uptime" {
		t.Errorf("Exec = %+v, %v, stdout %q", resp, err, out.String())
	}
	ft := tr.(sdk.FileTransport)
	_, err = ft.Upload(ctx, &sdk.UploadRequest{Host: "h", Path: "/f", Size: 3}, strings.NewReader("abc"))
	if !errors.Is(err, sdk.ErrNotSupported) || !strings.Contains(err.Error(), "1.1") {
		t.Errorf("Upload to a 1.1 plugin: error = %v, want sdk.ErrNotSupported naming protocol 1.1", err)
	}
	_, err = ft.Download(ctx, &sdk.DownloadRequest{Host: "h", Path: "/f"}, io.Discard)
	if !errors.Is(err, sdk.ErrNotSupported) {
		t.Errorf("Download from a 1.1 plugin: error = %v, want sdk.ErrNotSupported", err)
	}
}

package sdktest

import (
	"context"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// Harness serves a Transport over a real gRPC connection inside the test
// process: what a test calls on Transport() is encoded, sent, decoded and
// served as it would be between fanout and a plugin process, without
// starting one. The connection is the one fanout makes: a unix socket in
// a directory only the test's user can enter, authenticated both ways
// with mutual TLS and one-use certificates (go-plugin's AutoMTLS), so
// that the TLS layer's framing and cost are in every call a test makes.
type Harness struct {
	transport sdk.Transport
	// socket is the server's address, for tests of the harness itself.
	socket string
}

// NewHarness serves impl and returns the harness; the connection and the
// server are torn down when t's test ends. impl is not closed: a test that
// wants it closed calls Close through Transport().
func NewHarness(t testing.TB, impl sdk.Transport) *Harness {
	t.Helper()
	serverTLS, clientTLS, err := mutualTLS()
	if err != nil {
		t.Fatalf("make the harness's certificates: %v", err)
	}
	// Not t.TempDir: a unix socket's path must be short (108 bytes), and
	// test names are not.
	dir, err := os.MkdirTemp("", "fanout-sdktest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	socket := filepath.Join(dir, "plugin.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	// The windows of a plugin's channel (wire.StreamWindow), at both ends.
	srv := plugin.DefaultGRPCServer(append(wire.ServerOptions(), grpc.Creds(credentials.NewTLS(serverTLS))))
	wire.Server(impl)(srv)
	var served sync.WaitGroup
	served.Go(func() { _ = srv.Serve(ln) })

	conn, err := grpc.NewClient("unix://"+socket, append(wire.DialOptions(),
		grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)),
		// As go-plugin dials a plugin: no limit on a message's size.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)),
	)...)
	if err != nil {
		srv.Stop()
		served.Wait()
		t.Fatal(err)
	}
	// done tells the client that the server is gone for good, as go-plugin
	// tells it that a plugin process exited.
	done, gone := context.WithCancel(context.Background())
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		served.Wait()
		gone()
	})
	return &Harness{transport: client.NewTransport(done, conn), socket: socket}
}

// Transport returns the client side: an sdk.Transport whose every call
// crosses the gRPC connection to the served implementation.
func (h *Harness) Transport() sdk.Transport { return h.transport }

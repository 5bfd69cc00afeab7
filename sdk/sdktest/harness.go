package sdktest

import (
	"context"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// Harness serves a Transport over a real gRPC connection inside the test
// process (go-plugin's TestPluginGRPCConn): what a test calls on
// Transport() is encoded, sent, decoded and served as it would be between
// fanout and a plugin process, without starting one.
type Harness struct {
	transport sdk.Transport
}

// NewHarness serves impl and returns the harness; the connection and the
// server are torn down when t's test ends. impl is not closed: a test that
// wants it closed calls Close through Transport().
func NewHarness(t testing.TB, impl sdk.Transport) *Harness {
	t.Helper()
	glue := &wire.Plugin{
		Register: wire.Server(impl),
		Dial:     func(done context.Context, conn *grpc.ClientConn) any { return client.NewTransport(done, conn) },
	}
	rpc, _ := plugin.TestPluginGRPCConn(t, false, plugin.PluginSet{wire.PluginName: glue})
	// Closing the client shuts the server down through go-plugin's
	// controller service.
	t.Cleanup(func() { _ = rpc.Close() })
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		t.Fatalf("dispense transport: %v", err)
	}
	tr, ok := raw.(sdk.Transport)
	if !ok {
		t.Fatalf("dispensed %T, not an sdk.Transport", raw)
	}
	return &Harness{transport: tr}
}

// Transport returns the client side: an sdk.Transport whose every call
// crosses the gRPC connection to the served implementation.
func (h *Harness) Transport() sdk.Transport { return h.transport }

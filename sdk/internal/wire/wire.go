// Package wire holds what both ends of the transport protocol share and
// neither end's users need to see: the go-plugin handshake, the protocol
// version, the name the transport is served under, and the go-plugin glue
// that registers the gRPC service on one end and dials it on the other.
//
// Package sdk (the plugin end) and sdk/client (the host end) each fill in
// their half of Plugin; sdk/sdktest fills in both to serve a Transport in
// the test process.
package wire

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the transport protocol both ends
// speak. It changes only on an incompatible change; additions keep it.
const ProtocolVersion = 1

// Handshake is the go-plugin handshake fanout and its plugins share. The
// magic cookie is a UX guard, not a security measure: it makes a plugin
// binary run by hand say that it is a plugin instead of waiting for a
// connection. The protocol version actually used is negotiated from the
// keys of the versioned plugin sets; ProtocolVersion here is the fallback
// for hosts that offer none.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "FANOUT_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "6a1c3f0e0b8d4e56a9f2d27c1b4e8f03",
}

// PluginName is the name the transport is served and dispensed under in a
// go-plugin plugin set.
const PluginName = "transport"

// LogLevelEnv carries the host's log level to the plugin process, so that
// the plugin only sends the host what the host would show.
const LogLevelEnv = "FANOUT_PLUGIN_LOG_LEVEL"

// Plugin is the go-plugin glue of the transport service over gRPC. The
// plugin end sets Register, the host end Dial; a test serving both in one
// process sets both. It speaks gRPC only: net/rpc is refused.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin

	// Register registers the transport service with the plugin's gRPC
	// server; nil on the host end.
	Register func(*grpc.Server)
	// Dial returns the Transport that calls the service over conn; done
	// is cancelled when the plugin process exits. Nil on the plugin end.
	Dial func(done context.Context, conn *grpc.ClientConn) any
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the transport service. go-plugin calls it once.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Register == nil {
		return errors.New("no transport to serve")
	}
	p.Register(s)
	return nil
}

// GRPCClient returns the Transport that calls the plugin over conn.
func (p *Plugin) GRPCClient(done context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	if p.Dial == nil {
		return nil, errors.New("no transport client")
	}
	return p.Dial(done, conn), nil
}

// Versions returns the versioned plugin sets of p, for go-plugin's
// ServeConfig and ClientConfig: version 1 is the only one so far; a v2
// would be added beside it.
func Versions(p *Plugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {PluginName: p}}
}

// Server returns the registration of the transport service for impl,
// which must be an sdk.Transport. Package sdk, which owns the server end,
// sets it when it is initialised, so that sdk/sdktest can serve a
// Transport in the test process without package sdk exporting its server
// to plugin authors. (impl is untyped because this package cannot import
// sdk, which imports it.)
var Server func(impl any) func(*grpc.Server)

// StreamWindow and ConnWindow are the fixed gRPC flow-control windows of
// both ends, what one stream and all streams together may have in flight
// to the receiver: a few of the 32 KiB messages each, enough to keep a
// stream busy. Fixed, because gRPC's default grows a window with its
// estimate of the bandwidth, and data arriving faster than it is taken
// (an upload in the plugin, output in fanout) then piled up, tens of MB
// per stream.
const (
	StreamWindow = 1 << 20
	ConnWindow   = 4 << 20
)

// DialOptions are the host end's gRPC options of the channel to a plugin,
// and ServerOptions the plugin end's: the fixed windows, each end setting
// the window of what it receives.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithInitialWindowSize(StreamWindow), grpc.WithInitialConnWindowSize(ConnWindow)}
}

// ServerOptions: see DialOptions.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.InitialWindowSize(StreamWindow), grpc.InitialConnWindowSize(ConnWindow)}
}

package sdk

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// Handshake is the go-plugin handshake fanout and its plugins share. The
// magic cookie is a UX guard, not a security measure: it makes a plugin
// binary run by hand say that it is a plugin instead of waiting for a
// connection. The protocol version actually used is negotiated from the
// keys of VersionedPlugins; ProtocolVersion here is the fallback for hosts
// that offer none.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "FANOUT_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "6a1c3f0e0b8d4e56a9f2d27c1b4e8f03",
}

// PluginName is the name the transport is served and dispensed under in a
// go-plugin plugin set.
const PluginName = "transport"

// PluginSet is the go-plugin plugin set of one protocol version. impl is
// the Transport to serve; a host dispensing a client passes nil.
func PluginSet(impl Transport) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCTransportPlugin{Impl: impl}}
}

// VersionedPlugins maps each protocol version this package speaks to its
// plugin set, for plugin.ServeConfig and plugin.ClientConfig. Version 1 is
// the only one so far; a v2 would be added beside it.
func VersionedPlugins(impl Transport) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: PluginSet(impl)}
}

// GRPCTransportPlugin is the go-plugin glue for a Transport over gRPC. On the
// plugin side it serves Impl; on the host side it makes the Transport that
// Client.Transport returns. It speaks gRPC only: net/rpc is refused.
type GRPCTransportPlugin struct {
	plugin.NetRPCUnsupportedPlugin

	// Impl is the Transport to serve; nil on the host side.
	Impl Transport

	// exited returns the error of calls made once the plugin process has
	// exited; nil means a bare ErrPluginExited. Set by NewClient, which
	// knows the process.
	exited func() error
}

var _ plugin.GRPCPlugin = (*GRPCTransportPlugin)(nil)

// GRPCServer registers Impl with the plugin's gRPC server. go-plugin calls it
// once.
func (p *GRPCTransportPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("no transport to serve")
	}
	pb.RegisterTransportServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns the Transport that calls the plugin over conn. done is
// cancelled by go-plugin when the plugin process exits, which the client
// uses to fail calls in progress with ErrPluginExited rather than wait.
func (p *GRPCTransportPlugin) GRPCClient(done context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	c := newGRPCClient(done, conn)
	if p.exited != nil {
		c.exited = p.exited
	}
	return c, nil
}

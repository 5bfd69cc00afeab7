package wire

import (
	"fmt"
	"net"

	"github.com/hashicorp/go-plugin"
)

// ReattachEnv names the variable that tells fanout to attach to plugins
// already running (under a debugger) instead of starting them: a JSON
// object of ReattachConfig by transport name, as a plugin in debug mode
// prints it (Terraform's TF_REATTACH_PROVIDERS).
const ReattachEnv = "FANOUT_REATTACH_PLUGINS"

// DebugEnv, set to a true value ("1"), makes sdk.Serve serve in debug
// mode, as ServeOpts.Debug does.
const DebugEnv = "FANOUT_PLUGIN_DEBUG"

// ReattachConfig is how to reach a plugin process that serves in debug
// mode: the JSON form of go-plugin's ReattachConfig, with the address
// spelled out as its network and string.
type ReattachConfig struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            ReattachAddr
}

// ReattachAddr is a listener's address: Network is "unix" or "tcp".
type ReattachAddr struct {
	Network string
	String  string
}

// ReattachFromPlugin converts go-plugin's reattach configuration.
func ReattachFromPlugin(rc *plugin.ReattachConfig) ReattachConfig {
	return ReattachConfig{
		Protocol:        string(rc.Protocol),
		ProtocolVersion: rc.ProtocolVersion,
		Pid:             rc.Pid,
		Test:            rc.Test,
		Addr:            ReattachAddr{Network: rc.Addr.Network(), String: rc.Addr.String()},
	}
}

// Plugin converts the configuration into go-plugin's.
func (rc ReattachConfig) Plugin() (*plugin.ReattachConfig, error) {
	var addr net.Addr
	switch rc.Addr.Network {
	case "unix":
		addr = &net.UnixAddr{Name: rc.Addr.String, Net: "unix"}
	case "tcp":
		a, err := net.ResolveTCPAddr("tcp", rc.Addr.String)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", rc.Addr.String, err)
		}
		addr = a
	default:
		return nil, fmt.Errorf("address network %q: want unix or tcp", rc.Addr.Network)
	}
	if rc.Protocol != string(plugin.ProtocolGRPC) {
		return nil, fmt.Errorf("protocol %q: fanout's plugins speak grpc", rc.Protocol)
	}
	return &plugin.ReattachConfig{
		Protocol:        plugin.ProtocolGRPC,
		ProtocolVersion: rc.ProtocolVersion,
		Pid:             rc.Pid,
		Test:            rc.Test,
		Addr:            addr,
	}, nil
}

package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// ReattachEnv is the variable that names the plugins to attach to rather
// than start: a JSON object of ReattachConfig by transport name, which a
// plugin serving in debug mode (sdk.ServeOpts.Debug) prints whole.
const ReattachEnv = wire.ReattachEnv

// ReattachConfig is how to reach a plugin process that runs already,
// started by hand (under a debugger) in debug mode, as ReattachEnv holds
// it: {"Protocol":"grpc","ProtocolVersion":1,"Pid":4242,"Test":true,
// "Addr":{"Network":"unix","String":"/tmp/plugin123"}}.
type ReattachConfig = wire.ReattachConfig

// ParseReattach reads the value of ReattachEnv: the reattach configuration
// of each transport, by name. An empty value names none.
func ParseReattach(s string) (map[string]*ReattachConfig, error) {
	if s == "" {
		return nil, nil
	}
	var out map[string]*ReattachConfig
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("%s: %w", ReattachEnv, err)
	}
	for name, rc := range out {
		if rc == nil {
			return nil, fmt.Errorf("%s: transport %q: no configuration", ReattachEnv, name)
		}
		if _, err := rc.Plugin(); err != nil {
			return nil, fmt.Errorf("%s: transport %q: %w", ReattachEnv, name, err)
		}
	}
	return out, nil
}

// Attach connects to the plugin process rc describes, which runs already
// and which the Client does not own: Kill leaves it running (it serves the
// next fanout run too, until it is stopped by hand), and the Transport's
// Close ends only the transport it served for this run. Nothing checks the
// binary: it is the one the operator started.
func Attach(rc *ReattachConfig, logger hclog.Logger) (*Client, error) {
	prc, err := rc.Plugin()
	if err != nil {
		return nil, fmt.Errorf("attach to transport plugin %d: %w", rc.Pid, err)
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	versions := wire.Versions(&wire.Plugin{Dial: func(done context.Context, conn *grpc.ClientConn) any {
		c := newGRPCClient(done, conn)
		c.exited = func() error {
			return fmt.Errorf("%w: the plugin process %d that fanout attached to is gone", ErrPluginExited, rc.Pid)
		}
		return c
	}})
	plugins, ok := versions[rc.ProtocolVersion]
	if !ok {
		return nil, &VersionError{Path: fmt.Sprintf("(pid %d)", rc.Pid), Plugin: rc.ProtocolVersion, Host: []int{wire.ProtocolVersion}}
	}
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: wire.Handshake,
		// No handshake negotiates a version with a process that runs
		// already: the one it printed is the one spoken.
		Plugins:          plugins,
		Reattach:         prc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Managed:          false,
		Logger:           logger,
		GRPCDialOptions:  wire.DialOptions(), // as New
	})
	rpc, err := pc.Client()
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("attach to transport plugin %d at %s: %w", rc.Pid, rc.Addr.String, err)
	}
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("attach to transport plugin %d: %w", rc.Pid, err)
	}
	t, ok := raw.(sdk.Transport)
	if !ok {
		pc.Kill()
		return nil, fmt.Errorf("attach to transport plugin %d: dispensed %T, not a Transport", rc.Pid, raw)
	}
	return &Client{plugin: pc, transport: t, version: pc.NegotiatedVersion()}, nil
}

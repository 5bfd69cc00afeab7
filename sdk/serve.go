package sdk

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fanout/fanout/sdk/internal/wire"
)

// closeOnExitTimeout bounds the Close that Serve makes when the host went
// away without calling it.
const closeOnExitTimeout = 10 * time.Second

// ServeOpts are the options of Serve.
type ServeOpts struct {
	// Name names the plugin's logger ("echo"), so that fanout's debug log
	// shows whose lines they are; usually the transport's name. Optional.
	Name string

	// Debug makes Serve serve in debug mode, for a plugin started by hand
	// under a debugger rather than by fanout: it logs to standard error
	// in plain text, prints on standard output the FANOUT_REATTACH_PLUGINS
	// value that makes fanout attach to it, and serves every fanout run
	// started with that value (a fresh Transport from newTransport for
	// each run after the first) until it gets SIGINT or SIGTERM. Setting
	// FANOUT_PLUGIN_DEBUG=1 in the plugin's environment does the same
	// without a rebuild. See docs/plugins.md, "Debugging".
	Debug bool
}

// Serve serves a transport plugin and blocks until the host ends the
// plugin; it is all a plugin's main needs to call. newTransport is called
// once, before serving, with the logger the transport should log to: JSON
// lines on the process's standard error, which fanout parses and re-emits
// through its own logger, at fanout's log level. Serve logs to the same
// logger. (Serve then takes over the process's standard streams: a
// transport must log through this logger, and never write to standard
// output, which carries only the go-plugin handshake.)
//
// Run by hand rather than by fanout, Serve says so and exits the process
// with status 1.
//
// Once go-plugin has read them, and before it serves any call, Serve
// removes from the process's environment the variables of the handshake
// (FANOUT_PLUGIN_MAGIC_COOKIE, FANOUT_PLUGIN_LOG_LEVEL and go-plugin's
// PLUGIN_* ones): a command a transport starts with os.Environ() then gets only
// the environment the host gave the plugin and the request's Env, as
// docs/plugins.md promises.
//
// If the host goes away without calling Close, Serve calls it before
// returning, so that nothing the transport started outlives the plugin.
// SIGTERM, which the host's kernel sends if the host dies without ending
// the plugin (fanout asks for it on Linux), closes the transport too and
// then exits the process with status 143, as SIGTERM would have. SIGINT is
// ignored: the host, not the terminal, decides when the plugin stops.
func Serve(newTransport func(logger hclog.Logger) Transport, opts *ServeOpts) {
	if opts == nil {
		opts = &ServeOpts{}
	}
	if debug, _ := strconv.ParseBool(os.Getenv(wire.DebugEnv)); debug || opts.Debug {
		serveDebug(newTransport, opts)
		return
	}
	// Before plugin.Serve, which replaces os.Stderr with a pipe of its own.
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       opts.Name,
		Level:      hclog.LevelFromString(os.Getenv(wire.LogLevelEnv)),
		Output:     os.Stderr,
		JSONFormat: true,
	})
	ct := &closeTracker{Transport: newTransport(logger)}
	stopTerm := closeOnTerm(ct, logger)
	defer stopTerm()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.Versions(&wire.Plugin{Register: register(ct)}),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			// go-plugin has read its environment by now, and serves
			// nothing before it has called this.
			scrubEnv()
			return newGRPCServer(opts)
		},
		Logger: logger,
	})
	ct.closeOnce(logger, "the host went away")
}

// newGRPCServer is go-plugin's gRPC server with the fixed windows the host
// sets for its side too (wire.StreamWindow).
func newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return plugin.DefaultGRPCServer(append(opts, wire.ServerOptions()...))
}

// handshakeEnv are the variables the host sets for the handshake:
// fanout's and go-plugin's (v1.8). A user's own PLUGIN_* variable, which
// go-plugin does not read, stays.
var handshakeEnv = []string{
	wire.Handshake.MagicCookieKey, wire.LogLevelEnv,
	"PLUGIN_CLIENT_CERT", "PLUGIN_MIN_PORT", "PLUGIN_MAX_PORT", "PLUGIN_MULTIPLEX_GRPC",
	"PLUGIN_PROTOCOL_VERSIONS", "PLUGIN_UNIX_SOCKET_DIR", "PLUGIN_UNIX_SOCKET_GROUP",
}

// scrubEnv removes the handshake's variables from the process's
// environment: they are for this process only, and would otherwise reach
// every command a transport starts.
func scrubEnv() {
	for _, name := range handshakeEnv {
		_ = os.Unsetenv(name)
	}
}

// closeOnTerm closes the transport and exits when the process gets
// SIGTERM. The returned function stops watching and waits for the watcher.
func closeOnTerm(ct *closeTracker, logger hclog.Logger) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ch:
			ct.closeOnce(logger, "terminated")
			os.Exit(128 + int(syscall.SIGTERM))
		case <-done:
		}
	})
	return func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
	}
}

// closeTracker remembers whether the host called Close, since the contract
// promises a Transport one Close only.
type closeTracker struct {
	Transport
	closed atomic.Bool
}

func (c *closeTracker) unwrap() Transport { return c.Transport }

func (c *closeTracker) Close(ctx context.Context, req *CloseRequest) (*CloseResponse, error) {
	c.closed.Store(true)
	return c.Transport.Close(ctx, req)
}

// closeOnce closes the transport unless the host already did, bounded by
// closeOnExitTimeout; why is for the log.
func (c *closeTracker) closeOnce(logger hclog.Logger, why string) {
	if c.closed.Swap(true) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeOnExitTimeout)
	defer cancel()
	if _, err := c.Transport.Close(ctx, &CloseRequest{}); err != nil {
		logger.Warn("close transport: "+why, "error", err)
	}
}

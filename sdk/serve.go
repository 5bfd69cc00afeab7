package sdk

import (
	"context"
	"os"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// logLevelEnv carries the host's log level to the plugin process, so that
// the plugin only sends the host what the host would show.
const logLevelEnv = "FANOUT_PLUGIN_LOG_LEVEL"

// closeOnExitTimeout bounds the Close that Serve makes when the host went
// away without calling it.
const closeOnExitTimeout = 10 * time.Second

// ServeOpts are the options of Serve.
type ServeOpts struct {
	// Logger is the logger go-plugin uses inside the plugin process; give
	// it the one the Transport logs to. It must write to the process's
	// original standard error, which Serve redirects: create it with
	// NewLogger before calling Serve. Default: NewLogger("").
	Logger hclog.Logger
}

// NewLogger returns the logger a plugin process should use: JSON lines on
// the process's standard error, which the host parses and re-emits through
// its own logger, at the host's log level (Info if the process was not
// started by NewClient). name may be empty. Call it before Serve.
func NewLogger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.LevelFromString(os.Getenv(logLevelEnv)),
		Output:     os.Stderr,
		JSONFormat: true,
	})
}

// Serve serves t as a transport plugin and blocks until the host ends the
// plugin; it is all a plugin's main needs to call. Run by hand rather than
// by fanout, it says so and exits the process with status 1.
//
// If the host goes away without calling Close, Serve calls it before
// returning, so that nothing the transport started outlives the plugin.
func Serve(t Transport, opts *ServeOpts) {
	if opts == nil {
		opts = &ServeOpts{}
	}
	logger := opts.Logger
	if logger == nil {
		logger = NewLogger("")
	}
	ct := &closeTracker{Transport: t}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(ct),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	})
	if ct.closed.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeOnExitTimeout)
	defer cancel()
	if _, err := t.Close(ctx, &CloseRequest{}); err != nil {
		logger.Warn("close transport after the host went away", "error", err)
	}
}

// closeTracker remembers whether the host called Close, since the contract
// promises a Transport one Close only.
type closeTracker struct {
	Transport
	closed atomic.Bool
}

func (c *closeTracker) Close(ctx context.Context, req *CloseRequest) (*CloseResponse, error) {
	c.closed.Store(true)
	return c.Transport.Close(ctx, req)
}

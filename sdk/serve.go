package sdk

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
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
// SIGTERM, which the host's kernel sends if the host dies without ending
// the plugin (fanout asks for it on Linux), closes the transport too and
// then exits the process with status 143, as SIGTERM would have. SIGINT is
// ignored: the host, not the terminal, decides when the plugin stops.
func Serve(t Transport, opts *ServeOpts) {
	if opts == nil {
		opts = &ServeOpts{}
	}
	logger := opts.Logger
	if logger == nil {
		logger = NewLogger("")
	}
	ct := &closeTracker{Transport: t}
	stopTerm := closeOnTerm(ct, logger)
	defer stopTerm()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(ct),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	})
	ct.closeOnce(logger, "the host went away")
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

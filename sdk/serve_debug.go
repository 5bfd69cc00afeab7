package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/fanout/fanout/sdk/internal/wire"
)

// serveDebug is Serve in debug mode (ServeOpts.Debug): go-plugin's test
// mode, in which the process is not fanout's child, checks no magic
// cookie, and prints nothing of its own on standard output. It prints the
// reattach configuration instead, and serves until SIGINT or SIGTERM.
func serveDebug(newTransport func(logger hclog.Logger) Transport, opts *ServeOpts) {
	level := hclog.LevelFromString(os.Getenv(wire.LogLevelEnv))
	if level == hclog.NoLevel {
		level = hclog.Debug
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: opts.Name, Level: level, Output: os.Stderr})
	rt := &renewing{newTransport: newTransport, logger: logger}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	var printer sync.WaitGroup
	printer.Go(func() {
		select {
		case rc := <-reattach:
			printReattach(rt, opts, rc, logger)
		case <-closed:
		}
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.Versions(&wire.Plugin{Register: register(rt)}),
		GRPCServer:       newGRPCServer, // the windows of Serve's, which the reattaching host sets too
		Logger:           logger,
		Test:             &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed},
	})
	printer.Wait()
	rt.closeCurrent()
	logger.Info("debug session ended")
}

// printReattach prints how to make fanout attach to this process: the
// FANOUT_REATTACH_PLUGINS value, under the transport's name.
func printReattach(rt *renewing, opts *ServeOpts, rc *plugin.ReattachConfig, logger hclog.Logger) {
	name := opts.Name
	if d, err := rt.Describe(context.Background(), &DescribeRequest{}); err == nil && d.Name != "" {
		name = d.Name
	}
	b, err := json.Marshal(map[string]wire.ReattachConfig{name: wire.ReattachFromPlugin(rc)})
	if err != nil {
		logger.Error("encode the reattach configuration", "error", err)
		return
	}
	fmt.Printf("Transport plugin %q serves in debug mode (pid %d). Run fanout with:\n\n\t%s='%s'\n\nCtrl-C ends it.\n",
		name, rc.Pid, wire.ReattachEnv, b)
}

// renewing is the Transport of a plugin in debug mode, which serves one
// fanout run after another: each run ends with Close, and the next call
// after it gets a new Transport.
type renewing struct {
	newTransport func(hclog.Logger) Transport
	logger       hclog.Logger

	mu  sync.Mutex
	cur Transport // guarded by mu; nil before the first call and after Close
}

// current returns the Transport of this run, made on the run's first call.
func (r *renewing) current() Transport {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		r.cur = r.newTransport(r.logger)
	}
	return r.cur
}

func (r *renewing) unwrap() Transport { return r.current() }

// closeCurrent closes the run's Transport, if a run is in progress.
func (r *renewing) closeCurrent() {
	ctx, cancel := context.WithTimeout(context.Background(), closeOnExitTimeout)
	defer cancel()
	if _, err := r.Close(ctx, &CloseRequest{}); err != nil {
		r.logger.Warn("close transport", "error", err)
	}
}

func (r *renewing) Describe(ctx context.Context, req *DescribeRequest) (*DescribeResponse, error) {
	return r.current().Describe(ctx, req)
}

func (r *renewing) Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error) {
	return r.current().Configure(ctx, req)
}

func (r *renewing) Connect(ctx context.Context, req *ConnectRequest) (*ConnectResponse, error) {
	return r.current().Connect(ctx, req)
}

func (r *renewing) Exec(ctx context.Context, req *ExecRequest, out ExecOutput) (*ExecResponse, error) {
	return r.current().Exec(ctx, req, out)
}

func (r *renewing) Signal(ctx context.Context, req *SignalRequest) (*SignalResponse, error) {
	return r.current().Signal(ctx, req)
}

// Close ends this run's Transport; the next run gets a new one.
func (r *renewing) Close(ctx context.Context, _ *CloseRequest) (*CloseResponse, error) {
	r.mu.Lock()
	t := r.cur
	r.cur = nil
	r.mu.Unlock()
	if t == nil {
		return &CloseResponse{}, nil
	}
	return t.Close(ctx, &CloseRequest{})
}

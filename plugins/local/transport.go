package local

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
)

// Name is the transport's name in a configuration's transport block.
const Name = "local"

// Version is the version Describe reports. It is a variable so that the
// fanout build can stamp its own version with -ldflags -X.
var Version = "0.1.0"

// defaultShell runs commands when the configuration names no shell.
const defaultShell = "sh"

// Config is the local transport's settings, from its transport block.
type Config struct {
	// Shell runs each command as `Shell -c COMMAND`; a name looked up in
	// PATH or a path. Default: "sh".
	Shell string
}

// Transport runs commands on this machine. It is safe for concurrent use,
// as sdk.Transport requires. Build one with New.
type Transport struct {
	logger hclog.Logger

	// closing is closed by Close; running Execs then stop their commands.
	closing chan struct{}
	// execs counts the Execs in progress, so that Close can wait for them.
	// Add is called under mu while closed is false, never after.
	execs sync.WaitGroup
	// shutDown is closed once the first Close has seen every Exec return
	// and has ended the supervisor.
	shutDown chan struct{}

	mu sync.Mutex
	// guarded by mu
	config  Config
	running map[string]*execution // by ExecRequest.ID
	// pending holds signals for Execs not begun yet (see
	// sdk.PendingSignals): noted and taken under mu, with running.
	pending sdk.PendingSignals
	closed  bool
	// sup is the commands' supervisor, made at the first command that
	// can have one; nil before, and in a binary that cannot supervise.
	sup *supervisor
}

var (
	_ sdk.Transport     = (*Transport)(nil)
	_ sdk.FileTransport = (*Transport)(nil)
)

// execution is a command started by Exec, as Signal finds it.
type execution struct {
	// started is closed once the command has started, or failed to; its
	// output can reach the caller before Start returns, so a Signal may
	// arrive before pgid is known and must wait for it.
	started chan struct{}
	// pgid is the command's process group, which is its shell's pid; 0 if
	// it failed to start, and again once Exec is done with the group.
	// Set before started is closed; cleared under Transport.mu.
	pgid int
	// stopRequested is set by Signal before it sends a signal that asks
	// the command to end (see endsCommand).
	stopRequested atomic.Bool
}

// New returns a local transport that logs to logger (nil for none).
func New(logger hclog.Logger) *Transport {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Transport{
		logger:   logger,
		closing:  make(chan struct{}),
		shutDown: make(chan struct{}),
		config:   Config{Shell: defaultShell},
		running:  map[string]*execution{},
	}
}

// Describe reports the transport's name, version, capabilities and schemas.
func (t *Transport) Describe(_ context.Context, _ *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{
		Name:         Name,
		Version:      Version,
		Capabilities: sdk.Capabilities{Signal: true, Exec: true, Stdin: true, Upload: true, Download: true},
		TransportSchema: sdk.Schema{Attributes: []sdk.Attribute{{
			Name:        "shell",
			Type:        cty.String,
			Description: `The shell that runs each command as "SHELL -c COMMAND". Default: "sh".`,
		}}},
	}, nil
}

// Configure reads the transport block's settings: an object with an
// optional string "shell". A shell that cannot be found is an error
// diagnostic on that attribute.
func (t *Transport) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	cfg, diags := decodeConfig(req.Config)
	if diags.HasErrors() {
		return &sdk.ConfigureResponse{Diagnostics: diags}, nil
	}
	t.mu.Lock()
	t.config = cfg
	t.mu.Unlock()
	t.logger.Debug("configured", "shell", cfg.Shell, "run_id", req.RunID)
	return &sdk.ConfigureResponse{Diagnostics: diags}, nil
}

func decodeConfig(v cty.Value) (Config, sdk.Diagnostics) {
	cfg := Config{Shell: defaultShell}
	if v.Type() == cty.NilType || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute("shell") {
		return cfg, nil
	}
	shell := v.GetAttr("shell")
	if shell.IsNull() {
		return cfg, nil
	}
	if !shell.IsKnown() || shell.Type() != cty.String {
		return cfg, sdk.Diagnostics{{
			Severity:  sdk.Error,
			Summary:   "Invalid shell",
			Detail:    "The shell must be a string, such as \"sh\" or \"/bin/bash\".",
			Attribute: sdk.AttributePath{"shell"},
		}}
	}
	cfg.Shell = shell.AsString()
	if cfg.Shell == "" {
		return cfg, sdk.Diagnostics{{
			Severity:  sdk.Error,
			Summary:   "Empty shell",
			Detail:    "The shell must name a program, such as \"sh\" or \"/bin/bash\"; remove the attribute to use \"sh\".",
			Attribute: sdk.AttributePath{"shell"},
		}}
	}
	if _, err := exec.LookPath(cfg.Shell); err != nil {
		return cfg, sdk.Diagnostics{{
			Severity:  sdk.Error,
			Summary:   "Shell not found",
			Detail:    fmt.Sprintf("The shell %q cannot be run on this machine: %s. Name a program in PATH or give its path.", cfg.Shell, err),
			Attribute: sdk.AttributePath{"shell"},
		}}
	}
	return cfg, nil
}

// Connect accepts any host: every host is this machine.
func (t *Transport) Connect(_ context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	if t.isClosed() {
		return nil, errClosed
	}
	t.logger.Trace("connect", "host", req.Host.Name)
	return &sdk.ConnectResponse{}, nil
}

// Close stops every command still running (SIGTERM to its process group,
// SIGKILL after a grace period), waits for their Execs to return, and ends
// the commands' supervisor process; or it returns when ctx ends first.
// Execs started after Close fail. Close may be called more than once.
func (t *Transport) Close(ctx context.Context, _ *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	t.mu.Lock()
	first := !t.closed
	if first {
		t.closed = true
		close(t.closing)
	}
	t.mu.Unlock()

	if first {
		// This goroutine outlives Close only when ctx ends first; it then
		// ends with the last Exec, which the closing channel bounds to a
		// few seconds unless a caller's output writer blocks. No Exec
		// starts after closed is set, so sup is final here.
		go func() {
			t.execs.Wait()
			if sup := t.supervisorIfAny(); sup != nil {
				sup.close()
			}
			close(t.shutDown)
		}()
	}
	select {
	case <-t.shutDown:
		return &sdk.CloseResponse{}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("close local transport: wait for running commands: %w", ctx.Err())
	}
}

// supervisor returns the commands' supervisor, made at the first call, or
// nil when this binary cannot run one (see SupervisorMain). Called by an
// Exec between begin and end.
func (t *Transport) supervisor() *supervisor {
	path, ok := supervisorPath()
	if !ok {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sup == nil {
		t.sup = newSupervisor(t.logger, path)
	}
	return t.sup
}

// supervisorIfAny returns the supervisor if one was made.
func (t *Transport) supervisorIfAny() *supervisor {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sup
}

// errClosed is returned by calls made after Close.
var errClosed = errors.New("local transport is closed")

func (t *Transport) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Signal delivers a signal, named without the SIG prefix ("INT", "TERM"),
// to the process group of the running Exec with that ID. An ID that is not
// running (finished, or never started) is not an error. A signal that asks
// the command to end (HUP, INT, QUIT, TERM, KILL) ends its whole group: once
// the shell has exited, Exec stops what it left in the background.
func (t *Transport) Signal(ctx context.Context, req *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	sig, err := parseSignal(req.Signal)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	e, ok := t.running[req.ExecID]
	if !ok && endsCommand(sig) {
		// Not begun, or over: an Exec on its way takes it and does not
		// start its command.
		t.pending.Note(req.ExecID, sdk.SignalName(sig))
	}
	t.mu.Unlock()
	if !ok {
		return &sdk.SignalResponse{}, nil
	}
	select {
	case <-e.started:
	case <-ctx.Done():
		return nil, fmt.Errorf("signal exec %s: wait for the command to start: %w", req.ExecID, ctx.Err())
	}
	// Held across the kill so that Exec cannot be done with the group
	// between the check and the signal: it clears pgid under mu.
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running[req.ExecID] != e || e.pgid == 0 {
		return &sdk.SignalResponse{}, nil
	}
	t.logger.Debug("signal", "exec", req.ExecID, "signal", sdk.SignalName(sig), "pgid", e.pgid)
	if endsCommand(sig) {
		e.stopRequested.Store(true)
	}
	if err := signalGroup(e.pgid, sig); err != nil {
		return nil, fmt.Errorf("signal exec %s: %w", req.ExecID, err)
	}
	return &sdk.SignalResponse{}, nil
}

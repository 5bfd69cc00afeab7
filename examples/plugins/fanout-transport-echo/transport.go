//go:build unix

package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
)

// version is reported by Describe; a release build sets it with
// -ldflags "-X main.version=...".
var version = "0.1.0"

// killGrace is how long a stopped command has between SIGTERM and SIGKILL,
// and how long Exec waits, once the command's shell has exited, for
// children it left in the background to release its output.
const killGrace = 2 * time.Second

// Transport runs commands on this machine. It is safe for concurrent use,
// as sdk.Transport requires. Build one with New.
type Transport struct {
	logger hclog.Logger
	// execs counts the Execs in progress, so that Close can wait for them.
	execs sync.WaitGroup

	mu sync.Mutex
	// guarded by mu
	settings settings
	hosts    map[string]hostSettings // connected host -> its settings
	running  map[string]*exec.Cmd    // ExecRequest.ID -> its started command
	closed   bool
}

var (
	_ sdk.Transport     = (*Transport)(nil)
	_ sdk.HostValidator = (*Transport)(nil)
)

// settings are the transport block's attributes, decoded by sdk.Decode:
// an attribute not set keeps the field's value, its default.
type settings struct {
	Greeting string   `cty:"greeting"`
	Prefix   []string `cty:"prefix"`
	Token    *string  `cty:"token"`
}

// hostSettings are a host block's attributes.
type hostSettings struct {
	Dir   string  `cty:"dir"`   // default: the plugin's working directory
	Token *string `cty:"token"` // default: the transport block's
}

// New returns a transport that logs to logger.
func New(logger hclog.Logger) *Transport {
	return &Transport{logger: logger, hosts: map[string]hostSettings{}, running: map[string]*exec.Cmd{}}
}

// Describe declares the settings: the core checks a configuration against
// them before anything runs, so that a typo is an error at its line. It
// also declares what the transport can do: run commands, with stdin, and
// signal them. It does not declare Upload or Download, and so need not
// implement sdk.FileTransport: fanout refuses a task with upload or
// download blocks on an echo host when it plans it (see docs/plugins.md
// for a transport that does carry files). Nor does it declare Release:
// a connected host costs it one map entry, so there is nothing to let go
// of before Close (a transport holding a connection per host, as ssh
// does, implements sdk.Releaser and declares it).
func (t *Transport) Describe(context.Context, *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{
		Name:         "echo",
		Version:      version,
		Capabilities: sdk.Capabilities{Exec: true, Stdin: true, Signal: true, ValidateHost: true},
		TransportSchema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "greeting", Type: cty.String, Required: true,
				Description: "Exported to every command as ECHO_GREETING."},
			{Name: "prefix", Type: cty.List(cty.String),
				Description: `Command line that runs "sh -c COMMAND", such as ["nice", "-n", "10"]. Default: none.`},
			{Name: "token", Type: cty.String, Sensitive: true,
				Description: "Exported to every command as ECHO_TOKEN; never shown."},
		}},
		HostSchema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "dir", Type: cty.String,
				Description: "Working directory of the host's commands. Default: the plugin's."},
			{Name: "token", Type: cty.String, Sensitive: true,
				Description: "ECHO_TOKEN for the host's commands, over the transport block's; never shown."},
		}},
	}, nil
}

// Configure takes the transport block's settings, already checked against
// the schema (types converted, required ones present); what the schema
// cannot say is checked here and reported on the attribute.
func (t *Transport) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s settings
	if err := sdk.Decode(req.Config, &s); err != nil {
		return nil, err
	}
	if len(s.Prefix) > 0 {
		if _, err := exec.LookPath(s.Prefix[0]); err != nil {
			return &sdk.ConfigureResponse{Diagnostics: sdk.Diagnostics{{
				Severity:  sdk.Error,
				Summary:   "Prefix command not found",
				Detail:    fmt.Sprintf("The prefix starts with %q, which cannot be run here: %s.", s.Prefix[0], err),
				Attribute: sdk.AttributePath{"prefix"},
			}}}, nil
		}
	}
	t.mu.Lock()
	t.settings = s
	t.mu.Unlock()
	// Sensitive values are the plugin's to keep out of its logs too.
	t.logger.Debug("configured", "greeting", s.Greeting, "prefix", s.Prefix, "token_set", s.Token != nil)
	return &sdk.ConfigureResponse{}, nil
}

// ValidateHost checks a host's settings when fanout plans, without
// contacting anything: its dir must be an existing directory. fanout shows
// the diagnostic at the dir attribute's line, for validate and plan alike.
// Describe declares the capability; fanout asks only then.
func (t *Transport) ValidateHost(_ context.Context, req *sdk.ValidateHostRequest) (*sdk.ValidateHostResponse, error) {
	var h hostSettings
	if err := sdk.Decode(req.Host.Config, &h); err != nil {
		return nil, err
	}
	if h.Dir == "" {
		return &sdk.ValidateHostResponse{}, nil
	}
	if fi, err := os.Stat(h.Dir); err != nil || !fi.IsDir() {
		return &sdk.ValidateHostResponse{Diagnostics: sdk.Diagnostics{{
			Severity:  sdk.Error,
			Summary:   "Directory not found",
			Detail:    fmt.Sprintf("The host's dir %q is not an existing directory. Create it, or set dir to an existing one.", h.Dir),
			Attribute: sdk.AttributePath{"dir"},
		}}}, nil
	}
	return &sdk.ValidateHostResponse{}, nil
}

// Connect checks the host's directory again (it may have gone since the
// plan); a wrong one is the one line an operator reads for that host.
func (t *Transport) Connect(_ context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	var h hostSettings
	if err := sdk.Decode(req.Host.Config, &h); err != nil {
		return nil, err
	}
	dir := h.Dir
	if dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			// fanout prefixes the error with the host's name.
			return nil, fmt.Errorf("directory %s does not exist; set dir to an existing directory", dir)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errClosed
	}
	t.hosts[req.Host.Name] = h
	return &sdk.ConnectResponse{}, nil
}

var errClosed = errors.New("echo transport is closed")

// Exec runs the command in its own process group, so that a signal, a
// timeout or a cancel reaches everything it started.
func (t *Transport) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	t.mu.Lock()
	h, ok := t.hosts[req.Host]
	s := t.settings
	if t.closed {
		t.mu.Unlock()
		return nil, errClosed
	}
	if !ok {
		t.mu.Unlock()
		return nil, fmt.Errorf("host %q was not connected", req.Host)
	}
	t.execs.Add(1) // under mu while open, so Close cannot miss it
	t.mu.Unlock()
	defer t.execs.Done()

	runCtx := ctx
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	argv := append(append([]string{}, s.Prefix...), "sh", "-c", req.Command)
	runCtx, stop := context.WithCancelCause(runCtx)
	defer stop(nil)
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Dir = h.Dir
	cmd.Env = append(os.Environ(), "ECHO_GREETING="+s.Greeting)
	if token := cmp.Or(h.Token, s.Token); token != nil {
		cmd.Env = append(cmd.Env, "ECHO_TOKEN="+*token)
	}
	for k, v := range req.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Writers that are not files get a goroutine each from os/exec, which
	// copies output as it comes: it streams, never waits for the end. A
	// write that fails (fanout could not deliver the output) stops the
	// command, as the contract asks, through runCtx.
	out = out.OrDiscard()
	// Stdin holds what the command reads (a sudo password): a pipe, never
	// an argument or a variable, which other users could see.
	if req.Stdin != nil {
		cmd.Stdin = bytes.NewReader(req.Stdin)
	}
	cmd.Stdout = failWriter{w: out.Stdout, stop: stop}
	cmd.Stderr = failWriter{w: out.Stderr, stop: stop}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	// After the grace, os/exec kills the shell and stops waiting for
	// output that a surviving child could hold open forever (`sleep 30 &
	// echo x`): Exec returns, with the shell's exit status.
	cmd.WaitDelay = killGrace

	// Started and registered under mu: the command's first output can
	// reach fanout before this goroutine runs again, and a Signal sent on
	// seeing it must find the command, not nothing.
	t.mu.Lock()
	if err := cmd.Start(); err != nil {
		t.mu.Unlock()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	t.running[req.ID] = cmd
	t.mu.Unlock()
	err := cmd.Wait()
	t.mu.Lock()
	delete(t.running, req.ID)
	t.mu.Unlock()
	// A stopped command's children go with it: nothing it started may run
	// on beside the rollback. One that exited by itself keeps what it
	// meant to leave running (`nohup server &`), as fanout's local and ssh
	// transports keep it.
	if runCtx.Err() != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}

	switch cause := context.Cause(runCtx); {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("exec %s: %w", req.ID, ctx.Err())
	case errors.Is(cause, errOutput):
		return nil, fmt.Errorf("exec %s: %w", req.ID, cause)
	case runCtx.Err() != nil:
		return &sdk.ExecResponse{ExitCode: -1, Signal: sdk.SignalName(syscall.SIGTERM), TimedOut: true}, nil
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		return nil, fmt.Errorf("exec %s: %w", req.ID, err)
	}
	return exitResponse(cmd.ProcessState), nil
}

// errOutput is the cause of a command stopped because its output could not
// be written.
var errOutput = errors.New("write output")

// failWriter stops the command, through stop, when a write fails.
type failWriter struct {
	w    io.Writer
	stop context.CancelCauseFunc
}

func (f failWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		f.stop(fmt.Errorf("%w: %w", errOutput, err))
	}
	return n, err
}

// exitResponse says how a process ended: a signal by its name as
// sdk.SignalName gives it ("SEGV", shown by fanout as SIGSEGV).
func exitResponse(ps *os.ProcessState) *sdk.ExecResponse {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return &sdk.ExecResponse{ExitCode: -1, Signal: sdk.SignalName(ws.Signal())}
	}
	return &sdk.ExecResponse{ExitCode: ps.ExitCode()}
}

// Signal sends a signal to the process group of a running Exec. An Exec
// that already ended is not an error.
func (t *Transport) Signal(_ context.Context, req *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	sig, ok := sdk.SignalNum(req.Signal)
	if !ok {
		return nil, fmt.Errorf("unknown signal %q", req.Signal)
	}
	t.mu.Lock()
	cmd := t.running[req.ExecID]
	t.mu.Unlock()
	if cmd != nil {
		if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return nil, fmt.Errorf("signal exec %s: %w", req.ExecID, err)
		}
	}
	return &sdk.SignalResponse{}, nil
}

// Close stops every running command (SIGTERM, SIGKILL after killGrace)
// and waits for their Execs to return, or for ctx.
func (t *Transport) Close(ctx context.Context, _ *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	t.mu.Lock()
	t.closed = true
	for _, cmd := range t.running {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	t.mu.Unlock()

	// Execs end within killGrace of the SIGTERM: their Wait kills the
	// shell then. The goroutine ends with the last of them.
	done := make(chan struct{})
	go func() {
		t.execs.Wait()
		close(done)
	}()
	timer := time.NewTimer(killGrace)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return &sdk.CloseResponse{}, nil
		case <-timer.C:
			t.mu.Lock()
			for _, cmd := range t.running {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
			t.mu.Unlock()
		case <-ctx.Done():
			return nil, fmt.Errorf("close echo transport: %w", ctx.Err())
		}
	}
}

package ssh

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/sdk"
)

// Name is the transport's name in a transport block.
const Name = "ssh"

// Version is the plugin's version, reported by Describe.
const Version = "0.1.0"

var (
	_ sdk.Transport = (*Transport)(nil)
	_ sdk.Releaser  = (*Transport)(nil)
)

// Transport is the SSH transport. Create it with New; it is safe for
// concurrent use by Connect, Exec and Signal, as sdk.Transport requires.
// It holds one connection per host from the first Connect (or Exec) of
// that host until Release or Close; a released host is connected again by
// its next Connect or Exec.
type Transport struct {
	logger hclog.Logger
	env    environment
	agents agents

	// ctx is the context of dials, which outlive the Connect that started
	// them; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex // guards the fields below
	// st is the configuration, set by Configure or, failing that, the
	// first Connect (defaults).
	st *settings
	// hosts are the targets of the hosts given to Connect, by name.
	hosts map[string]*target
	// conns are the connections, made or being made, by "host:NAME" and
	// "jump:CHAIN".
	conns map[string]*dialCall
	// retired are ended connections replaced by a new dial; Close waits
	// for their goroutines.
	retired []*hostConn
	// execs are the Execs in progress, by ID.
	execs map[string]*execution
	// pending holds signals for Execs not begun yet (see
	// sdk.PendingSignals): noted and taken under mu, with execs.
	pending sdk.PendingSignals
	// answers are the operator's answers to our prompts (passphrases), by
	// prompt ID, as Connect received them.
	answers map[string]string
	closed  bool

	dials sync.WaitGroup // goroutines dialling for shared()
	runs  sync.WaitGroup // Exec calls in progress
}

// settings is the configuration and what is built from it once.
type settings struct {
	cfg          Config
	resolver     *resolver
	connectSlots chan struct{} // max_connects semaphore
}

// New returns a Transport that logs to logger (nil: nowhere).
func New(logger hclog.Logger) *Transport {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Transport{
		logger:  logger.Named("ssh"),
		env:     osEnvironment(),
		ctx:     ctx,
		cancel:  cancel,
		hosts:   make(map[string]*target),
		conns:   make(map[string]*dialCall),
		execs:   make(map[string]*execution),
		answers: make(map[string]string),
	}
}

// Describe returns the transport's name, version, capabilities and
// schemas. It contacts nothing.
func (t *Transport) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{
		Name:            Name,
		Version:         Version,
		Capabilities:    sdk.Capabilities{Signal: true, Exec: true, Stdin: true, Upload: true, Download: true, CommandList: true, Release: true, ValidateHost: true},
		TransportSchema: transportSchema(),
		HostSchema:      hostSchema(),
	}, nil
}

// ValidateHost checks a host block's settings (a port out of range, a
// proxy_jump that is no list of hosts) at plan and validate time, as the
// transport block's are, without contacting the host: they were found
// only by the run's connect, after its journal had started.
func (t *Transport) ValidateHost(_ context.Context, req *sdk.ValidateHostRequest) (*sdk.ValidateHostResponse, error) {
	_, diags := decodeHost(req.Host.Config)
	return &sdk.ValidateHostResponse{Diagnostics: diags}, nil
}

// Configure validates and applies the transport block's settings and reads
// the ssh_config file. Problems are diagnostics on their attribute; with
// any, the previous configuration (or the defaults) stays.
func (t *Transport) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	cfg, diags := decodeConfig(req.Config)
	if diags.HasErrors() {
		return &sdk.ConfigureResponse{Diagnostics: diags}, nil
	}
	st, diag := t.newSettings(cfg)
	if diag != nil {
		return &sdk.ConfigureResponse{Diagnostics: append(diags, *diag)}, nil
	}
	t.mu.Lock()
	t.st = st
	t.mu.Unlock()
	diags = append(diags, st.resolver.ssh.unreadWarnings()...)
	t.logger.Debug("configured", "run_id", req.RunID, "host_key_checking", cfg.HostKeyChecking,
		"max_sessions", cfg.MaxSessions, "max_connects", cfg.MaxConnects, "known_hosts", cfg.KnownHosts)
	return &sdk.ConfigureResponse{Diagnostics: diags}, nil
}

// newSettings builds what a configuration needs: the ssh_config file read,
// the known_hosts files listed, the connect semaphore.
func (t *Transport) newSettings(cfg Config) (*settings, *sdk.Diagnostic) {
	path, explicit := cfg.SSHConfig, cfg.SSHConfig != ""
	if !explicit && t.env.home != "" {
		path = filepath.Join(t.env.home, ".ssh", "config")
	}
	// An ssh_config setting replaces both files, as `ssh -F` does.
	system := t.env.systemSSHConfig
	if explicit {
		system = ""
	}
	if path != "" {
		path = t.env.expandTilde(path)
	}
	sc, err := loadSSHConfigs(path, explicit, system, t.env.home, t.logger)
	if err != nil {
		d := &sdk.Diagnostic{Severity: sdk.Error, Summary: "Unreadable ssh_config",
			Detail: fmt.Sprintf("The ssh_config file cannot be read: %v.", err)}
		if explicit {
			d.Attribute = sdk.AttributePath{attrSSHConfig}
		}
		return nil, d
	}
	if len(cfg.KnownHosts) == 0 && t.env.home == "" {
		return nil, &sdk.Diagnostic{Severity: sdk.Error, Summary: "No known_hosts file",
			Detail: "There is no home directory to find ~/.ssh/known_hosts in; set known_hosts.", Attribute: sdk.AttributePath{attrKnownHosts}}
	}
	return &settings{
		cfg:          cfg,
		resolver:     &resolver{cfg: cfg, ssh: sc, env: t.env, keys: &hostKeyCheckers{logger: t.logger}},
		connectSlots: make(chan struct{}, cfg.MaxConnects),
	}, nil
}

// settings returns the configuration, the defaults if Configure was not
// called (or failed).
func (t *Transport) settings() (*settings, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	if t.st == nil {
		st, diag := t.newSettings(DefaultConfig())
		if diag != nil {
			return nil, fmt.Errorf("%s: %s", diag.Summary, diag.Detail)
		}
		t.st = st
	}
	return t.st, nil
}

// Connect dials, authenticates and checks the host key of req.Host, and
// keeps the connection for Exec. It is idempotent, and concurrent Connects
// of one host share one dial. It checks credentials before contacting the
// host, so a missing agent or key is reported without any connection.
// The error is one line naming the host and what to fix.
func (t *Transport) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	st, err := t.settings()
	if err != nil {
		return nil, err
	}
	h := req.Host
	if h.Name == "" {
		return nil, fmt.Errorf("connect: host has no name")
	}
	hs, err := decodeHostSettings(h.Config)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", h.Name, err)
	}
	tg, err := st.resolver.host(h.Name, h.Address, hs)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.hosts[h.Name] = tg
	for id, a := range req.Answers {
		t.answers[id] = a
	}
	t.mu.Unlock()
	if _, err := t.connect(ctx, st, tg); err != nil {
		var pe *PromptError
		if errors.As(err, &pe) {
			return &sdk.ConnectResponse{Prompts: pe.Prompts}, nil
		}
		return nil, err
	}
	return &sdk.ConnectResponse{}, nil
}

// connect returns the host's live connection, dialling it if needed.
func (t *Transport) connect(ctx context.Context, st *settings, tg *target) (*hostConn, error) {
	hc, err := t.shared(ctx, "host:"+tg.name, func(ctx context.Context) (*hostConn, error) {
		creds, err := t.agents.credentialsFor(tg, t.answersSnapshot())
		if err != nil {
			return nil, err
		}
		var via *ssh.Client
		if len(tg.jumps) > 0 {
			if via, err = t.jumpClient(ctx, st, tg.jumps); err != nil {
				return nil, err
			}
		}
		client, err := t.handshake(ctx, st, tg, creds, via)
		if err != nil {
			return nil, err
		}
		return newHostConn(tg, client, st.cfg.MaxSessions, t.logger), nil
	})
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", tg.name, err)
	}
	return hc, nil
}

// answersSnapshot copies the answers for a dial running without the lock.
func (t *Transport) answersSnapshot() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.answers)
}

// target returns the target of a host given to Connect, or, for a host
// never given, one with its name as address.
func (t *Transport) target(st *settings, name string) (*target, error) {
	t.mu.Lock()
	tg := t.hosts[name]
	t.mu.Unlock()
	if tg != nil {
		return tg, nil
	}
	return st.resolver.host(name, name, hostSettings{})
}

// Exec runs req.Command, or the list req.Commands, on req.Host and blocks
// until it ends, streaming its output to out. The host is connected first if it is not. See
// watchScript for how the command is run and stopped. req.Stdin, when not
// nil, is each command's stdin; Exec refuses more than 1 MiB of it (see
// maxStdin).
func (t *Transport) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if len(req.Stdin) > maxStdin {
		return nil, fmt.Errorf("host %s: stdin of %d bytes: the ssh transport sends at most %d", req.Host, len(req.Stdin), maxStdin)
	}
	for k := range req.Env {
		if !validEnvName(k) {
			return nil, fmt.Errorf("host %s: invalid environment variable name %q", req.Host, k)
		}
	}
	st, err := t.settings()
	if err != nil {
		return nil, err
	}
	ex := newExecution()
	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		return nil, ErrClosed
	case req.ID != "" && t.execs[req.ID] != nil:
		t.mu.Unlock()
		return nil, fmt.Errorf("host %s: exec ID %q is already running", req.Host, req.ID)
	}
	early := ""
	if req.ID != "" {
		t.execs[req.ID] = ex
		early, _ = t.pending.Take(req.ID)
	}
	t.runs.Add(1)
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if t.execs[req.ID] == ex {
			delete(t.execs, req.ID)
		}
		t.mu.Unlock()
		t.runs.Done()
	}()
	if early != "" {
		// Signalled on its way here (a Ctrl-C): ended by the signal
		// before it started, as a command it reached first would be.
		t.logger.Debug("exec signalled before it started; not started", "exec_id", req.ID, "signal", early)
		return &sdk.ExecResponse{ExitCode: -1, Signal: early}, nil
	}

	tg, err := t.target(st, req.Host)
	if err != nil {
		return nil, err
	}
	// Close may abort while we connect.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopConnect := context.AfterFunc(t.ctx, cancel)
	defer stopConnect()
	hc, err := t.connect(cctx, st, tg)
	if err != nil {
		return nil, err
	}
	resp, err := hc.exec(ctx, req, out, ex)
	if err != nil {
		return resp, fmt.Errorf("host %s: %w", req.Host, err)
	}
	return resp, nil
}

// Signal delivers req.Signal to the command of Exec req.ExecID. An Exec
// that has finished, or is unknown, is not an error. A terminating signal
// that arrives before the command started keeps it from starting.
func (t *Transport) Signal(ctx context.Context, req *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	sig, ok := parseSignal(req.Signal)
	if !ok {
		return nil, fmt.Errorf("signal %q is not one SSH can deliver (use INT, TERM, KILL, HUP, QUIT, USR1, USR2, ...)", req.Signal)
	}
	t.mu.Lock()
	ex := t.execs[req.ExecID]
	if ex == nil {
		// Not begun, or over: an Exec on its way takes it and does not
		// start its command.
		t.pending.Note(req.ExecID, string(sig))
	}
	t.mu.Unlock()
	if ex == nil {
		t.logger.Debug("signal for an exec not running", "exec_id", req.ExecID, "signal", sig)
		return &sdk.SignalResponse{}, nil
	}
	ex.signal(sig)
	return &sdk.SignalResponse{}, nil
}

// Release closes the connections of req.Hosts, which fanout is done with:
// on a fleet, a connection kept to the end of the run holds a file
// descriptor and buffers here and a process or two on the host (sshd's),
// and sends keepalives. A later Connect or Exec of a host dials it again.
// A host not connected, or being connected (a dial in progress belongs to
// the Connect that waits for it), is left as it is; jump hosts stay
// connected for the other hosts that go through them.
func (t *Transport) Release(ctx context.Context, req *sdk.ReleaseRequest) (*sdk.ReleaseResponse, error) {
	var conns []*hostConn
	t.mu.Lock()
	for _, host := range req.Hosts {
		key := "host:" + host
		call := t.conns[key]
		if t.closed || call == nil || !isDone(call.done) || call.conn != nil && call.conn.cutOff() {
			// A host cut off (see errStillRunning) stays refused.
			continue
		}
		delete(t.conns, key)
		if call.conn != nil {
			conns = append(conns, call.conn)
		}
	}
	t.mu.Unlock()
	closeAll(conns)
	t.logger.Debug("released", "hosts", len(conns))
	return &sdk.ReleaseResponse{}, nil
}

// isDone reports whether ch is closed, without blocking.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Close stops every running command (TERM, then KILL), closes every
// connection, jump hosts last, and the agent connections, and waits for
// all of it. If ctx ends first, connections are closed without waiting for
// the commands' grace periods. Calling it again does nothing.
func (t *Transport) Close(ctx context.Context, req *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return &sdk.CloseResponse{}, nil
	}
	t.closed = true
	for _, ex := range t.execs {
		ex.stop()
	}
	t.mu.Unlock()
	t.cancel() // dials in flight end

	runsDone := make(chan struct{})
	go func() { t.runs.Wait(); close(runsDone) }()
	select {
	case <-runsDone:
	case <-ctx.Done():
		t.logger.Warn("close: commands still stopping; closing their connections")
	}
	t.dials.Wait()

	t.mu.Lock()
	var hostConns, jumpConns []*hostConn
	for key, call := range t.conns {
		if call.conn == nil {
			continue
		}
		if strings.HasPrefix(key, "jump:") {
			jumpConns = append(jumpConns, call.conn)
		} else {
			hostConns = append(hostConns, call.conn)
		}
	}
	hostConns = append(hostConns, t.retired...)
	t.conns, t.retired = map[string]*dialCall{}, nil
	t.mu.Unlock()

	closeAll(hostConns)
	closeAll(jumpConns) // after the hosts tunnelled through them
	<-runsDone
	t.agents.close()
	return &sdk.CloseResponse{}, nil
}

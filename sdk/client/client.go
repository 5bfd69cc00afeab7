package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// defaultStartTimeout is go-plugin's own default, stated here because
// error messages name it.
const defaultStartTimeout = time.Minute

// Config says how to launch a transport plugin process.
type Config struct {
	// Cmd is the plugin's command, not yet started; required. New
	// starts it and adds to its Env (the parent's environment, then the
	// handshake, the log level and SocketDir, which win over the parent's);
	// it must not be reused.
	Cmd *exec.Cmd

	// Logger receives the client's logs and the plugin's, which the plugin
	// writes as JSON to its stderr and the client re-emits here; lines
	// that are not JSON are logged at Debug, except a panic (or a Go
	// runtime's fatal error) and the stack trace after it, which are
	// logged at Error, as go-plugin does: a crash is an error. The
	// plugin is told this logger's level, so it sends only what would be
	// shown. Default: no logging.
	Logger hclog.Logger

	// StartTimeout bounds how long the plugin has to start and complete
	// the handshake. Default: one minute.
	StartTimeout time.Duration

	// SocketDir is the directory the plugin creates its unix socket in
	// (go-plugin's PLUGIN_UNIX_SOCKET_DIR). It must exist, and should be
	// a directory only the operator can enter: the socket file takes its
	// mode from the plugin's umask, so in a shared directory such as /tmp
	// other local users can reach it (mutual TLS still refuses them, but
	// they should not get that far). Default: the plugin's temporary
	// directory, which go-plugin picks.
	SocketDir string
}

// Client is a running transport plugin process. Its owner uses Transport
// and ends the process with Kill; nothing else ends it.
type Client struct {
	plugin    *plugin.Client
	transport sdk.Transport
	version   int
	// cmd is the process New started; nil for one attached to.
	cmd *exec.Cmd
}

// New starts the plugin process cfg describes, completes the handshake,
// and returns a Client whose Transport talks to it. It is the one way
// fanout starts a plugin, built in (the fanout binary re-executed) or not,
// and the way a test starts a built plugin. On error no process is left
// running; the error is a *VersionError when the plugin speaks another
// version of the protocol, wraps ErrHandshake when the process did not
// complete the handshake, and wraps ErrNoMutualTLS when the plugin cannot
// authenticate the channel.
//
// The channel is always authenticated both ways (go-plugin's AutoMTLS):
// New makes a one-use client certificate and passes it to the plugin in
// PLUGIN_CLIENT_CERT; the plugin serves TLS with a one-use certificate of
// its own, sent back in the handshake, and accepts no other client. A
// plugin built with sdk.Serve does this without asking; one that does not
// (its handshake carries no certificate) is refused before any call is
// made to it, since anyone on the machine who can reach its socket could
// drive it.
//
// New does not check what it starts: whoever chooses the binary verifies
// it first (fanout checks the sha256 pins and the lock file).
func New(cfg Config) (*Client, error) {
	if cfg.Cmd == nil {
		return nil, errors.New("start transport plugin: no command given")
	}
	path := cfg.Cmd.Path
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = defaultStartTimeout
	}
	// The parent's environment comes before what New sets, not after it
	// as go-plugin would add it (SkipHostEnv below): a fanout run by a
	// command of another fanout inherits that one's socket directory and
	// log level, which must not override its own.
	cfg.Cmd.Env = append(cfg.Cmd.Env[:len(cfg.Cmd.Env):len(cfg.Cmd.Env)], os.Environ()...)
	cfg.Cmd.Env = append(cfg.Cmd.Env, wire.LogLevelEnv+"="+logger.GetLevel().String())

	stderr := &stderrLog{}
	exited := func() error { return exitError(cfg.Cmd, stderr) }
	pcfg := &plugin.ClientConfig{
		HandshakeConfig: wire.Handshake,
		VersionedPlugins: wire.Versions(&wire.Plugin{Dial: func(done context.Context, conn *grpc.ClientConn) any {
			c := newGRPCClient(done, conn)
			c.exited = exited
			return c
		}}),
		// go-plugin prepares a command holding the handshake's
		// environment, and the runner starts cfg.Cmd with it (see
		// processRunner).
		RunnerFunc: func(l hclog.Logger, pcmd *exec.Cmd, sockets string) (runner.Runner, error) {
			if cfg.SocketDir != "" {
				// The directory go-plugin made for the socket, in
				// SocketDir: the plugin does not use it (see
				// newProcessRunner).
				_ = os.Remove(sockets) // empty; go-plugin's Kill removes it too
			}
			return newProcessRunner(l, cfg.Cmd, pcmd, cfg.SocketDir), nil
		},
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: cfg.SocketDir},
		SkipHostEnv:      true, // added above
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// The owner ends the process with Kill; go-plugin's global
		// CleanupClients must not do it behind the owner's back.
		Managed:      false,
		Logger:       logger,
		Stderr:       stderr,
		StartTimeout: cfg.StartTimeout,
		// See New's doc. go-plugin generates the client's certificate and
		// sets pcfg.TLSConfig from it, then adds the plugin's certificate
		// to it once the handshake brings one.
		AutoMTLS: true,
		// Fixed flow-control windows: gRPC's default grows them towards
		// 16 MiB per stream when the reader lags, which lets a fast
		// command's output pile up in this process instead of holding the
		// plugin (and, through SSH's own window, the remote command) back.
		GRPCDialOptions: wire.DialOptions(),
	}
	pc := plugin.NewClient(pcfg)
	if _, err := pc.Start(); err != nil {
		// Kill first: it waits for the process and its stderr, which the
		// error below reports.
		refuse(pc, cfg.Cmd)
		return nil, fmt.Errorf("start transport plugin %s: %w", path, startError(err, cfg, stderr))
	}
	if !pluginCertified(pcfg) {
		refuse(pc, cfg.Cmd)
		return nil, fmt.Errorf("start transport plugin %s: %w: %s", path, ErrNoMutualTLS, noMutualTLSDetail)
	}
	rpc, err := pc.Client()
	if err != nil {
		// Kill first: it waits for the process and its stderr, which the
		// error below reports.
		refuse(pc, cfg.Cmd)
		return nil, fmt.Errorf("start transport plugin %s: %w", path, startError(err, cfg, stderr))
	}
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		refuse(pc, cfg.Cmd)
		return nil, fmt.Errorf("start transport plugin %s: %w", path, err)
	}
	t, ok := raw.(sdk.Transport)
	if !ok {
		refuse(pc, cfg.Cmd)
		return nil, fmt.Errorf("start transport plugin %s: dispensed %T, not a Transport", path, raw)
	}
	return &Client{plugin: pc, transport: t, version: pc.NegotiatedVersion(), cmd: cfg.Cmd}, nil
}

// Transport returns the Transport served by the plugin process. It is safe
// for concurrent use. Once the process has exited, its calls fail with an
// error wrapping ErrPluginExited; calls in progress when it dies fail the
// same way, promptly.
func (c *Client) Transport() sdk.Transport { return c.transport }

// ProtocolVersion returns the transport protocol version negotiated with
// the plugin in the handshake.
func (c *Client) ProtocolVersion() int { return c.version }

// Exited reports whether the plugin process has exited.
func (c *Client) Exited() bool { return c.plugin.Exited() }

// Kill ends the plugin process: it asks the plugin to shut down, waits up
// to two seconds, then kills it, and returns once the process is gone and
// its logs have been read. A plugin that does not answer the request (a
// stopped or wedged process) is killed after killWait, with what it
// started in its session. Call Transport().Close first, so that the plugin
// can stop what it runs. Kill can safely be called more than once.
func (c *Client) Kill() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.plugin.Kill()
	}()
	if c.cmd == nil {
		<-done // attached: not ours to kill
		return
	}
	timer := time.NewTimer(killWait)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
	}
	// go-plugin asks the plugin to shut down with no deadline: a process
	// that never answers held Kill, and the fanout calling it, for ever.
	killSession(c.cmd)
	if c.cmd.Process != nil {
		_ = c.cmd.Process.Kill() // gone already: nothing to do
	}
	<-done
}

// killWait bounds how long Kill waits for go-plugin's polite shutdown
// (its two seconds, and the request before them) before killing.
const killWait = 5 * time.Second

// pluginCertified reports whether the plugin sent its certificate in the
// handshake, which go-plugin then made the only one the client trusts.
// go-plugin does not refuse a plugin that sent none: it would dial with
// the system's roots, and fail each call with a TLS error that says
// nothing of why.
func pluginCertified(pcfg *plugin.ClientConfig) bool {
	return pcfg.TLSConfig != nil && pcfg.TLSConfig.RootCAs != nil
}

// noMutualTLSDetail says what a plugin refused for want of mutual TLS
// must do.
const noMutualTLSDetail = "its handshake carried no server certificate, so fanout cannot authenticate the channel " +
	"and anyone on this machine who reaches the plugin's socket could drive it; " +
	"rebuild the plugin with a current fanout sdk (sdk.Serve serves mutual TLS), or, for a plugin not written with it, " +
	"implement go-plugin's AutoMTLS: accept only the client certificate given in PLUGIN_CLIENT_CERT and send your own, " +
	"base64 DER, as the sixth field of the handshake line"

// pluginVersionRE finds the version a plugin offered in go-plugin's
// "incompatible API version" error, which carries it only as text.
var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

// startError turns go-plugin's start errors, written for plugin developers,
// into ones that tell an operator what is wrong with the binary. go-plugin
// offers no typed errors for them, so they are recognised by their text;
// an unrecognised error passes through as is.
func startError(err error, cfg Config, stderr *stderrLog) error {
	path := cfg.Cmd.Path
	msg := err.Error()
	switch {
	case strings.Contains(msg, "incompatible API version with plugin"):
		if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			v, _ := strconv.Atoi(m[1])
			return &VersionError{Path: path, Plugin: v, Host: []int{wire.ProtocolVersion}}
		}
	case strings.Contains(msg, "plugin exited before we could connect"),
		strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		return fmt.Errorf("%w: the plugin exited before completing it%s", ErrHandshake, processDetail(cfg.Cmd, stderr))
	case strings.HasPrefix(msg, "Unrecognized remote plugin message: "):
		line, _, _ := strings.Cut(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n")
		return fmt.Errorf("%w: the plugin wrote %q to its standard output, where only the handshake may go "+
			"(a plugin built with sdk.Serve logs to standard error)", ErrHandshake, line)
	case strings.Contains(msg, "error parsing server cert"):
		return fmt.Errorf("%w: %s: %s", ErrNoMutualTLS, msg, noMutualTLSDetail)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("%w: no handshake within %s; is it a fanout transport plugin built with sdk.Serve?",
			ErrHandshake, cfg.StartTimeout)
	}
	return err
}

// exitError is the error of a call to a plugin whose process has exited.
// Only call it once the process is known to have exited: it reads the
// process state that waiting for it recorded.
func exitError(cmd *exec.Cmd, stderr *stderrLog) error {
	return fmt.Errorf("%w%s", ErrPluginExited, processDetail(cmd, stderr))
}

// processDetail says how a plugin process ended and what it last said on
// standard error outside its JSON logs: " (exit status 2): panic: boom".
func processDetail(cmd *exec.Cmd, stderr *stderrLog) string {
	var b strings.Builder
	if ps := cmd.ProcessState; ps != nil {
		fmt.Fprintf(&b, " (%s)", ps)
	}
	if s := stderr.summary(); s != "" {
		fmt.Fprintf(&b, ": %s", s)
	}
	return b.String()
}

// refuse ends a plugin fanout will not use, and what it started: Kill
// waits for the process and for its stderr, which a child it left holding
// the pipe (a shell script's `sleep`) would keep open, and the refusal
// waiting with it. A plugin started in a session of its own (as fanout's
// launcher starts them) has its session's processes killed first.
func refuse(pc *plugin.Client, cmd *exec.Cmd) {
	killSession(cmd)
	pc.Kill()
}

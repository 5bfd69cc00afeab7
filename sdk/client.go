package sdk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ClientConfig says how to launch a transport plugin process.
type ClientConfig struct {
	// Cmd is the plugin's command, not yet started; required. NewClient
	// starts it and adds to its Env (the parent's environment, the
	// handshake and the log level); it must not be reused.
	Cmd *exec.Cmd

	// Logger receives the client's logs and the plugin's, which the plugin
	// writes as JSON to its stderr and the client re-emits here. The
	// plugin is told this logger's level, so it sends only what would be
	// shown. Default: no logging.
	Logger hclog.Logger

	// SHA256, when set, is the expected SHA-256 of the executable at
	// Cmd.Path, in hexadecimal; NewClient refuses to start a binary that
	// does not match. Empty means no check.
	SHA256 string

	// StartTimeout bounds how long the plugin has to start and complete
	// the handshake. Default: one minute.
	StartTimeout time.Duration
}

// Client is a running transport plugin process. Its owner uses Transport
// and ends the process with Kill; nothing else ends it.
type Client struct {
	plugin    *plugin.Client
	transport Transport
}

// NewClient starts the plugin process cfg describes, completes the
// handshake, and returns a Client whose Transport talks to it. On error no
// process is left running.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Cmd == nil {
		return nil, errors.New("start transport plugin: no command given")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	var secure *plugin.SecureConfig
	if cfg.SHA256 != "" {
		sum, err := hex.DecodeString(cfg.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("start transport plugin %s: invalid sha256 %q: want %d hexadecimal digits",
				cfg.Cmd.Path, cfg.SHA256, 2*sha256.Size)
		}
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	cfg.Cmd.Env = append(cfg.Cmd.Env, logLevelEnv+"="+logger.GetLevel().String())

	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(nil),
		Cmd:              cfg.Cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// The owner ends the process with Kill; go-plugin's global
		// CleanupClients must not do it behind the owner's back.
		Managed:      false,
		Logger:       logger,
		StartTimeout: cfg.StartTimeout,
	})
	rpc, err := pc.Client()
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("start transport plugin %s: %w", cfg.Cmd.Path, err)
	}
	raw, err := rpc.Dispense(PluginName)
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("start transport plugin %s: %w", cfg.Cmd.Path, err)
	}
	t, ok := raw.(Transport)
	if !ok {
		pc.Kill()
		return nil, fmt.Errorf("start transport plugin %s: dispensed %T, not a Transport", cfg.Cmd.Path, raw)
	}
	return &Client{plugin: pc, transport: t}, nil
}

// Transport returns the Transport served by the plugin process. It is safe
// for concurrent use. Once the process has exited, its calls fail with
// ErrPluginExited; calls in progress when it dies fail the same way,
// promptly.
func (c *Client) Transport() Transport { return c.transport }

// Exited reports whether the plugin process has exited.
func (c *Client) Exited() bool { return c.plugin.Exited() }

// Kill ends the plugin process: it asks the plugin to shut down, waits up
// to two seconds, then kills it, and returns once the process is gone and
// its logs have been read. Call Transport().Close first, so that the plugin
// can stop what it runs. Kill can safely be called more than once.
func (c *Client) Kill() { c.plugin.Kill() }

package ssh

import (
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
)

// HostKeyChecking is the policy for host keys not in known_hosts. A key
// that differs from the one recorded is refused under every policy.
type HostKeyChecking string

// The host_key_checking values. There is deliberately no "off".
const (
	// Strict refuses a host whose key is not in known_hosts (default).
	Strict HostKeyChecking = "strict"
	// AcceptNew records an unknown host's key in the first known_hosts
	// file and connects; a changed key is still refused.
	AcceptNew HostKeyChecking = "accept-new"
)

// Defaults of the transport settings.
const (
	DefaultMaxSessions       = 10
	DefaultMaxConnects       = 32
	DefaultConnectTimeout    = 10 * time.Second
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultKeepaliveCountMax = 3
)

// Config is the transport block's settings, decoded. A zero or empty field
// is unset: for User, Port, IdentityFile, ProxyJump and AgentSocket that
// leaves the choice to ~/.ssh/config, then to OpenSSH's defaults.
type Config struct {
	// User logs in on every host unless the host or ssh_config says
	// otherwise; default: ssh_config's User, then the local user.
	User string
	// Port is the SSH port; default ssh_config's Port, then 22.
	Port int
	// IdentityFile is a private key file used when the agent has no key
	// the server accepts. An encrypted one is unlocked with a passphrase
	// the operator is asked for once per run.
	IdentityFile string
	// KnownHosts are known_hosts files checked in addition to the user's
	// and the system's (ssh_config's UserKnownHostsFile and
	// GlobalKnownHostsFile, else OpenSSH's defaults). The first one is
	// where accept-new records keys; without any, the user's first is.
	KnownHosts []string
	// HostKeyChecking is Strict (default) or AcceptNew.
	HostKeyChecking HostKeyChecking
	// hostKeyCheckingSet is whether the block set HostKeyChecking; if
	// not, ssh_config's StrictHostKeyChecking decides for each host.
	hostKeyCheckingSet bool
	// connectTimeoutSet is whether the block set ConnectTimeout; if not,
	// ssh_config's ConnectTimeout, when it has one, is each host's.
	connectTimeoutSet bool
	// MaxSessions bounds the commands running at once on one host's
	// connection (default 10, OpenSSH's MaxSessions); more wait.
	MaxSessions int
	// MaxConnects bounds the connections being set up at once across all
	// hosts (default 32).
	MaxConnects int
	// ConnectTimeout bounds TCP connect, handshake and authentication of
	// one connection (default 10s).
	ConnectTimeout time.Duration
	// KeepaliveInterval is the period of keepalive@openssh.com requests
	// (default: ssh_config's ServerAliveInterval, then 15s).
	KeepaliveInterval time.Duration
	// KeepaliveCountMax is how many intervals a keepalive may go
	// unanswered before the connection is closed (default: ssh_config's
	// ServerAliveCountMax, then 3, as ssh): a network that stalls for
	// less does not cut off, and so stop, the commands on it.
	KeepaliveCountMax int
	// keepaliveIntervalSet and keepaliveCountMaxSet are whether the
	// block set them; if not, ssh_config decides for each host.
	keepaliveIntervalSet, keepaliveCountMaxSet bool
	// SSHConfig is the ssh_config file to read (default ~/.ssh/config,
	// when it exists).
	SSHConfig string
	// AgentSocket is the ssh-agent socket (default: IdentityAgent from
	// ssh_config, then $SSH_AUTH_SOCK).
	AgentSocket string
	// ProxyJump is a comma-separated list of jump hosts ([user@]host[:port])
	// for every host, overriding ssh_config's ProxyJump.
	ProxyJump string
	// ForwardAgent forwards the agent to every host's commands, as ssh
	// -A does; default: ssh_config's ForwardAgent, else not.
	ForwardAgent bool
	// forwardAgentSet is whether the block set ForwardAgent; if not,
	// ssh_config's ForwardAgent decides for each host.
	forwardAgentSet bool
	// Raw sends every host's commands as they are, to be run by the
	// login shell or the device's own command line, as ssh HOST CMD and
	// Ansible's raw module do, without fanout's /bin/sh and watcher (see
	// execRaw); a host block's raw wins.
	Raw bool
}

// DefaultConfig returns the settings of an empty transport block.
func DefaultConfig() Config {
	return Config{
		HostKeyChecking:   Strict,
		MaxSessions:       DefaultMaxSessions,
		MaxConnects:       DefaultMaxConnects,
		ConnectTimeout:    DefaultConnectTimeout,
		KeepaliveInterval: DefaultKeepaliveInterval,
		KeepaliveCountMax: DefaultKeepaliveCountMax,
	}
}

// hostSettings are a host block's settings for this transport; empty or
// zero means unset.
type hostSettings struct {
	User         string
	Port         int
	IdentityFile string
	ProxyJump    string
	// Raw, when rawSet, is the host's raw, over the transport's.
	Raw, rawSet bool
}

// Attribute names, as written in HCL.
const (
	attrUser              = "user"
	attrPort              = "port"
	attrIdentityFile      = "identity_file"
	attrKnownHosts        = "known_hosts"
	attrHostKeyChecking   = "host_key_checking"
	attrMaxSessions       = "max_sessions"
	attrMaxConnects       = "max_connects"
	attrConnectTimeout    = "connect_timeout"
	attrKeepaliveInterval = "keepalive_interval"
	attrKeepaliveCountMax = "keepalive_count_max"
	attrSSHConfig         = "ssh_config"
	attrAgentSocket       = "agent_socket"
	attrProxyJump         = "proxy_jump"
	attrForwardAgent      = "forward_agent"
	attrRaw               = "raw"
)

// decodeConfig reads a transport block's object value. Unknown values are
// treated as unset; every problem is a diagnostic on its attribute.
func decodeConfig(v cty.Value) (Config, sdk.Diagnostics) {
	cfg := DefaultConfig()
	var diags sdk.Diagnostics
	d := decoder{obj: v, diags: &diags}

	cfg.User = d.str(attrUser)
	if p, ok := d.int(attrPort); ok {
		if p < 1 || p > 65535 {
			d.errorf(attrPort, "Invalid port", "The port must be between 1 and 65535, not %d.", p)
		}
		cfg.Port = p
	}
	cfg.IdentityFile = d.str(attrIdentityFile)
	if cfg.IdentityFile != "" {
		if _, err := os.Stat(expandHome(cfg.IdentityFile)); err != nil {
			d.errorf(attrIdentityFile, "Identity file not readable",
				"The identity_file %q cannot be read: %v. Give the path of an existing private key, or remove the setting to use the ssh-agent.", cfg.IdentityFile, err)
		}
	}
	cfg.KnownHosts = d.strOrList(attrKnownHosts)
	for i, f := range cfg.KnownHosts {
		if strings.TrimSpace(f) == "" {
			d.errorf(attrKnownHosts, "Empty known_hosts path", "Element %d of known_hosts is empty; give the path of a known_hosts file.", i)
		}
	}
	if s := d.str(attrHostKeyChecking); s != "" {
		switch HostKeyChecking(s) {
		case Strict, AcceptNew:
			cfg.HostKeyChecking, cfg.hostKeyCheckingSet = HostKeyChecking(s), true
		default:
			detail := fmt.Sprintf("host_key_checking must be %q (refuse hosts whose key is not in known_hosts) or %q (record the key of a host seen for the first time); %q is not one of them.", Strict, AcceptNew, s)
			switch strings.ToLower(s) {
			case "off", "no", "false", "none", "ignore", "disabled", "insecure":
				detail += " Host key checking cannot be turned off: a changed or unverified host key is how a man-in-the-middle shows. To start trusting new hosts, use \"accept-new\" or add their keys to known_hosts (ssh-keyscan)."
			}
			d.errorf(attrHostKeyChecking, "Invalid host_key_checking", "%s", detail)
		}
	}
	if n, ok := d.int(attrMaxSessions); ok {
		if n < 1 {
			d.errorf(attrMaxSessions, "Invalid max_sessions", "max_sessions must be at least 1, not %d. It should not exceed the servers' sshd MaxSessions (10 by default).", n)
		}
		cfg.MaxSessions = n
	}
	if n, ok := d.int(attrMaxConnects); ok {
		if n < 1 {
			d.errorf(attrMaxConnects, "Invalid max_connects", "max_connects must be at least 1, not %d.", n)
		}
		cfg.MaxConnects = n
	}
	if dur, ok := d.duration(attrConnectTimeout); ok {
		cfg.ConnectTimeout, cfg.connectTimeoutSet = dur, true
	}
	if dur, ok := d.duration(attrKeepaliveInterval); ok {
		cfg.KeepaliveInterval, cfg.keepaliveIntervalSet = dur, true
	}
	if n, ok := d.int(attrKeepaliveCountMax); ok {
		if n < 1 {
			d.errorf(attrKeepaliveCountMax, "Invalid keepalive_count_max", "keepalive_count_max must be at least 1, not %d: it is how many keepalive intervals may pass unanswered before the connection is closed.", n)
		}
		cfg.KeepaliveCountMax, cfg.keepaliveCountMaxSet = n, true
	}
	cfg.SSHConfig = d.str(attrSSHConfig)
	cfg.AgentSocket = d.str(attrAgentSocket)
	cfg.ProxyJump = d.str(attrProxyJump)
	if cfg.ProxyJump != "" {
		if _, err := parseJumpList(cfg.ProxyJump); err != nil {
			d.errorf(attrProxyJump, "Invalid proxy_jump", "%v. Write jump hosts as [user@]host[:port], separated by commas.", err)
		}
	}
	cfg.ForwardAgent, cfg.forwardAgentSet = d.bool(attrForwardAgent)
	cfg.Raw, _ = d.bool(attrRaw)
	return cfg, diags
}

// decodeHostSettings reads a host block's object value. Its problems are
// returned as one error naming the attribute: Connect has no diagnostics.
func decodeHostSettings(v cty.Value) (hostSettings, error) {
	hs, diags := decodeHost(v)
	return hs, diags.Err()
}

// decodeHost reads a host block's object value, its problems as
// diagnostics on their attribute (ValidateHost's, at plan and validate).
func decodeHost(v cty.Value) (hostSettings, sdk.Diagnostics) {
	var diags sdk.Diagnostics
	d := decoder{obj: v, diags: &diags}
	var hs hostSettings
	hs.User = d.str(attrUser)
	if p, ok := d.int(attrPort); ok {
		if p < 1 || p > 65535 {
			d.errorf(attrPort, "Invalid port", "The port must be between 1 and 65535, not %d.", p)
		}
		hs.Port = p
	}
	hs.IdentityFile = d.str(attrIdentityFile)
	hs.ProxyJump = d.str(attrProxyJump)
	if hs.ProxyJump != "" {
		if _, err := parseJumpList(hs.ProxyJump); err != nil {
			d.errorf(attrProxyJump, "Invalid proxy_jump", "%v. Write jump hosts as [user@]host[:port], separated by commas.", err)
		}
	}
	hs.Raw, hs.rawSet = d.bool(attrRaw)
	return hs, diags
}

// transportSchema declares the transport block's attributes.
func transportSchema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{
		{Name: attrUser, Type: cty.String, Description: "Login user for every host (default: ssh_config User, then the local user)."},
		{Name: attrPort, Type: cty.Number, Description: "SSH port (default: ssh_config Port, then 22)."},
		{Name: attrIdentityFile, Type: cty.String, Description: "Private key tried after the agent's keys (default: ssh_config IdentityFile, then ~/.ssh/id_*). An encrypted key's passphrase is asked for once, on the terminal."},
		// Any type, checked by decodeConfig: one path or a list of them.
		{Name: attrKnownHosts, Type: cty.DynamicPseudoType, Description: "A known_hosts file, or a list of them, checked before ssh's (UserKnownHostsFile and GlobalKnownHostsFile, or ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts); accept-new records keys in the first."},
		{Name: attrHostKeyChecking, Type: cty.String, Description: `"strict" (default): refuse hosts whose key is unknown; "accept-new": record unknown keys. A changed key is always refused.`},
		{Name: attrMaxSessions, Type: cty.Number, Description: "Commands run at once on one host's connection (default 10); more wait."},
		{Name: attrMaxConnects, Type: cty.Number, Description: "Connections set up at once across all hosts (default 32)."},
		{Name: attrConnectTimeout, Type: cty.String, Description: `Bound on TCP connect + handshake + authentication, a Go duration (default "10s").`},
		{Name: attrKeepaliveInterval, Type: cty.String, Description: `Period of keepalives (default: ssh_config ServerAliveInterval, then "15s").`},
		{Name: attrKeepaliveCountMax, Type: cty.Number, Description: "Keepalive intervals that may pass unanswered before the connection is closed, and the commands on it stopped (default: ssh_config ServerAliveCountMax, then 3)."},
		{Name: attrSSHConfig, Type: cty.String, Description: "ssh_config file to read (default ~/.ssh/config)."},
		{Name: attrAgentSocket, Type: cty.String, Description: "ssh-agent socket (default: ssh_config IdentityAgent, then $SSH_AUTH_SOCK)."},
		{Name: attrProxyJump, Type: cty.String, Description: "Jump hosts for every host, [user@]host[:port] separated by commas (default: ssh_config ProxyJump)."},
		{Name: attrForwardAgent, Type: cty.Bool, Description: "Forward the ssh-agent to the hosts' commands, as ssh -A (default: ssh_config ForwardAgent, else false). Whoever is root on a host can use the agent's keys while fanout is connected."},
		{Name: attrRaw, Type: cty.Bool, Description: "Send commands as they are, run by the login shell or the device's own command line, as ssh HOST CMD and Ansible's raw module do, for hosts without /bin/sh (network devices). Given up: commands under /bin/sh, env other than FANOUT_* (sent as SSH env requests, which servers take only when their AcceptEnv lists them), and stopping: Ctrl-C and timeouts send SSH signal requests, which not every server delivers, and a command whose connection drops keeps running. Default false."},
	}}
}

// hostSchema declares the attributes a host block using this transport
// may set.
func hostSchema() sdk.Schema {
	return sdk.Schema{Attributes: []sdk.Attribute{
		{Name: attrUser, Type: cty.String, Description: "Login user on this host."},
		{Name: attrPort, Type: cty.Number, Description: "SSH port of this host."},
		{Name: attrIdentityFile, Type: cty.String, Description: "Private key for this host, tried after the agent's keys."},
		{Name: attrProxyJump, Type: cty.String, Description: "Jump hosts for this host, overriding the transport's and ssh_config's."},
		{Name: attrRaw, Type: cty.Bool, Description: "Send this host's commands as they are, over the transport's raw (see the transport's raw)."},
	}}
}

// decoder reads attributes of a cty object, treating a missing attribute,
// a null and an unknown value as unset.
type decoder struct {
	obj   cty.Value
	diags *sdk.Diagnostics
}

func (d decoder) errorf(attr, summary, format string, args ...any) {
	*d.diags = append(*d.diags, sdk.Diagnostic{
		Severity:  sdk.Error,
		Summary:   summary,
		Detail:    fmt.Sprintf(format, args...),
		Attribute: sdk.AttributePath{attr},
	})
}

func (d decoder) get(attr string) (cty.Value, bool) {
	if d.obj == cty.NilVal || d.obj.IsNull() || !d.obj.IsKnown() {
		return cty.NilVal, false
	}
	ty := d.obj.Type()
	if !(ty.IsObjectType() && ty.HasAttribute(attr)) && !ty.IsMapType() {
		return cty.NilVal, false
	}
	var v cty.Value
	if ty.IsMapType() {
		if !d.obj.HasIndex(cty.StringVal(attr)).True() {
			return cty.NilVal, false
		}
		v = d.obj.Index(cty.StringVal(attr))
	} else {
		v = d.obj.GetAttr(attr)
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

func (d decoder) str(attr string) string {
	v, ok := d.get(attr)
	if !ok {
		return ""
	}
	if v.Type() != cty.String {
		d.errorf(attr, "Invalid "+attr, "%s must be a string.", attr)
		return ""
	}
	return v.AsString()
}

func (d decoder) int(attr string) (int, bool) {
	v, ok := d.get(attr)
	if !ok {
		return 0, false
	}
	if v.Type() != cty.Number {
		d.errorf(attr, "Invalid "+attr, "%s must be a whole number.", attr)
		return 0, false
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if acc != big.Exact || i < -1<<31 || i > 1<<31-1 {
		d.errorf(attr, "Invalid "+attr, "%s must be a whole number, not %s.", attr, bf.Text('g', -1))
		return 0, false
	}
	return int(i), true
}

func (d decoder) bool(attr string) (value, ok bool) {
	v, ok := d.get(attr)
	if !ok {
		return false, false
	}
	if v.Type() != cty.Bool {
		d.errorf(attr, "Invalid "+attr, "%s must be true or false.", attr)
		return false, false
	}
	return v.True(), true
}

func (d decoder) duration(attr string) (time.Duration, bool) {
	s := d.str(attr)
	if s == "" {
		return 0, false
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur <= 0 {
		d.errorf(attr, "Invalid "+attr, "%s must be a positive duration such as \"10s\" or \"1m30s\", not %q.", attr, s)
		return 0, false
	}
	return dur, true
}

// strOrList reads a string or a list of strings: `known_hosts = "f"` is
// how most people write one file.
func (d decoder) strOrList(attr string) []string {
	v, ok := d.get(attr)
	if !ok {
		return nil
	}
	ty := v.Type()
	if ty == cty.String {
		return []string{v.AsString()}
	}
	if !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		d.errorf(attr, "Invalid "+attr, "%s must be a path or a list of paths (strings), not %s.", attr, ty.FriendlyName())
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.IsKnown() || e.Type() != cty.String {
			d.errorf(attr, "Invalid "+attr, "%s must be a path or a list of paths (strings).", attr)
			return nil
		}
		out = append(out, e.AsString())
	}
	return out
}

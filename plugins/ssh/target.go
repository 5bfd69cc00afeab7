package ssh

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fanout/fanout/internal/userhome"
)

// target is everything needed to dial one SSH server: a host of the
// configuration or a jump host, with HCL settings, ssh_config and defaults
// already merged.
type target struct {
	// name is how messages call it: the host's name, or "jump host X".
	name string
	// alias is what ssh_config's Host patterns were matched against.
	alias    string
	hostname string
	port     int
	user     string
	// identityFiles are tried after the agent; explicit ones were set by
	// the operator (a missing one is worth saying), the others are
	// OpenSSH's defaults.
	identityFiles    []string
	identityExplicit bool
	// certFiles are ssh_config's CertificateFile: certificates offered
	// with the key they certify, from the agent or an identity file.
	certFiles []string
	// identitiesOnly (ssh_config's IdentitiesOnly) offers only the keys
	// of identityFiles, from the agent or the files, no other agent key.
	identitiesOnly bool
	// agentSocket is empty when no agent is configured; agentSource says
	// where it came from, for messages.
	agentSocket string
	agentSource string
	// jumps are the hops to go through, first to last.
	jumps []jumpSpec
	// hostKeys checks the key the host offers.
	hostKeys *hostKeyChecker
	// proxyCommand, tokens expanded, carries the connection when set
	// (ssh_config's ProxyCommand; see proxyConn).
	proxyCommand string
	// hostKeyAlias (ssh_config's HostKeyAlias) is the name its key is
	// looked up and recorded under in known_hosts, in place of hostname.
	hostKeyAlias string
	// connectTimeout bounds its TCP connect, handshake and login.
	connectTimeout time.Duration
	// network is what it is dialed over: "tcp", or "tcp4" or "tcp6" as
	// ssh_config's AddressFamily inet or inet6 ask.
	network string
	// keepaliveInterval (zero: none) and keepaliveCountMax are its
	// keepalives' (see hostConn.keepalive).
	keepaliveInterval time.Duration
	keepaliveCountMax int
	// algos are the algorithms it is offered, ssh_config's lists.
	algos algorithms
	// forwardAgent is the agent socket its commands get forwarded, as
	// ssh -A gives them; empty: none.
	forwardAgent string
	// raw is whether its commands are sent as they are (see execRaw).
	raw bool
	// revokedHostKeys is ssh_config's RevokedHostKeys file: host keys
	// (and CAs) never to trust; "" for none.
	revokedHostKeys string
}

// addr is "hostname:port", as dialled.
func (tg *target) addr() string { return net.JoinHostPort(tg.hostname, strconv.Itoa(tg.port)) }

// keyAddr is "hostname:port" as looked up in known_hosts, or HostKeyAlias
// with port 22 when set: ssh looks the alias up alone, without the port,
// which is how knownhosts names an address on port 22.
func (tg *target) keyAddr() string {
	if tg.hostKeyAlias != "" {
		return net.JoinHostPort(tg.hostKeyAlias, "22")
	}
	return tg.addr()
}

// jumpSpec is one hop of a ProxyJump list.
type jumpSpec struct {
	user string
	host string
	port int // 0: unset
}

func (j jumpSpec) String() string {
	s := j.host
	if j.port != 0 {
		s = net.JoinHostPort(j.host, strconv.Itoa(j.port))
	}
	if j.user != "" {
		s = j.user + "@" + s
	}
	return s
}

// parseJumpList parses a ProxyJump value: "none", or [user@]host[:port] and
// ssh://[user@]host[:port] separated by commas.
func parseJumpList(s string) ([]jumpSpec, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var out []jumpSpec
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(part), "ssh://"))
		if part == "" {
			return nil, fmt.Errorf("empty jump host in %q", s)
		}
		var j jumpSpec
		if at := strings.LastIndex(part, "@"); at >= 0 {
			j.user, part = part[:at], part[at+1:]
			if j.user == "" {
				return nil, fmt.Errorf("empty user in jump host %q", part)
			}
		}
		host, port, err := net.SplitHostPort(part)
		if err != nil {
			// no port, or a bare IPv6 address
			host, port = strings.Trim(part, "[]"), ""
		}
		if host == "" {
			return nil, fmt.Errorf("empty host in jump host %q", part)
		}
		j.host = host
		if port != "" {
			p, err := strconv.Atoi(port)
			if err != nil || p < 1 || p > 65535 {
				return nil, fmt.Errorf("invalid port %q in jump host %q", port, part)
			}
			j.port = p
		}
		out = append(out, j)
	}
	return out, nil
}

// environment is what the transport reads from the process: overridden in
// tests so that the machine's agent and keys stay out of them.
type environment struct {
	getenv func(string) string
	home   string
	user   string
	// systemSSHConfig is the system-wide ssh_config file, read after the
	// user's; "" reads none.
	systemSSHConfig string
	// systemKnownHosts are the system-wide known_hosts files checked when
	// ssh_config names none (GlobalKnownHostsFile).
	systemKnownHosts []string
}

func osEnvironment() environment {
	env := environment{getenv: os.Getenv, systemSSHConfig: SystemSSHConfig, systemKnownHosts: SystemKnownHosts}
	env.home, _ = userhome.Dir()
	if u, err := user.Current(); err == nil {
		env.user = u.Username
	} else {
		env.user = os.Getenv("USER")
	}
	return env
}

// expandTilde replaces a leading ~ with the home directory.
func (e environment) expandTilde(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		return e.home + p[1:]
	}
	return p
}

// SystemKnownHosts are OpenSSH's default GlobalKnownHostsFile.
var SystemKnownHosts = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}

// resolver merges HCL settings, ssh_config and defaults into targets.
type resolver struct {
	cfg  Config
	ssh  *sshConfig // nil: no ssh_config file
	env  environment
	keys *hostKeyCheckers
}

// host resolves a configuration host. Precedence, per setting: the host
// block, the transport block, ssh_config, OpenSSH's default.
func (r *resolver) host(name, address string, hs hostSettings) (*target, error) {
	alias := address
	if alias == "" {
		alias = name
	}
	tg := &target{name: name, alias: alias}
	// The HCL user is given to ssh_config as `ssh -l` gives it: Match
	// user sees it.
	o := r.ssh.lookup(alias, firstNonEmpty(hs.User, r.cfg.User), r.env.user)
	if err := r.common(tg, o); err != nil {
		return nil, fmt.Errorf("host %s: %w", name, err)
	}

	switch {
	case hs.Port != 0:
		tg.port = hs.Port
	case r.cfg.Port != 0:
		tg.port = r.cfg.Port
	}
	tg.user = firstNonEmpty(hs.User, r.cfg.User, o.user, r.env.user)
	if tg.port == 0 {
		p, err := sshPort(alias, o)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", name, err)
		}
		tg.port = p
	}
	switch {
	case hs.IdentityFile != "":
		tg.identityFiles, tg.identityExplicit = []string{r.expand(hs.IdentityFile, tg)}, true
	case r.cfg.IdentityFile != "":
		tg.identityFiles, tg.identityExplicit = []string{r.expand(r.cfg.IdentityFile, tg)}, true
	default:
		r.sshIdentities(tg, o)
	}
	js, err := parseJumpList(firstNonEmpty(hs.ProxyJump, r.cfg.ProxyJump, o.proxyJump))
	if err != nil {
		return nil, fmt.Errorf("host %s: proxy_jump: %w", name, err)
	}
	if tg.jumps, err = r.followJumps(js); err != nil {
		return nil, fmt.Errorf("host %s: %w", name, err)
	}
	// ssh_config's ProxyCommand, unless proxy_jump says how to get there.
	r.late(tg, o, hs.ProxyJump == "" && r.cfg.ProxyJump == "")
	r.forwardAgent(tg, o)
	tg.raw = r.cfg.Raw
	if hs.rawSet {
		tg.raw = hs.Raw
	}
	return tg, nil
}

// forwardAgent sets the agent tg's commands get: forward_agent's choice
// of the agent tg logs in with, else ssh_config's ForwardAgent: yes (that
// agent), no, or the socket to forward, a path or $VARIABLE, as ssh reads
// it. Jump hosts run no command and get none, as with ssh -J.
func (r *resolver) forwardAgent(tg *target, o sshOptions) {
	if r.cfg.forwardAgentSet {
		if r.cfg.ForwardAgent {
			tg.forwardAgent = tg.agentSocket
		}
		return
	}
	switch fa := strings.TrimSpace(o.forwardAgent); {
	case isYes(fa):
		tg.forwardAgent = tg.agentSocket
	case fa == "" || strings.EqualFold(fa, "no") || strings.EqualFold(fa, "false"):
	default:
		if strings.HasPrefix(fa, "$") {
			fa = r.env.getenv(fa[1:])
		}
		if fa != "" {
			tg.forwardAgent = r.expand(fa, tg)
		}
	}
}

// maxJumps bounds a chain of jump hosts, ProxyJumps followed included.
const maxJumps = 16

// followJumps returns the hops of jumps with, before the first, the hops
// of its own ProxyJump, and so on, as ssh reaches a jump host with its
// own ssh_config (bastion2's ProxyJump bastion1 puts bastion1 first). A
// later hop is reached through the one before it, so only the first's is
// followed. A loop, or more than maxJumps hops, is an error.
func (r *resolver) followJumps(jumps []jumpSpec) ([]jumpSpec, error) {
	seen := map[string]bool{}
	for len(jumps) > 0 {
		first := jumps[0]
		o := r.ssh.lookup(first.host, first.user, r.env.user)
		pj := strings.TrimSpace(o.proxyJump)
		if pj == "" || strings.EqualFold(pj, "none") {
			return jumps, nil
		}
		if seen[first.host] {
			return nil, fmt.Errorf("jump host %s: its ProxyJump leads back to it", first.host)
		}
		seen[first.host] = true
		more, err := parseJumpList(pj)
		if err != nil {
			return nil, fmt.Errorf("jump host %s: ProxyJump: %w", first.host, err)
		}
		if jumps = append(more, jumps...); len(jumps) > maxJumps {
			return nil, fmt.Errorf("more than %d jump hosts, ProxyJumps followed", maxJumps)
		}
	}
	return jumps, nil
}

// jump resolves a jump host. Its own ssh_config entry applies as for ssh
// -J; the transport's identity_file is used only where neither the jump
// spec nor ssh_config says, and its port and user never (they are the
// targets'). The first hop's own ProxyJump puts its hops first (see
// followJumps), and its own ProxyCommand reaches it.
func (r *resolver) jump(j jumpSpec) (*target, error) {
	tg := &target{name: "jump host " + j.String(), alias: j.host}
	o := r.ssh.lookup(j.host, j.user, r.env.user)
	if err := r.common(tg, o); err != nil {
		return nil, fmt.Errorf("%s: %w", tg.name, err)
	}
	// As ssh's: -l and the transport's user are the destination's; a
	// bastion takes personal accounts.
	tg.user = firstNonEmpty(j.user, o.user, r.env.user)
	tg.port = j.port
	if tg.port == 0 {
		p, err := sshPort(j.host, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tg.name, err)
		}
		tg.port = p
	}
	if len(o.identityFiles) == 0 && r.cfg.IdentityFile != "" {
		tg.identityFiles, tg.identityExplicit = []string{r.expand(r.cfg.IdentityFile, tg)}, true
	} else {
		r.sshIdentities(tg, o)
	}
	// Its ProxyCommand reaches it when it is the first hop, as `ssh -W`
	// to it would; a later hop is reached through the one before.
	r.late(tg, o, true)
	return tg, nil
}

// late fills what ssh_config gives tg with tokens of the host name, user
// and port, known by now: its known_hosts checker, its certificate files
// and, when proxyCommand, its ProxyCommand.
func (r *resolver) late(tg *target, o sshOptions, proxyCommand bool) {
	r.knownHosts(tg, o)
	tg.certFiles = r.expandFiles(o.certFiles, tg)
	if pc := strings.TrimSpace(o.proxyCommand); proxyCommand && pc != "" && pc != "none" {
		tg.proxyCommand = r.expandProxyCommand(pc, tg)
	}
}

// knownHosts gives tg the checker of its host key, as ssh would check it:
// the known_hosts setting's files first, then ssh_config's
// UserKnownHostsFile (else ~/.ssh/known_hosts and known_hosts2), then its
// GlobalKnownHostsFile (else /etc/ssh/ssh_known_hosts and
// ssh_known_hosts2); "none" lists no file. A new key is recorded in the
// setting's first file, else the user's first, never a system one. The
// policy is host_key_checking when set, else ssh_config's
// StrictHostKeyChecking: yes and ask are strict (there is no one to ask),
// accept-new, no and off accept a new key (recording it); a changed key
// is refused whatever either says. HashKnownHosts records it hashed.
func (r *resolver) knownHosts(tg *target, o sshOptions) {
	var files []string
	for _, f := range r.cfg.KnownHosts {
		files = append(files, r.env.expandTilde(f))
	}
	user := r.expandFiles(o.userKnownHosts, tg)
	if o.userKnownHosts == nil && r.env.home != "" {
		user = []string{filepath.Join(r.env.home, ".ssh", "known_hosts"), filepath.Join(r.env.home, ".ssh", "known_hosts2")}
	}
	global := r.expandFiles(o.globalKnownHosts, tg)
	if o.globalKnownHosts == nil {
		global = r.env.systemKnownHosts
	}
	var record string
	switch {
	case len(files) > 0:
		record = files[0]
	case len(user) > 0:
		record = user[0]
	}
	files = append(append(files, user...), global...)
	policy := r.cfg.HostKeyChecking
	if !r.cfg.hostKeyCheckingSet {
		switch strings.ToLower(strings.TrimSpace(o.strictHostKeyChecking)) {
		case "accept-new", "no", "off", "false":
			policy = AcceptNew
		}
	}
	tg.hostKeys = r.keys.get(policy, files, record, isYes(o.hashKnownHosts))
	if rk := strings.TrimSpace(o.revokedHostKeys); rk != "" && !strings.EqualFold(rk, "none") {
		tg.revokedHostKeys = r.expand(rk, tg)
	}
}

// expandFiles expands the files an ssh_config keyword lists
// (IdentityFile, CertificateFile, UserKnownHostsFile...); "none" is no
// file.
func (r *resolver) expandFiles(list []string, tg *target) []string {
	var files []string
	for _, f := range list {
		if !strings.EqualFold(f, "none") {
			files = append(files, r.expand(f, tg))
		}
	}
	return files
}

// common fills the hostname, agent, connect timeout and algorithms of
// tg.
func (r *resolver) common(tg *target, o sshOptions) error {
	// connect_timeout, else ssh_config's ConnectTimeout (seconds), else
	// the default.
	tg.connectTimeout = r.cfg.ConnectTimeout
	if n, ok := positiveInt(o.connectTimeout); ok && !r.cfg.connectTimeoutSet {
		tg.connectTimeout = time.Duration(n) * time.Second
	}
	// AddressFamily, as ssh: a name resolving to both is dialed over the
	// family asked for only.
	switch strings.ToLower(o.addressFamily) {
	case "inet":
		tg.network = "tcp4"
	case "inet6":
		tg.network = "tcp6"
	default:
		tg.network = "tcp"
	}
	// keepalive_interval and keepalive_count_max, else ssh_config's
	// ServerAliveInterval (above 0: its 0, ssh's default, is unset) and
	// ServerAliveCountMax, else fanout's defaults.
	tg.keepaliveInterval, tg.keepaliveCountMax = r.cfg.KeepaliveInterval, r.cfg.KeepaliveCountMax
	if n, ok := positiveInt(o.serverAliveInterval); ok && !r.cfg.keepaliveIntervalSet {
		tg.keepaliveInterval = time.Duration(n) * time.Second
	}
	if n, ok := positiveInt(o.serverAliveCountMax); ok && !r.cfg.keepaliveCountMaxSet {
		tg.keepaliveCountMax = n
	}
	tg.identitiesOnly = isYes(o.identitiesOnly)
	tg.hostKeyAlias = strings.TrimSpace(o.hostKeyAlias)
	tg.hostname = tg.alias
	if hn := strings.TrimSpace(o.hostname); hn != "" {
		tg.hostname = expandHostName(hn, tg.alias)
	}
	// Lowercase, as ssh forces it: known_hosts names hosts in lowercase,
	// and WEB1 looked up as written would be a host seen for the first
	// time, whose key accept-new records over web1's changed one.
	tg.hostname = strings.ToLower(tg.hostname)
	switch ia := strings.TrimSpace(o.identityAgent); {
	case r.cfg.AgentSocket != "":
		tg.agentSocket, tg.agentSource = r.expand(r.cfg.AgentSocket, tg), "agent_socket"
	case strings.EqualFold(ia, "none"):
		tg.agentSource = "IdentityAgent none"
	case ia != "" && ia != "SSH_AUTH_SOCK":
		if strings.HasPrefix(ia, "$") && !strings.HasPrefix(ia, "${") {
			ia = r.env.getenv(ia[1:])
		}
		tg.agentSocket, tg.agentSource = r.expand(ia, tg), "IdentityAgent"
	default:
		tg.agentSocket, tg.agentSource = r.env.getenv("SSH_AUTH_SOCK"), "SSH_AUTH_SOCK"
	}
	var err error
	tg.algos, err = algorithmsFor(o)
	return err
}

// sshPort is ssh_config's Port, else 22.
func sshPort(alias string, o sshOptions) (int, error) {
	s := strings.TrimSpace(o.port)
	if s == "" {
		return 22, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		// A service name, as ssh takes it (Port ssh), from /etc/services.
		if n, lerr := net.LookupPort("tcp", s); lerr == nil {
			p, err = n, nil
		}
	}
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("ssh_config: invalid Port %q for %s", s, alias)
	}
	return p, nil
}

// sshIdentities sets tg's identity files from ssh_config, or to OpenSSH's
// default ones.
func (r *resolver) sshIdentities(tg *target, o sshOptions) {
	if len(o.identityFiles) > 0 {
		tg.identityFiles, tg.identityExplicit = r.expandFiles(o.identityFiles, tg), true
		return
	}
	if r.env.home == "" {
		return
	}
	// ssh's defaults in ssh's order (ssh -G lists them), but for the
	// keys only a security key or XMSS can use, and DSA, which OpenSSH
	// 9 servers refuse: a server whose MaxAuthTries is low takes the
	// first ones offered.
	for _, f := range []string{"id_rsa", "id_ecdsa", "id_ed25519"} {
		tg.identityFiles = append(tg.identityFiles, filepath.Join(r.env.home, ".ssh", f))
	}
}

// expandProxyCommand replaces the tokens ssh replaces in a ProxyCommand:
// %h (host name), %p (port), %r (remote user), %n (the name given) and
// %%; others stay as they are.
func (r *resolver) expandProxyCommand(s string, tg *target) string {
	return r.replaceTokens(s, "hprn", tg)
}

// expand replaces, as ssh does in the keywords naming files and sockets
// (IdentityFile, CertificateFile, UserKnownHostsFile, IdentityAgent...),
// a leading ~, ${VAR} by the environment's VAR (left as it is when VAR is
// unset, so that what fails names it), then the ssh_config tokens %d
// (home), %u (local user), %h (remote host name), %r (remote user), %p
// (port), %n (the name given), %j (ProxyJump), %i, %l, %L, %k, %C (see
// localToken) and %%.
func (r *resolver) expand(s string, tg *target) string {
	return r.replaceTokens(r.env.expandTilde(r.expandEnv(s)), "durhpnjilLkC", tg)
}

// expandEnv replaces each ${VAR} of s by the environment's VAR.
func (r *resolver) expandEnv(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		name := s[i+2 : i+j]
		v := r.env.getenv(name)
		if v == "" {
			v = s[i : i+j+1]
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// replaceTokens replaces in s the ssh_config tokens whose letters are in
// allowed (d: home, u: local user, h: remote host name, r: remote user,
// p: port, n: the name given) and %%; any other stays as it is.
func (r *resolver) replaceTokens(s, allowed string, tg *target) string {
	return percentExpand(s, func(c byte) (string, bool) {
		if strings.IndexByte(allowed, c) < 0 {
			return "", false
		}
		switch c {
		case 'd':
			return r.env.home, true
		case 'u':
			return r.env.user, true
		case 'h':
			return tg.hostname, true
		case 'r':
			return tg.user, true
		case 'p':
			return strconv.Itoa(tg.port), true
		case 'n':
			return tg.alias, true
		case 'j':
			var jumps []string
			for _, j := range tg.jumps {
				jumps = append(jumps, j.String())
			}
			return strings.Join(jumps, ","), true
		}
		return localToken(c, tg.hostname, strconv.Itoa(tg.port), tg.user, tg.hostKeyAlias)
	})
}

// expandHome replaces a leading ~ with the process's home directory.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := userhome.Dir(); err == nil {
			return home + p[1:]
		}
	}
	return p
}

// positiveInt reads an ssh_config number (seconds, a count) that sets
// something only above 0.
func positiveInt(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil && n > 0
}

// isYes reports whether an ssh_config flag's value is yes (or true, as
// ssh also reads it).
func isYes(v string) bool {
	v = strings.TrimSpace(v)
	return strings.EqualFold(v, "yes") || strings.EqualFold(v, "true")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

package sshtest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Paths of the programs the fleet runs. sshd must be started by an
// absolute path: it re-executes itself for every connection.
const (
	SSHDPath     = "/usr/sbin/sshd"
	AgentPath    = "/usr/bin/ssh-agent"
	DropbearPath = "/usr/sbin/dropbear"
	// DropbearConvertPath converts the fleet's OpenSSH host keys to
	// dropbear's format (Debian's dropbear-bin).
	DropbearConvertPath = "/usr/bin/dropbearconvert"
	// UnsharePath runs dropbear in a mount namespace of its own (see
	// Dropbear).
	UnsharePath = "/usr/bin/unshare"
)

// Server is the SSH server program of a fleet's hosts.
type Server string

// The servers a fleet can run.
const (
	// OpenSSH is Debian's sshd (openssh-server), the default.
	OpenSSH Server = "openssh"
	// Dropbear is Debian's dropbear (dropbear-bin). It has no
	// AuthorizedKeysFile setting and reads ~USER/.ssh/authorized_keys of
	// the login user, so the fleet runs it in a mount namespace of its own
	// where the fleet's directory is bind-mounted over that home: nothing
	// of the machine's own home is read or written. That takes root (a
	// fleet of dropbear hosts fails, or skips with FANOUT_SKIP_SSHD=1,
	// without it). Sessions get HOME set to that directory; MaxSessions and
	// SSHDConfig do not apply.
	Dropbear Server = "dropbear"
)

// KeyType is the type of the fleet's client key.
type KeyType string

// The client key types.
const (
	// Ed25519 is the default client key type.
	Ed25519 KeyType = "ed25519"
	// RSA is a 2048-bit RSA client key.
	RSA KeyType = "rsa"
)

// SkipEnv is the environment variable that turns a missing sshd into a
// skipped test ("1") instead of a failed one.
const SkipEnv = "FANOUT_SKIP_SSHD"

// BaseEnv overrides the default last octet of the first host's address.
const BaseEnv = "FANOUT_SSHTEST_BASE"

// tokenEnv is set in the environment of every process the fleet starts, and
// through sshd's SetEnv in every session: its value finds them at teardown.
const tokenEnv = "FANOUT_SSHTEST_TOKEN"

// DefaultBase is the last octet of the first host's address when neither
// Options.Base nor FANOUT_SSHTEST_BASE is set: hosts are 127.0.0.100 and up.
const DefaultBase = 100

// Options shape a fleet. The zero value is one host with OpenSSH's default
// MaxSessions and an agent.
type Options struct {
	// Hosts is the number of sshd hosts; default 1.
	Hosts int
	// Base is the last octet of the first host's address; host i (from 0)
	// listens on 127.0.0.(Base+i). Default FANOUT_SSHTEST_BASE or
	// DefaultBase. Addresses may be shared by fleets of tests running at the
	// same time: each host has its own free port.
	Base int
	// MaxSessions is sshd's MaxSessions (sessions per connection); default
	// 10, OpenSSH's own default.
	MaxSessions int
	// NoAgent leaves out the ssh-agent; AgentSocket is then empty.
	NoAgent bool
	// DecoyAgentKeys is how many keys no host accepts the agent holds
	// besides the client key, offered before it: with more of them than
	// sshd's MaxAuthTries, a client that offers every agent key fails.
	DecoyAgentKeys int
	// Server is the hosts' SSH server; default OpenSSH.
	Server Server
	// ClientKeyType is the type of the client key; default Ed25519.
	ClientKeyType KeyType
	// HostKeyType is the type of every host's key; default Ed25519. An
	// RSA host key with SSHDConfig "HostKeyAlgorithms ssh-rsa" is a
	// server of before OpenSSH 7.2, which signs with SHA-1 only.
	HostKeyType KeyType
	// HostCertificates has every OpenSSH host present a certificate of
	// its key, for its address and name, signed by Fleet.HostCA, as
	// fleets with an SSH CA do: known_hosts then needs one
	// @cert-authority line, no line per host.
	HostCertificates bool
	// SSHDConfig holds sshd_config lines placed before the fleet's own,
	// so that they win where both set a keyword (OpenSSH takes a
	// keyword's first value), e.g. "PubkeyAcceptedAlgorithms
	// rsa-sha2-512".
	SSHDConfig string
	// NoSFTP leaves out the fleet's sftp subsystem, as on a server whose
	// Subsystem line was removed: clients must get by with the shell.
	NoSFTP bool
}

// Fleet is a running set of sshd hosts and the client material to reach
// them. Its fields are read-only.
type Fleet struct {
	// Dir holds every file of the fleet.
	Dir string
	// Hosts are the sshd hosts, in address order.
	Hosts []*Host
	// User is the login name every host accepts: the current user.
	User string
	// ClientKey is the path of the unencrypted private client key (OpenSSH
	// format, of Options.ClientKey's type), authorized on every host.
	ClientKey string
	// EncryptedClientKey is the same private key encrypted with Passphrase.
	EncryptedClientKey string
	// Passphrase protects EncryptedClientKey.
	Passphrase string
	// ClientSigner signs with the client key.
	ClientSigner ssh.Signer
	// AgentSocket is the ssh-agent's socket, holding the client key; empty
	// with Options.NoAgent.
	AgentSocket string
	// KnownHosts is a known_hosts file listing every host's key by
	// "[127.0.0.x]:port".
	KnownHosts string
	// HostCA is the key that signed the hosts' certificates; nil without
	// Options.HostCertificates.
	HostCA ssh.PublicKey

	token  string
	home   string
	hostCA ssh.Signer // signs host certificates (Options.HostCertificates)
}

// Start runs a fleet for t and registers its teardown with t.Cleanup. It
// fails t (or skips it, see SkipEnv) when the fleet cannot be started.
func Start(t testing.TB, opts Options) *Fleet {
	t.Helper()
	if opts.Server == "" {
		opts.Server = OpenSSH
	}
	requireServer(t, opts.Server)
	if opts.Hosts <= 0 {
		opts.Hosts = 1
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 10
	}
	if opts.Base == 0 {
		opts.Base = DefaultBase
		if s := os.Getenv(BaseEnv); s != "" {
			b, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("sshtest: %s=%q: %v", BaseEnv, s, err)
			}
			opts.Base = b
		}
	}
	if opts.Base < 2 || opts.Base+opts.Hosts > 255 {
		t.Fatalf("sshtest: addresses 127.0.0.%d to 127.0.0.%d are outside 127.0.0.2-254", opts.Base, opts.Base+opts.Hosts-1)
	}
	// sshd's privilege separation directory, normally made by its service.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("sshtest: create /run/sshd: %v", err)
	}

	u, err := user.Current()
	if err != nil {
		t.Fatalf("sshtest: current user: %v", err)
	}
	f := &Fleet{
		Dir:        t.TempDir(),
		User:       u.Username,
		Passphrase: "fanout-test-passphrase",
		token:      randomHex(t, 8),
	}
	f.home = filepath.Join(f.Dir, "home")
	mkdir(t, f.home)
	mkdir(t, filepath.Join(f.Dir, "logs"))
	mkdir(t, filepath.Join(f.Dir, "cfg"))
	t.Cleanup(func() { f.teardown(t) })

	f.writeClientKeys(t, opts.ClientKeyType)
	if opts.Server == Dropbear {
		f.writeDropbearHome(t)
	}
	for i := range opts.Hosts {
		h := &Host{
			Name:   fmt.Sprintf("host%d", i+1),
			Addr:   fmt.Sprintf("127.0.0.%d", opts.Base+i),
			Server: opts.Server,
			fleet:  f,
		}
		h.LogFile = filepath.Join(f.Dir, "logs", h.Name+".log")
		h.cfgFile = filepath.Join(f.Dir, "cfg", h.Name+".conf")
		h.HostKey = writeHostKey(t, h.hostKeyFile(), opts.HostKeyType, h.Name)
		h.maxSessions = opts.MaxSessions
		h.extraConfig = opts.SSHDConfig
		if opts.HostCertificates {
			h.extraConfig += "\nHostCertificate " + f.writeHostCertificate(t, h) + "\n"
		}
		h.noSFTP = opts.NoSFTP
		f.Hosts = append(f.Hosts, h)
	}
	for _, h := range f.Hosts {
		h.start(t, 0)
	}
	f.KnownHosts = filepath.Join(f.Dir, "known_hosts")
	f.WriteKnownHosts(t, f.KnownHosts, f.Hosts...)
	if !opts.NoAgent {
		f.AgentSocket = startAgent(t, f, opts.DecoyAgentKeys)
	}
	return f
}

// WriteKnownHosts writes a known_hosts file at path listing hosts (the whole
// fleet when none is given).
func (f *Fleet) WriteKnownHosts(t testing.TB, path string, hosts ...*Host) {
	t.Helper()
	if len(hosts) == 0 {
		hosts = f.Hosts
	}
	var b strings.Builder
	for _, h := range hosts {
		b.WriteString(h.KnownHostsLine())
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("sshtest: write %s: %v", path, err)
	}
}

// UnusedAddress returns "127.0.0.x:port" where nothing listens: connecting
// to it is refused at once. x is 254 or the one below, away from the usual
// fleet addresses.
func (f *Fleet) UnusedAddress(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.254:0")
	if err != nil {
		t.Fatalf("sshtest: find an unused port: %v", err)
	}
	addr := l.Addr().String()
	_ = l.Close() // only the address was wanted
	return addr
}

// Processes returns the pids of the processes running on the fleet's hosts
// (sshd processes and remote commands) whose command line contains substr.
func (f *Fleet) Processes(t testing.TB, substr string) []int {
	t.Helper()
	var pids []int
	for _, p := range findProcesses(tokenEnv + "=" + f.token + "/") {
		if strings.Contains(p.cmdline, substr) {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

// ProcessesRunning returns the pids of the processes running on the
// fleet's hosts whose command line is exactly cmdline (arguments separated
// by one space): the process itself, not a shell whose script mentions it.
func (f *Fleet) ProcessesRunning(t testing.TB, cmdline string) []int {
	t.Helper()
	var pids []int
	for _, p := range findProcesses(tokenEnv + "=" + f.token + "/") {
		if p.cmdline == cmdline {
			pids = append(pids, p.pid)
		}
	}
	return pids
}

func (f *Fleet) writeClientKeys(t testing.TB, kind KeyType) {
	t.Helper()
	name := "id_ed25519"
	if kind == RSA {
		name = "id_rsa"
	}
	priv := generateKey(t, kind)
	block, err := ssh.MarshalPrivateKey(priv, "fanout-sshtest-client")
	if err != nil {
		t.Fatalf("sshtest: marshal client key: %v", err)
	}
	f.ClientKey = filepath.Join(f.Dir, name)
	writeFile(t, f.ClientKey, pem.EncodeToMemory(block), 0o600)
	enc, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "fanout-sshtest-client", []byte(f.Passphrase))
	if err != nil {
		t.Fatalf("sshtest: marshal encrypted client key: %v", err)
	}
	f.EncryptedClientKey = filepath.Join(f.Dir, name+"_encrypted")
	writeFile(t, f.EncryptedClientKey, pem.EncodeToMemory(enc), 0o600)

	sshPub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatalf("sshtest: client public key: %v", err)
	}
	writeFile(t, f.ClientKey+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644)
	writeFile(t, filepath.Join(f.Dir, "authorized_keys"), ssh.MarshalAuthorizedKey(sshPub), 0o600)
	f.ClientSigner, err = ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sshtest: client signer: %v", err)
	}
}

// teardown kills every process of the fleet: the ones it started (killed
// and waited for) and every other carrying its token (sshd children and
// remote commands, which are not our children: killed until none is left).
func (f *Fleet) teardown(t testing.TB) {
	for _, h := range f.Hosts {
		if err := h.stop(); err != nil {
			t.Errorf("sshtest: teardown of %s: %v", h.Name, err)
		}
	}
	if err := killTokenProcesses(tokenEnv + "=" + f.token); err != nil {
		t.Errorf("sshtest: teardown: %v", err)
	}
}

func writeHostKey(t testing.TB, path string, kind KeyType, comment string) ssh.PublicKey {
	t.Helper()
	priv := generateKey(t, kind)
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		t.Fatalf("sshtest: marshal host key: %v", err)
	}
	// sshd refuses a host key readable by others, StrictModes or not.
	writeFile(t, path, pem.EncodeToMemory(block), 0o600)
	sshPub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatalf("sshtest: host public key: %v", err)
	}
	return sshPub
}

// writeHostCertificate signs h's key with the fleet's host CA, made on
// first use, for h's address and name, and returns the certificate's file.
func (f *Fleet) writeHostCertificate(t testing.TB, h *Host) string {
	t.Helper()
	if f.hostCA == nil {
		ca, err := ssh.NewSignerFromKey(generateKey(t, Ed25519))
		if err != nil {
			t.Fatalf("sshtest: host CA: %v", err)
		}
		f.hostCA, f.HostCA = ca, ca.PublicKey()
	}
	cert := &ssh.Certificate{
		Key:             h.HostKey,
		CertType:        ssh.HostCert,
		KeyId:           h.Name,
		ValidPrincipals: []string{h.Addr, h.Name},
		ValidBefore:     ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, f.hostCA); err != nil {
		t.Fatalf("sshtest: sign %s's host key: %v", h.Name, err)
	}
	path := h.hostKeyFile() + "-cert.pub"
	writeFile(t, path, ssh.MarshalAuthorizedKey(cert), 0o644)
	return path
}

// generateKey makes a new private key of kind: ed25519 or 2048-bit RSA.
func generateKey(t testing.TB, kind KeyType) crypto.Signer {
	t.Helper()
	var (
		priv crypto.Signer
		err  error
	)
	switch kind {
	case "", Ed25519:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case RSA:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("sshtest: unknown key type %q", kind)
	}
	if err != nil {
		t.Fatalf("sshtest: generate a %s key: %v", kind, err)
	}
	return priv
}

// startAgent runs ssh-agent in the foreground on a socket in a short
// directory (sun_path holds 108 bytes, test temp dirs can be longer) and adds
// the client key through the agent protocol.
func startAgent(t testing.TB, f *Fleet, decoys int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fsa")
	if err != nil {
		t.Fatalf("sshtest: agent dir: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("sshtest: remove the agent's directory: %v", err)
		}
	})
	sock := filepath.Join(dir, "agent.sock")
	cmd := exec.Command(AgentPath, "-D", "-a", sock)
	cmd.Env = append(os.Environ(), tokenEnv+"="+f.token+"/agent")
	logf, err := os.Create(filepath.Join(f.Dir, "logs", "agent.log"))
	if err != nil {
		t.Fatalf("sshtest: agent log: %v", err)
	}
	defer func() { _ = logf.Close() }() // the child holds its own descriptors
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshtest: start %s: %v", AgentPath, err)
	}
	done := make(chan struct{})
	// The agent's exit status says nothing: it is killed at the end.
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // best effort: done says when it is gone
		<-done
	})

	var conn net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err = net.Dial("unix", sock)
		if err == nil {
			break
		}
		select {
		case <-done:
			t.Fatalf("sshtest: ssh-agent exited early (see %s)", logf.Name())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshtest: ssh-agent socket %s did not appear: %v", sock, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer func() { _ = conn.Close() }() // addKey's answer was read already
	// One client: each reads the connection's answers for its own.
	ag := agent.NewClient(conn)
	for i := range decoys {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err == nil {
			err = ag.Add(agent.AddedKey{PrivateKey: priv, Comment: fmt.Sprintf("fanout-sshtest-decoy-%d", i)})
		}
		if err != nil {
			t.Fatalf("sshtest: add decoy key to agent: %v", err)
		}
	}
	if err := addKey(ag, f.ClientKey); err != nil {
		t.Fatalf("sshtest: add client key to agent: %v", err)
	}
	return sock
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("sshtest: random: %v", err)
	}
	return hex.EncodeToString(b)
}

func mkdir(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

// knownHostsLine is the known_hosts entry of a key at host:port.
func knownHostsLine(hostport string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key)
}

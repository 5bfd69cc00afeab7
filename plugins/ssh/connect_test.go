package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
)

// TestCredentials covers the choice of keys: agent first, identity file as
// a fallback, an encrypted file only through the agent, and nothing at all
// as one clear error before any connection.
func TestCredentials(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	h := f.Hosts[0]
	tests := []struct {
		name     string
		noAgent  bool
		identity string
		wantErr  []string // substrings; none: Connect and Exec succeed
	}{
		{name: "agent"},
		{name: "identity file without agent", noAgent: true, identity: f.ClientKey},
		{name: "encrypted identity file with its key in the agent", identity: f.EncryptedClientKey},
		{
			name: "nothing", noAgent: true,
			wantErr: []string{"host host1", "no usable ssh credentials", "SSH_AUTH_SOCK is not set", "identity_file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := map[string]cty.Value{}
			if tt.identity != "" {
				settings["identity_file"] = cty.StringVal(tt.identity)
			}
			s := newTransport(t, f, setupOpts{noAgent: tt.noAgent, settings: settings, direct: len(tt.wantErr) > 0})
			before := h.Connections(t)
			err := s.connect(s.host(h, nil))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Connect: %v", err)
				}
				if out := s.mustExec(h.Name, "echo ok"); out != "ok\n" {
					t.Errorf("output %q", out)
				}
				return
			}
			if err == nil {
				t.Fatal("Connect succeeded, want an error")
			}
			if !errors.Is(err, ErrNoCredentials) {
				t.Errorf("error %v is not ErrNoCredentials", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			r := s.exec(context.Background(), h.Name, "echo ran", nil)
			if r.err == nil || r.stdout != "" {
				t.Errorf("Exec: %+v, %v, stdout %q; want the same error and nothing run", r.resp, r.err, r.stdout)
			}
			if n := h.Connections(t) - before; n != 0 {
				t.Errorf("%d connections made without credentials, want none", n)
			}
		})
	}
}

func TestHostKeys(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	h := f.Hosts[0]
	fp := ssh.FingerprintSHA256(h.HostKey)

	t.Run("unknown, strict", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		f.WriteKnownHosts(t, kh, f.Hosts[1]) // another host only
		s := newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
			"known_hosts": cty.ListVal([]cty.Value{cty.StringVal(kh)}),
		}})
		err := s.connect(s.host(h, nil))
		var hk *HostKeyError
		if !errors.As(err, &hk) || hk.Changed() {
			t.Fatalf("error %v, want an unknown-host *HostKeyError", err)
		}
		for _, want := range []string{"host host1", h.HostPort(), fp, "unknown", kh, "accept-new"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
		if n := h.AcceptedPublickey(t); n != 0 {
			t.Errorf("%d logins on a refused host", n)
		}
		b, _ := os.ReadFile(kh)
		if strings.Contains(string(b), h.HostPort()) {
			t.Error("strict recorded the key")
		}
	})

	t.Run("unknown, accept-new, 5 racing transports", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "sub", "known_hosts") // created on demand
		var wg sync.WaitGroup
		errs := make([]error, 5)
		setups := make([]*testSetup, 5)
		for i := range setups {
			setups[i] = newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
				"known_hosts":       cty.ListVal([]cty.Value{cty.StringVal(kh)}),
				"host_key_checking": cty.StringVal("accept-new"),
			}})
		}
		for i, s := range setups {
			wg.Go(func() { errs[i] = s.connect(s.host(h, nil)) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("transport %d: %v", i, err)
			}
		}
		b, err := os.ReadFile(kh)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(b), "\n"); got != 1 || !strings.HasPrefix(string(b), "[127.0.0.") {
			t.Errorf("known_hosts has %d lines, want 1:\n%s", got, b)
		}
		// recorded: now known even to strict
		s := newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
			"known_hosts": cty.ListVal([]cty.Value{cty.StringVal(kh)}),
		}})
		if err := s.connect(s.host(h, nil)); err != nil {
			t.Errorf("strict after accept-new: %v", err)
		}
	})

	t.Run("changed", func(t *testing.T) {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		other, _ := ssh.NewPublicKey(pub)
		kh := filepath.Join(t.TempDir(), "known_hosts")
		content := "# hashed and plain entries\n" + hashedLine(t, h.HostPort(), other) + "\n"
		if err := os.WriteFile(kh, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, policy := range []string{"strict", "accept-new"} {
			t.Run(policy, func(t *testing.T) {
				s := newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
					"known_hosts":       cty.ListVal([]cty.Value{cty.StringVal(kh)}),
					"host_key_checking": cty.StringVal(policy),
				}})
				err := s.connect(s.host(h, nil))
				var hk *HostKeyError
				if !errors.As(err, &hk) || !hk.Changed() {
					t.Fatalf("error %v, want a changed-key *HostKeyError", err)
				}
				for _, want := range []string{"host host1", "CHANGED", fp, kh + ":2", ssh.FingerprintSHA256(other)} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				if b, _ := os.ReadFile(kh); string(b) != content {
					t.Errorf("known_hosts was modified:\n%s", b)
				}
			})
		}
	})

	t.Run("hashed entry, non-default port", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(kh, []byte(hashedLine(t, h.HostPort(), h.HostKey)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
			"known_hosts": cty.ListVal([]cty.Value{cty.StringVal(kh)}),
		}})
		if err := s.connect(s.host(h, nil)); err != nil {
			t.Fatal(err)
		}
	})
}

// hashedLine is a known_hosts line with a hashed host name, as
// HashKnownHosts writes it.
func hashedLine(t *testing.T, hostport string, key ssh.PublicKey) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(hostport)
	name := host
	if port != "22" {
		name = "[" + host + "]:" + port
	}
	return knownhosts.HashHostname(name) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

// tcpServer listens on 127.0.0.253 and hands each connection to handle,
// one at a time, until the test ends; then it closes the listener and
// every connection handed, and waits for its loop.
func tcpServer(t *testing.T, handle func(net.Conn)) *net.TCPAddr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.253:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			handle(c)
		}
	})
	t.Cleanup(func() {
		_ = l.Close() // ends the Accept loop
		wg.Wait()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{NoAgent: false})
	t.Run("refused", func(t *testing.T) {
		s := newTransport(t, f, setupOpts{direct: true})
		host, port, _ := net.SplitHostPort(f.UnusedAddress(t))
		p, _ := strconv.Atoi(port)
		start := time.Now()
		err := s.connect(sdk.Host{Name: "ghost", Address: host, Config: object(t, hostSchema(), map[string]cty.Value{"port": cty.NumberIntVal(int64(p))})})
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "host ghost") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("error %v, want host ghost unreachable, connection refused", err)
		}
		// Refused at once: not retried until connect_timeout.
		if took := time.Since(start); took >= DefaultConnectTimeout {
			t.Errorf("took %s", took)
		}
	})
	t.Run("silent server: connect_timeout", func(t *testing.T) {
		// It says nothing until the test ends.
		addr := tcpServer(t, func(net.Conn) {})
		s := newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{"connect_timeout": cty.StringVal("500ms")}})
		start := time.Now()
		err := s.connect(sdk.Host{Name: "mute", Address: addr.IP.String(), Config: object(t, hostSchema(), map[string]cty.Value{"port": cty.NumberIntVal(int64(addr.Port))})})
		if !errors.Is(err, ErrConnectTimeout) || !strings.Contains(err.Error(), "host mute") {
			t.Errorf("error %v, want host mute connect timeout", err)
		}
		// connect_timeout, not the default, ended it.
		if took := time.Since(start); took < 400*time.Millisecond || took >= DefaultConnectTimeout {
			t.Errorf("took %s, want about 500ms", took)
		}

		// Without connect_timeout, ssh_config's ConnectTimeout is the
		// host's, as it is ssh's.
		config := filepath.Join(t.TempDir(), "ssh_config")
		if err := os.WriteFile(config, fmt.Appendf(nil, "Host mute-host\n  HostName %s\n  Port %d\n  ConnectTimeout 1\n", addr.IP, addr.Port), 0o644); err != nil {
			t.Fatal(err)
		}
		s = newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{"ssh_config": cty.StringVal(config)}})
		start = time.Now()
		err = s.connect(sdk.Host{Name: "mute", Address: "mute-host"})
		if !errors.Is(err, ErrConnectTimeout) || !strings.Contains(err.Error(), "after 1s") {
			t.Errorf("error %v, want a connect timeout after 1s (ConnectTimeout)", err)
		}
		if took := time.Since(start); took < 900*time.Millisecond || took >= DefaultConnectTimeout {
			t.Errorf("took %s, want about 1s", took)
		}
	})
	t.Run("closed before the handshake: MaxStartups", func(t *testing.T) {
		// As sshd past its MaxStartups does: the connection is taken and
		// closed.
		addr := tcpServer(t, func(c net.Conn) { _ = c.Close() })
		s := newTransport(t, f, setupOpts{direct: true})
		err := s.connect(sdk.Host{Name: "busy", Address: addr.IP.String(), Config: object(t, hostSchema(), map[string]cty.Value{"port": cty.NumberIntVal(int64(addr.Port))})})
		if err == nil || !strings.Contains(err.Error(), "host busy") || !strings.Contains(err.Error(), "MaxStartups") || !strings.Contains(err.Error(), "max_connects") {
			t.Errorf("error %v, want host busy's handshake cut short, naming MaxStartups and max_connects", err)
		}
	})
}

// stallingAgent is an ssh-agent that lists the keys of keyring and never
// answers a signature request, as one waiting for a confirmation nobody
// gives does.
type stallingAgent struct {
	agent.ExtendedAgent
	stop <-chan struct{}
}

func (s stallingAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	<-s.stop
	return nil, errors.New("stopped")
}

func (s stallingAgent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	<-s.stop
	return nil, errors.New("stopped")
}

// TestAgentThatDoesNotAnswer: an agent socket that takes connections and
// never answers, or answers a listing and never a signature, fails the
// host within connect_timeout, saying so, instead of holding the run for
// ever; against a real sshd.
func TestAgentThatDoesNotAnswer(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	h := f.Hosts[0]
	key, err := os.ReadFile(f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ssh.ParseRawPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		serve func(c net.Conn, stop <-chan struct{})
	}{
		{"silent", func(c net.Conn, stop <-chan struct{}) { <-stop }},
		{"lists but never signs", func(c net.Conn, stop <-chan struct{}) {
			_ = agent.ServeAgent(stallingAgent{keyring.(agent.ExtendedAgent), stop}, c)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "agent.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			defer wg.Wait()
			defer func() { _ = l.Close() }() // before wg.Wait: it ends the Accept loop
			defer close(stop)
			wg.Go(func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					wg.Go(func() {
						defer func() { _ = c.Close() }()
						tt.serve(c, stop)
					})
				}
			})
			s := newTransport(t, f, setupOpts{direct: true, noAgent: true, settings: map[string]cty.Value{
				"agent_socket": cty.StringVal(sock), "connect_timeout": cty.StringVal("1s")}})
			done := make(chan error, 1)
			go func() { done <- s.connect(s.host(h, nil)) }()
			select {
			case err := <-done:
				// A signature asked during the handshake ends with it,
				// at the same connect_timeout: either says so.
				if err == nil || !strings.Contains(err.Error(), "ssh-agent at "+sock+" did not answer within 1s") &&
					!(tt.name != "silent" && strings.Contains(err.Error(), "timed out after 1s")) {
					t.Errorf("error %v, want the agent named as not answering", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Connect still waits on the agent after 30s")
			}
		})
	}
}

// TestIdentityFileOthersMayRead: an identity file of the operator's that
// others may read is refused, as ssh refuses it (UNPROTECTED PRIVATE KEY
// FILE), with the chmod that mends it; made private, it logs in.
func TestIdentityFileOthersMayRead(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	h := f.Hosts[0]
	key, err := os.ReadFile(f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(t.TempDir(), "loose_key")
	if err := os.WriteFile(loose, key, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	settings := map[string]cty.Value{"identity_file": cty.StringVal(loose)}
	s := newTransport(t, f, setupOpts{noAgent: true, direct: true, settings: settings})
	err = s.connect(s.host(h, nil))
	if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "permissions 0644 are too open") || !strings.Contains(err.Error(), "chmod 600 "+loose) {
		t.Errorf("error %v, want the key refused for its permissions", err)
	}
	if err := os.Chmod(loose, 0o600); err != nil {
		t.Fatal(err)
	}
	s = newTransport(t, f, setupOpts{noAgent: true, direct: true, settings: settings})
	if err := s.connect(s.host(h, nil)); err != nil {
		t.Errorf("private again: %v", err)
	}
}

// TestIdentityFileAPublicKey: an identity file that is a public key names
// the agent's key to offer first, as ssh takes it: with more other keys
// in the agent than sshd's MaxAuthTries, the host still logs in; a public
// key the agent does not hold is said to be one.
func TestIdentityFileAPublicKey(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{DecoyAgentKeys: 8})
	h := f.Hosts[0]
	dir := t.TempDir()
	pub := f.ClientKey + ".pub"
	s := newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{"identity_file": cty.StringVal(pub)}})
	if err := s.connect(s.host(h, nil)); err != nil {
		t.Fatalf("Connect with the agent's key named by its public key: %v", err)
	}

	stranger := filepath.Join(dir, "stranger.pub")
	if err := os.WriteFile(stranger, ssh.MarshalAuthorizedKey(newEd25519Signer(t).PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(config, []byte("IdentitiesOnly yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
		"identity_file": cty.StringVal(stranger), "ssh_config": cty.StringVal(config)}})
	err := s.connect(s.host(h, nil))
	if err == nil || !strings.Contains(err.Error(), "identity file "+stranger+" is a public key, whose private key the agent does not hold") {
		t.Errorf("error %v, want the public key named as not in the agent", err)
	}
}

// TestEncryptedPKCS8Identity: an encrypted PKCS#8 key (ssh-keygen -m
// PKCS8), which x/crypto cannot decrypt, is named as such with the way
// out, not as an unsupported key type.
func TestEncryptedPKCS8Identity(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	key := filepath.Join(t.TempDir(), "p8")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ecdsa", "-m", "PKCS8", "-N", "secret", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	s := newTransport(t, f, setupOpts{noAgent: true, direct: true, settings: map[string]cty.Value{"identity_file": cty.StringVal(key)}})
	err := s.connect(s.host(f.Hosts[0], nil))
	if err == nil || !strings.Contains(err.Error(), "an encrypted PKCS#8 key, which fanout cannot decrypt: ssh-add it") {
		t.Errorf("error %v, want the key named an encrypted PKCS#8 one", err)
	}
}

// TestAddressFamily: ssh_config's AddressFamily is obeyed, as ssh obeys
// it: inet6 does not reach a host by its IPv4 address (ssh: "Address
// family not supported"), inet and any do. It was warned of as not read
// on every run of everyone whose ~/.ssh/config sets it.
func TestAddressFamily(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 1})
	h := f.Hosts[0]
	for _, tt := range []struct {
		family string
		ok     bool
	}{{"inet", true}, {"any", true}, {"inet6", false}} {
		config := filepath.Join(t.TempDir(), "ssh_config")
		if err := os.WriteFile(config, fmt.Appendf(nil, "Host fam\n  HostName %s\n  Port %d\n  AddressFamily %s\n", h.Addr, h.Port, tt.family), 0o644); err != nil {
			t.Fatal(err)
		}
		s := newTransport(t, f, setupOpts{settings: map[string]cty.Value{"ssh_config": cty.StringVal(config)}})
		err := s.connect(sdk.Host{Name: "fam", Address: "fam"})
		if (err == nil) != tt.ok {
			t.Errorf("AddressFamily %s: %v, want connected %v", tt.family, err, tt.ok)
		}
	}
}

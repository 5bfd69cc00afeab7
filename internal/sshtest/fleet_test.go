package sshtest_test

import (
	"time"

	"net"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fanout/fanout/internal/sshtest"
)

func dial(t *testing.T, f *sshtest.Fleet, h *sshtest.Host, auth ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	cb, err := knownhosts.New(f.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.Dial("tcp", h.HostPort(), &ssh.ClientConfig{
		User:            f.User,
		Auth:            []ssh.AuthMethod{auth},
		HostKeyCallback: cb,
		// dropbear 2022.83 lists RSA host key algorithms without an RSA
		// host key, then fails the key exchange if the client picks one.
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
	})
}

func TestFleet(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	if len(f.Hosts) != 2 {
		t.Fatalf("hosts = %d", len(f.Hosts))
	}
	ac, err := net.Dial("unix", f.AgentSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ac.Close() }()
	ag := agent.NewClient(ac)
	keys, err := ag.List()
	if err != nil || len(keys) != 1 {
		t.Fatalf("agent keys = %v, %v", keys, err)
	}
	for _, h := range f.Hosts {
		c, err := dial(t, f, h, ssh.PublicKeysCallback(ag.Signers))
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Output("echo $HOME; sleep 60 >/dev/null 2>&1 & echo started")
		if err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		if !strings.Contains(string(out), "started") {
			t.Fatalf("%s: output %q", h.Name, out)
		}
		if n := h.AcceptedPublickey(t); n != 1 {
			t.Errorf("%s: accepted = %d, want 1", h.Name, n)
		}
		// The background job may still be starting when "started" arrives.
		found := false
		for deadline := time.Now().Add(10 * time.Second); !found && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			found = len(f.Processes(t, "sleep 60")) > 0
		}
		if !found {
			t.Errorf("%s: background sleep not found within 10s", h.Name)
		}
		_ = c.Close() // what the test checks is done on this connection
	}
	h := f.Hosts[1]
	h.Stop(t)
	if _, err := dial(t, f, h, ssh.PublicKeys(f.ClientSigner)); err == nil {
		t.Fatalf("dial stopped host: no error")
	}
	h.Restart(t)
	c, err := dial(t, f, h, ssh.PublicKeys(f.ClientSigner))
	if err != nil {
		t.Fatalf("dial restarted host: %v", err)
	}
	_ = c.Close() // dialing was the check
	if a := f.UnusedAddress(t); a == "" {
		t.Fatal("no unused address")
	}
}

func TestNoAgent(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{NoAgent: true, Base: 120})
	if f.AgentSocket != "" {
		t.Fatal("agent socket set")
	}
	c, err := dial(t, f, f.Hosts[0], ssh.PublicKeys(f.ClientSigner))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close() // dialing was the check
}

// TestDropbearFleet runs a dropbear host: the agent's key logs in, a
// command runs with the fleet's token, and the host's counters read
// dropbear's log.
func TestDropbearFleet(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Server: sshtest.Dropbear})
	h := f.Hosts[0]
	ac, err := net.Dial("unix", f.AgentSocket)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ac.Close() }()
	c, err := dial(t, f, h, ssh.PublicKeysCallback(agent.NewClient(ac).Signers))
	if err != nil {
		t.Fatalf("%s: %v\n%s", h.Name, err, h.Log(t))
	}
	defer func() { _ = c.Close() }() // what the test checks is done on it by then
	if !strings.HasPrefix(string(c.ServerVersion()), "SSH-2.0-dropbear") {
		t.Errorf("server version %q", c.ServerVersion())
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("sleep 61 >/dev/null 2>&1 & echo started")
	if err != nil || !strings.Contains(string(out), "started") {
		t.Fatalf("output %q, %v", out, err)
	}
	if pids := f.Processes(t, "sleep 61"); len(pids) != 1 {
		t.Errorf("sleep 61 found %d times on the host, want once (teardown kills it)", len(pids))
	}
	if n := h.AcceptedPublickey(t); n != 1 {
		t.Errorf("%d logins, want 1:\n%s", n, h.Log(t))
	}
	if n := h.Connections(t); n != 1 {
		t.Errorf("%d connections, want 1:\n%s", n, h.Log(t))
	}
}

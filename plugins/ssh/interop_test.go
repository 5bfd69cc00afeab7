package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk/sdktest"
)

// TestServerSessionLimits runs 12 commands, and 40 short ones, on one host
// whose sshd allows fewer sessions per connection than max_sessions, or
// exactly as many: all of them succeed, never more than the server allows run at once, and a
// limit learned from the server's refusals is said once in the debug log.
func TestServerSessionLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		serverMax, maxSessions int
		learned                bool // the connection's limit must be lowered
	}{
		// The slot of a session that just ended is taken again before
		// sshd has freed it: refused now and then, tried again.
		{serverMax: 1, maxSessions: 1},
		{serverMax: 2, maxSessions: 2},
		{serverMax: 1, maxSessions: 10, learned: true},
		{serverMax: 2, maxSessions: 10, learned: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("MaxSessions %d, max_sessions %d", tt.serverMax, tt.maxSessions), func(t *testing.T) {
			t.Parallel()
			f := sshtest.Start(t, sshtest.Options{MaxSessions: tt.serverMax})
			var log sdktest.Output
			logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &log})
			s, h := newConnected(t, f, setupOpts{
				settings: map[string]cty.Value{"max_sessions": cty.NumberIntVal(int64(tt.maxSessions))},
				logger:   logger,
			})
			events := t.TempDir() + "/events"
			var wg sync.WaitGroup
			for i := range 12 {
				wg.Go(func() {
					r := s.exec(t.Context(), h.Name, fmt.Sprintf("echo start >> %s; sleep 0.2; echo end >> %s", events, events), nil)
					if r.err != nil || r.resp.ExitCode != 0 {
						t.Errorf("command %d: %+v, %v, stderr %q", i, r.resp, r.err, r.stderr)
					}
				})
			}
			// Back to back, short commands take the slot of a session
			// that just ended before sshd has freed it (on MaxSessions 1,
			// 40 of them failed 5 to 8 before the retry).
			for i := range 40 {
				wg.Go(func() {
					r := s.exec(t.Context(), h.Name, "true", nil)
					if r.err != nil || r.resp.ExitCode != 0 {
						t.Errorf("short command %d: %+v, %v", i, r.resp, r.err)
					}
				})
			}
			wg.Wait()
			lines := strings.Fields(s.mustExec(h.Name, "cat "+events))
			running, peak := 0, 0
			for _, l := range lines {
				if l == "start" {
					running++
				} else {
					running--
				}
				peak = max(peak, running)
			}
			if len(lines) != 24 || peak > tt.serverMax {
				t.Errorf("peak overlap %d over %d events, want at most %d over 24", peak, len(lines), tt.serverMax)
			}
			said := strings.Count(log.String(), "lowering this connection's limit")
			switch {
			case tt.learned && said != 1:
				t.Errorf("the lowered limit is said %d times in the debug log, want once:\n%s", said, log.String())
			case !tt.learned && said != 0:
				t.Errorf("a limit was lowered:\n%s", log.String())
			}
		})
	}
}

// TestRSASignatureAlgorithms logs in with an agent's RSA key to servers
// that accept one RSA signature algorithm: rsa-sha2-512 only (x/crypto
// alone signs with rsa-sha2-256 there), rsa-sha2-256 only (offered after
// every key was tried with 512).
func TestRSASignatureAlgorithms(t *testing.T) {
	t.Parallel()
	for _, algo := range []string{"rsa-sha2-512", "rsa-sha2-256"} {
		t.Run(algo, func(t *testing.T) {
			t.Parallel()
			f := sshtest.Start(t, sshtest.Options{
				ClientKeyType: sshtest.RSA,
				SSHDConfig:    "PubkeyAcceptedAlgorithms " + algo,
			})
			s := newTransport(t, f, setupOpts{})
			h := f.Hosts[0]
			if err := s.connect(s.host(h, nil)); err != nil {
				t.Fatalf("%v\n%s", err, h.Log(t))
			}
			if out := s.mustExec(h.Name, "echo in"); out != "in\n" {
				t.Errorf("output %q", out)
			}
		})
	}
}

// TestOfferings: RSA keys are offered with rsa-sha2-512 in their place,
// again with rsa-sha2-256 after every key, then as x/crypto chooses; with
// PubkeyAcceptedAlgorithms, only with the algorithms it lists.
func TestOfferings(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := ssh.NewSignerFromKey(rsaKey)
	es, _ := ssh.NewSignerFromKey(edKey)
	tests := []struct {
		accepted []string
		want     string
	}{
		{nil, "rsa-sha2-512 ssh-ed25519 rsa-sha2-256 ssh-rsa"},
		{[]string{"ssh-ed25519"}, "ssh-ed25519"},
		{[]string{"rsa-sha2-256", "ssh-rsa"}, "rsa-sha2-256 ssh-rsa"},
		{[]string{"ecdsa-sha2-nistp256"}, ""},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range offerings([]ssh.Signer{rs, es}, tt.accepted) {
			name := s.PublicKey().Type()
			if ms, ok := s.(ssh.MultiAlgorithmSigner); ok && len(ms.Algorithms()) == 1 {
				name = ms.Algorithms()[0]
			}
			got = append(got, name)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("accepted %v: offered %v, want %s", tt.accepted, got, tt.want)
		}
	}
}

// TestOwnProcessGroup checks that a command leads a process group of its
// own on every server, the group the watcher signals: dropbear leaves it in
// the group of its connection's process, shared with every other session.
func TestOwnProcessGroup(t *testing.T) {
	t.Parallel()
	onEachServer(t, func(t *testing.T, server sshtest.Server, f *sshtest.Fleet, s *testSetup, h *sshtest.Host) {
		out := s.mustExec(h.Name, `read -r _ _ _ _ g _ </proc/$$/stat; echo "$$ $g"`)
		pid, pgid, _ := strings.Cut(strings.TrimSpace(out), " ")
		if pid == "" || pid != pgid {
			t.Errorf("the command's shell %s is in process group %s, want its own", pid, pgid)
		}
	})
}

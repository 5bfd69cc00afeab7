package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	gopem "encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// TestPassphrasePrompt covers an encrypted identity file whose key is not
// in the agent: Connect asks the core for its passphrase (the plugin never
// reads a terminal), connects with the answer, and a wrong answer is one
// clear error for every host, tried once.
func TestPassphrasePrompt(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	id := "passphrase:" + f.EncryptedClientKey
	tests := []struct {
		name    string
		answer  string
		wantErr []string
	}{
		{name: "right passphrase", answer: f.Passphrase},
		{name: "wrong passphrase", answer: "not it", wantErr: []string{"host host", "wrong passphrase", "ssh-add " + f.EncryptedClientKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTransport(t, f, setupOpts{
				noAgent:  true,
				settings: map[string]cty.Value{"identity_file": cty.StringVal(f.EncryptedClientKey)},
			})
			before := f.Hosts[0].Connections(t)
			resp, err := s.tr.Connect(context.Background(), &sdk.ConnectRequest{Host: s.host(f.Hosts[0], nil)})
			if err != nil {
				t.Fatalf("Connect without an answer: %v", err)
			}
			if len(resp.Prompts) != 1 {
				t.Fatalf("prompts = %+v, want one", resp.Prompts)
			}
			p := resp.Prompts[0]
			if p.ID != id || !p.Secret || !strings.Contains(p.Text, f.EncryptedClientKey) || !strings.Contains(p.NoAnswer, "ssh-add "+f.EncryptedClientKey) {
				t.Errorf("prompt = %+v", p)
			}
			if n := f.Hosts[0].Connections(t) - before; n != 0 {
				t.Errorf("%d connections made before the passphrase was known, want 0", n)
			}

			answers := map[string]string{id: tt.answer}
			errs := make([]error, len(f.Hosts))
			var wg sync.WaitGroup
			for i, h := range f.Hosts {
				wg.Go(func() {
					resp, err := s.tr.Connect(context.Background(), &sdk.ConnectRequest{Host: s.host(h, nil), Answers: answers})
					if err == nil && len(resp.Prompts) > 0 {
						t.Errorf("%s: asked again: %+v", h.Name, resp.Prompts)
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				h := f.Hosts[i]
				if len(tt.wantErr) == 0 {
					if err != nil {
						t.Fatalf("%s: Connect: %v", h.Name, err)
					}
					if out := s.mustExec(h.Name, "echo ok"); out != "ok\n" {
						t.Errorf("%s: output %q", h.Name, out)
					}
					continue
				}
				if err == nil {
					t.Fatalf("%s: Connect succeeded, want an error", h.Name)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: error %q does not contain %q", h.Name, err, want)
					}
				}
			}
		})
	}
}

// TestPassphraseAfterAgentKeysRefused: an agent holds keys the server
// refuses, and the key it takes is an encrypted identity file: as ssh
// does, the agent's keys are offered first, and the passphrase is asked
// once they are refused (it was never asked: the agent had keys); with
// the answer, the host connects.
func TestPassphraseAfterAgentKeysRefused(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	h := f.Hosts[0]
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agentCmd := exec.Command(sshtest.AgentPath, "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = agentCmd.Process.Kill() // killed: its exit says nothing
		_ = agentCmd.Wait()
	})
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := ssh.MarshalPrivateKey(priv, "decoy")
	if err != nil {
		t.Fatal(err)
	}
	decoy := filepath.Join(dir, "decoy")
	if err := os.WriteFile(decoy, gopem.EncodeToMemory(pem), 0o600); err != nil {
		t.Fatal(err)
	}
	sdktest.Eventually(t, 10*time.Second, "the agent's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	add := exec.Command("ssh-add", decoy)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v: %s", err, out)
	}

	s := newTransport(t, f, setupOpts{noAgent: true, settings: map[string]cty.Value{
		"agent_socket": cty.StringVal(sock), "identity_file": cty.StringVal(f.EncryptedClientKey)}})
	before := h.Connections(t)
	resp, err := s.tr.Connect(context.Background(), &sdk.ConnectRequest{Host: s.host(h, nil)})
	if err != nil {
		t.Fatalf("Connect with the agent's key refused: %v, want the passphrase asked", err)
	}
	id := "passphrase:" + f.EncryptedClientKey
	if len(resp.Prompts) != 1 || resp.Prompts[0].ID != id {
		t.Fatalf("prompts = %+v, want the passphrase of %s", resp.Prompts, f.EncryptedClientKey)
	}
	if n := h.Connections(t) - before; n != 1 {
		t.Errorf("%d connections before the passphrase was asked, want 1 (the agent's keys offered first)", n)
	}
	resp, err = s.tr.Connect(context.Background(), &sdk.ConnectRequest{Host: s.host(h, nil), Answers: map[string]string{id: f.Passphrase}})
	if err != nil || len(resp.Prompts) > 0 {
		t.Fatalf("Connect with the passphrase: %v, prompts %+v", err, resp.Prompts)
	}
	if out := s.mustExec(h.Name, "echo ok"); out != "ok\n" {
		t.Errorf("output %q", out)
	}
}

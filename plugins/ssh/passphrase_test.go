package ssh

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestPassphrasePrompt covers an encrypted identity file whose key is not
// in the agent: its passphrase is asked for once, however many hosts use
// it at once, and without a terminal the key is named with the fix.
func TestPassphrasePrompt(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{Hosts: 5})
	tests := []struct {
		name    string
		answer  func() ([]byte, error)
		wantErr []string
	}{
		{name: "right passphrase", answer: func() ([]byte, error) { return []byte(f.Passphrase), nil }},
		{
			name:    "wrong passphrase",
			answer:  func() ([]byte, error) { return []byte("not it"), nil },
			wantErr: []string{"wrong passphrase", "asked once", "ssh-add " + f.EncryptedClientKey},
		},
		{
			name:    "no terminal",
			answer:  func() ([]byte, error) { return nil, errors.New("no terminal to ask on") },
			wantErr: []string{"is encrypted", "no terminal to ask on", "ssh-add " + f.EncryptedClientKey},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked atomic.Int32
			var prompt atomic.Value
			s := newTransport(t, f, setupOpts{
				noAgent:  true,
				settings: map[string]cty.Value{"identity_file": cty.StringVal(f.EncryptedClientKey)},
				passphrase: func(p string) ([]byte, error) {
					asked.Add(1)
					prompt.Store(p)
					return tt.answer()
				},
			})
			errs := make([]error, len(f.Hosts))
			var wg sync.WaitGroup
			for i, h := range f.Hosts {
				wg.Go(func() { errs[i] = s.connect(s.host(h, nil)) })
			}
			wg.Wait()
			if n := asked.Load(); n != 1 {
				t.Errorf("asked for the passphrase %d times, want once", n)
			}
			if p, _ := prompt.Load().(string); !strings.Contains(p, f.EncryptedClientKey) {
				t.Errorf("prompt %q does not name the key", p)
			}
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

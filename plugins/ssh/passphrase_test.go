package ssh

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
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

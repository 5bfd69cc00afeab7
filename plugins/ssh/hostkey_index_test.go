package ssh

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// The index of plainly named hosts gives every address the key types the
// line-by-line match of x/crypto's knownhosts gives it, and steps aside
// for the lines only that match can read.
func TestKnownKeyTypesIndexMatchesKnownhosts(t *testing.T) {
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := ssh.NewPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ssh.NewPublicKey(&ecPriv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	line := func(hosts string, k ssh.PublicKey) string {
		return hosts + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	addresses := []string{"web1:22", "web2:22", "10.0.0.1:22", "10.0.0.1:2222", "[::1]:22", "[::1]:2222", "db:22", "nowhere:22"}
	for _, tt := range []struct {
		name    string
		lines   []string
		indexed bool
	}{
		{"plain", []string{
			"# a comment", "",
			line("web1,10.0.0.1", ed),
			line("[10.0.0.1]:2222", ec),
			line("web1", ec),
			line("::1", ed),
			line("[::1]:2222,db", ec),
			line("[web2]:22", ed),
		}, true},
		{"hashed", []string{line(knownhosts.HashHostname("web1"), ed), line("web2", ec)}, false},
		{"pattern", []string{line("web*", ed), line("db", ec)}, false},
		{"negation", []string{line("web1,!web2", ed)}, false},
		{"marker", []string{"@cert-authority " + line("*.example.com", ed), line("web1", ec)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "known_hosts")
			if err := os.WriteFile(path, []byte(strings.Join(tt.lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			c := &hostKeyChecker{policy: Strict, files: []string{path}, record: path, logger: hclog.NewNullLogger()}
			if _, err := c.load(); err != nil {
				t.Fatal(err)
			}
			if got := c.parsed.keyTypes != nil; got != tt.indexed {
				t.Fatalf("indexed = %v, want %v", got, tt.indexed)
			}
			// The reference: the same checker without its index.
			ref := &hostKeyChecker{policy: Strict, files: []string{path}, record: path, logger: hclog.NewNullLogger()}
			if _, err := ref.load(); err != nil {
				t.Fatal(err)
			}
			ref.parsed.keyTypes = nil
			for _, a := range addresses {
				got, want := c.knownKeyTypes(a), ref.knownKeyTypes(a)
				if !slices.Equal(got, want) {
					t.Errorf("%s: key types %q, knownhosts says %q", a, got, want)
				}
			}
			if tt.name == "plain" {
				if got := c.knownKeyTypes("web1:22"); !slices.Equal(got, []string{ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256}) {
					t.Errorf("web1: key types %q, want ed25519 then ecdsa", got)
				}
			}
		})
	}
}

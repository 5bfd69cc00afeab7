package ssh

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// TestCheckCertificate: a host certificate signed by a CA of known_hosts
// is trusted only when it is a valid host certificate for the host,
// neither it nor its CA revoked; one signed by no CA known_hosts names for
// the host is neither trusted nor refused (its key is then checked as a
// plain one).
func TestCheckCertificate(t *testing.T) {
	t.Parallel()
	ca, otherCA, hostKey, revokedKey := newEd25519Signer(t), newEd25519Signer(t), newEd25519Signer(t), newEd25519Signer(t)
	line := func(marker string, k ssh.PublicKey) string {
		return marker + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	content := line("@cert-authority *.example.com,[*.example.com]:*", ca.PublicKey()) + "\n" +
		line("@cert-authority revoked-ca.example", otherCA.PublicKey()) + "\n" +
		line("@revoked *", otherCA.PublicKey()) + "\n" +
		line("@revoked *", revokedKey.PublicKey()) + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &hostKeyChecker{policy: Strict, files: []string{path}, record: path, logger: hclog.NewNullLogger()}
	p, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	cert := func(signer ssh.Signer, key ssh.PublicKey, kind uint32, principal string, validBefore uint64) *ssh.Certificate {
		c := &ssh.Certificate{Key: key, CertType: kind, ValidPrincipals: []string{principal}, ValidBefore: validBefore}
		if err := c.SignCert(rand.Reader, signer); err != nil {
			t.Fatal(err)
		}
		return c
	}
	forever := uint64(ssh.CertTimeInfinity)
	past := uint64(time.Now().Add(-time.Hour).Unix())
	tests := []struct {
		name, address string
		cert          *ssh.Certificate
		trusted       bool
		refused       string // in the error; "" for none
	}{
		{"valid", "web1.example.com:22", cert(ca, hostKey.PublicKey(), ssh.HostCert, "web1.example.com", forever), true, ""},
		{"valid, port 2222", "web1.example.com:2222", cert(ca, hostKey.PublicKey(), ssh.HostCert, "web1.example.com", forever), true, ""},
		{"another host's", "web2.example.com:22", cert(ca, hostKey.PublicKey(), ssh.HostCert, "web1.example.com", forever), false, "principal"},
		{"expired", "web1.example.com:22", cert(ca, hostKey.PublicKey(), ssh.HostCert, "web1.example.com", past), false, "expired"},
		{"a user certificate", "web1.example.com:22", cert(ca, hostKey.PublicKey(), ssh.UserCert, "web1.example.com", forever), false, "not a host certificate"},
		{"its key revoked", "web1.example.com:22", cert(ca, revokedKey.PublicKey(), ssh.HostCert, "web1.example.com", forever), false, "its key is marked @revoked"},
		{"its CA revoked", "revoked-ca.example:22", cert(otherCA, hostKey.PublicKey(), ssh.HostCert, "revoked-ca.example", forever), false, "its CA is marked @revoked"},
		{"no CA for the host", "db.internal:22", cert(ca, hostKey.PublicKey(), ssh.HostCert, "db.internal", forever), false, ""},
		{"another CA", "web1.example.com:22", cert(newEd25519Signer(t), hostKey.PublicKey(), ssh.HostCert, "web1.example.com", forever), false, ""},
	}
	for _, tt := range tests {
		trusted, err := p.checkCertificate(&target{name: "h"}, tt.address, tt.cert)
		switch {
		case trusted != tt.trusted:
			t.Errorf("%s: trusted %v, want %v (%v)", tt.name, trusted, tt.trusted, err)
		case tt.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.refused != "" && (err == nil || !strings.Contains(err.Error(), tt.refused)):
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.refused)
		}
	}
}

// TestMatchKnownHosts matches names as ssh's match_hostname: patterns,
// negation, hashed names.
func TestMatchKnownHosts(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		want     bool
	}{
		{"web1.example.com", []string{"*.example.com"}, true},
		{"[web1.example.com]:2222", []string{"*.example.com"}, false},
		{"[web1.example.com]:2222", []string{"[*.example.com]:*"}, true},
		{"web1.example.com", []string{"*.example.com", "!web1.example.com"}, false},
		{"WEB1.example.com", []string{"web1.example.com"}, false}, // names come lower-cased
		{"web1.example.com", []string{"WEB1.example.com"}, true},
		{"[10.0.0.1]:2222", []string{knownhosts.HashHostname("[10.0.0.1]:2222")}, true},
		{"10.0.0.1", []string{knownhosts.HashHostname("[10.0.0.1]:2222")}, false},
		{"[10.0.0.1]:2222", []string{knownhosts.HashHostname("[10.0.0.1]:2222"), "![10.0.0.*]:*"}, false},
	}
	for _, tt := range tests {
		if got := matchKnownHosts(tt.name, tt.patterns); got != tt.want {
			t.Errorf("%s against %v: %v, want %v", tt.name, tt.patterns, got, tt.want)
		}
	}
}

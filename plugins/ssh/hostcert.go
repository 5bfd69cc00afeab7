package ssh

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Host certificates, checked as ssh checks them (sshconnect.c,
// check_host_key): a server's certificate is trusted when an
// @cert-authority line of known_hosts whose host patterns match the host
// names the key that signed it, and the certificate is a valid host
// certificate for the host's name (or HostKeyAlias), neither it nor its
// CA @revoked. A certificate no such line vouches for is not refused: its
// key is checked as a plain host key ("No matching CA found. Retry with
// plain key"), and recorded as one under accept-new.
//
// x/crypto's knownhosts matches a pattern against the host name and port
// 22 only, so `@cert-authority * KEY` did not cover a server on port
// 2222, which ssh, matching "[host]:2222" against the pattern, trusts; and
// it counts an @cert-authority line's key among a host's known keys,
// which made a host a CA vouches for look re-keyed. These lines are
// matched here as ssh matches them (see lookupNames).

// authority is one @cert-authority line: its host patterns and CA key.
type authority struct {
	patterns []string
	key      ssh.PublicKey
}

// authorities are the @cert-authority lines and @revoked keys of some
// known_hosts files.
type authorities struct {
	cas     []authority
	revoked map[string]bool // by the key's wire form
	// lines are the places of the @cert-authority lines, "file:line":
	// knownhosts lists their keys among a host's known keys, which they
	// are not.
	lines map[string]bool
}

// parseAuthorities reads the @cert-authority and @revoked lines of files;
// lines that do not parse are skipped, as ssh skips them.
func parseAuthorities(files []knownHostsFile) authorities {
	a := authorities{revoked: map[string]bool{}, lines: map[string]bool{}}
	for _, f := range files {
		for i, line := range bytes.Split(f.data, []byte("\n")) {
			if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("@")) {
				continue
			}
			marker, hosts, key, _, _, err := ssh.ParseKnownHosts(line)
			if err != nil {
				continue
			}
			switch marker {
			case "cert-authority":
				a.cas = append(a.cas, authority{patterns: hosts, key: key})
				a.lines[fmt.Sprintf("%s:%d", f.name, i+1)] = true
			case "revoked":
				a.revoked[string(key.Marshal())] = true
			}
		}
	}
	return a
}

// isCALine reports whether a key knownhosts found is an @cert-authority
// line's.
func (a authorities) isCALine(k knownhosts.KnownKey) bool {
	return a.lines[fmt.Sprintf("%s:%d", k.Filename, k.Line)]
}

// covers reports whether an @cert-authority line's patterns match
// address, whatever its CA: ssh then offers certificates first.
func (a authorities) covers(address string) bool {
	for _, name := range lookupNames(address) {
		for _, l := range a.cas {
			if matchKnownHosts(name, l.patterns) {
				return true
			}
		}
	}
	return false
}

// vouches reports whether an @cert-authority line for address
// ("host:port") names ca.
func (a authorities) vouches(ca ssh.PublicKey, address string) bool {
	for _, name := range lookupNames(address) {
		for _, l := range a.cas {
			if bytes.Equal(l.key.Marshal(), ca.Marshal()) && matchKnownHosts(name, l.patterns) {
				return true
			}
		}
	}
	return false
}

// lookupNames are the names ssh looks address ("host:port") up by in
// known_hosts, in order: "host" on port 22; "[host]:port" on another,
// then "host" ("checking without port identifier"). The host is in lower
// case.
func lookupNames(address string) []string {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		host, port = address, "22"
	}
	host = strings.ToLower(host)
	if port == "22" {
		return []string{host}
	}
	return []string{"[" + host + "]:" + port, host}
}

// matchKnownHosts is ssh's match_hostname for a known_hosts line's host
// field: a hashed entry matches its name, a pattern (* and ?) as on a
// Host line; a negated pattern that matches fails the line.
func matchKnownHosts(name string, patterns []string) bool {
	hashed := slices.ContainsFunc(patterns, func(p string) bool { return strings.HasPrefix(p, "|1|") && matchHashed(name, p) })
	if !hashed {
		return matchHostLine(name, patterns, true)
	}
	return !slices.ContainsFunc(patterns, func(p string) bool {
		return strings.HasPrefix(p, "!") && wildcardMatch(name, strings.ToLower(p[1:]))
	})
}

// matchHashed matches name against a hashed host, "|1|SALT|HASH", both
// base64: HASH is HMAC-SHA1 of the name keyed with SALT.
func matchHashed(name, hashed string) bool {
	parts := strings.Split(hashed, "|")
	if len(parts) != 4 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	want, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	m := hmac.New(sha1.New, salt)
	m.Write([]byte(name))
	return hmac.Equal(m.Sum(nil), want)
}

// checkCertificate checks a host certificate for address: trusted is
// whether a CA of known_hosts vouches for it, err why it is refused all
// the same (not a host certificate, not for this host, expired, revoked).
// Neither means no CA vouches for it and its key is to be checked as a
// plain one.
func (p *parsedKnownHosts) checkCertificate(tg *target, address string, cert *ssh.Certificate) (trusted bool, err error) {
	if !p.authorities.vouches(cert.SignatureKey, address) {
		return false, nil
	}
	refuse := func(why string) error {
		return &HostKeyError{Host: tg.name, Address: address, Key: cert, Files: p.existing, Certificate: why}
	}
	switch {
	case cert.CertType != ssh.HostCert:
		return false, refuse("it is not a host certificate")
	case p.authorities.revoked[string(cert.SignatureKey.Marshal())]:
		return false, refuse("its CA is marked @revoked")
	case p.authorities.revoked[string(cert.Key.Marshal())]:
		return false, refuse("its key is marked @revoked")
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	// CheckCert verifies the CA's signature, the validity period and that
	// host is one of its principals.
	var cc ssh.CertChecker
	if err := cc.CheckCert(host, cert); err != nil {
		return false, refuse(strings.TrimPrefix(err.Error(), "ssh: "))
	}
	return true, nil
}

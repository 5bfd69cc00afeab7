package ssh

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is a host key that was refused: unknown (under "strict"),
// changed (under any policy) or revoked. Test for it with errors.As.
type HostKeyError struct {
	// Host is the configuration's host name (or "jump host X").
	Host string
	// Address is the "hostname:port" checked in known_hosts.
	Address string
	// Key is the key the server offered.
	Key ssh.PublicKey
	// Known lists the different keys known_hosts holds for the address,
	// with file and line; empty for an unknown host.
	Known []knownhosts.KnownKey
	// Files are the known_hosts files searched that exist (the first one
	// named, when none does).
	Files []string
	// Revoked is set when the key is marked @revoked, or, with
	// RevokedFile, listed in ssh_config's RevokedHostKeys file (Files).
	Revoked     bool
	RevokedFile bool
	// Certificate says why a host certificate signed by a CA known_hosts
	// trusts was refused; empty for any other refusal.
	Certificate string
}

// Changed reports whether known_hosts has another key for the host: the
// case of a reinstalled host, or of a man-in-the-middle.
func (e *HostKeyError) Changed() bool { return len(e.Known) > 0 }

// Fingerprint is the offered key's SHA256 fingerprint ("SHA256:...").
func (e *HostKeyError) Fingerprint() string { return ssh.FingerprintSHA256(e.Key) }

func (e *HostKeyError) Error() string {
	fp := e.Key.Type() + " key " + e.Fingerprint()
	switch {
	case e.Certificate != "":
		if cert, ok := e.Key.(*ssh.Certificate); ok {
			fp = "a certificate of " + cert.Key.Type() + " key " + ssh.FingerprintSHA256(cert.Key)
		}
		return fmt.Sprintf("host certificate of %s refused: the server offered %s, signed by a CA that known_hosts trusts, but %s; refusing to connect", e.Address, fp, e.Certificate)
	case e.Revoked && len(e.Files) == 1 && e.RevokedFile:
		return fmt.Sprintf("host key of %s is revoked: the server offered %s, listed in %s (RevokedHostKeys); refusing to connect", e.Address, fp, e.Files[0])
	case e.Revoked:
		return fmt.Sprintf("host key of %s is revoked: the server offered %s, marked @revoked in known_hosts; refusing to connect", e.Address, fp)
	case e.Changed():
		var at []string
		for _, k := range e.Known {
			at = append(at, fmt.Sprintf("%s:%d (%s)", k.Filename, k.Line, ssh.FingerprintSHA256(k.Key)))
		}
		return fmt.Sprintf("host key for %s has CHANGED: the server offered %s but known_hosts has a different key at %s; this may be a man-in-the-middle attack; if the host was legitimately re-keyed, check the new fingerprint out of band and remove the old entry (ssh-keygen -R %q -f %s)",
			e.Address, fp, strings.Join(at, ", "), knownhosts.Normalize(e.Address), e.Known[0].Filename)
	default:
		return fmt.Sprintf("host key for %s is unknown: the server offered %s, which is in none of %s; verify the fingerprint and add the key to known_hosts (ssh-keyscan), or set host_key_checking = \"accept-new\"",
			e.Address, fp, strings.Join(e.Files, ", "))
	}
}

// hostKeyChecker checks host keys against known_hosts files and, under
// accept-new, records unknown ones. Files are looked at on every check, so
// a key recorded by another host's check (or another fanout) is seen; they
// are parsed again only when one changed (see load).
type hostKeyChecker struct {
	policy HostKeyChecking
	// files are read in order; missing ones are skipped.
	files []string
	// record is where accept-new appends (files[0]).
	record string
	// hash records host names hashed (ssh_config's HashKnownHosts), as
	// ssh records them.
	hash   bool
	logger hclog.Logger

	// mu serialises records within this process; a flock on the record
	// file serialises them between processes. Held: re-read, check, append.
	mu sync.Mutex

	// parsed is the last parse of the files, with what they looked like
	// then; guarded by parseMu.
	parseMu sync.Mutex
	parsed  *parsedKnownHosts
}

// hostKeyCheckers hands out one checker per policy and list of files:
// the hosts that ssh_config gives the same known_hosts files, nearly
// always all of them, share one parse of the files. The zero value logs
// nowhere.
type hostKeyCheckers struct {
	logger hclog.Logger // nil: nowhere

	mu    sync.Mutex
	byKey map[string]*hostKeyChecker
}

// get returns the checker of files under policy, recording in record,
// host names hashed when hash.
func (h *hostKeyCheckers) get(policy HostKeyChecking, files []string, record string, hash bool) *hostKeyChecker {
	key := fmt.Sprintf("%s\x00%v\x00%s\x00%s", policy, hash, record, strings.Join(files, "\x00"))
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.byKey[key]; c != nil {
		return c
	}
	if h.byKey == nil {
		h.byKey = map[string]*hostKeyChecker{}
		if h.logger == nil {
			h.logger = hclog.NewNullLogger()
		}
	}
	c := &hostKeyChecker{policy: policy, files: files, record: record, hash: hash, logger: h.logger}
	h.byKey[key] = c
	return c
}

// parsedKnownHosts is known_hosts parsed once, and the files' state then.
type parsedKnownHosts struct {
	cb       ssh.HostKeyCallback
	existing []string      // the files that existed, in order
	stats    []os.FileInfo // of existing
	// keyTypes are the types of the keys the files list for each address
	// ("host" or "[host]:port", as knownhosts.Normalize writes it), in
	// file order, when every line names its hosts plainly; nil when a
	// line is hashed, a pattern, a negation or a marker (@cert-authority,
	// @revoked), which only cb matches. cb matches line by line, O(lines)
	// per lookup: on a fleet's known_hosts, every connection's lookup of
	// its host key algorithms scanned the whole file.
	keyTypes map[string][]string
	// authorities are the @cert-authority and @revoked lines, which
	// host certificates are checked against (see hostcert.go).
	authorities authorities
}

// unchanged reports whether the files that exist now are the ones parsed,
// with the same size and modification time.
func (p *parsedKnownHosts) unchanged(stats []os.FileInfo) bool {
	if p == nil || len(p.stats) != len(stats) {
		return false
	}
	for i, st := range stats {
		old := p.stats[i]
		if !os.SameFile(old, st) || old.Size() != st.Size() || !old.ModTime().Equal(st.ModTime()) {
			return false
		}
	}
	return true
}

// callback returns the HostKeyCallback for a connection to tg.
func (c *hostKeyChecker) callback(tg *target) ssh.HostKeyCallback {
	return func(address string, remote net.Addr, key ssh.PublicKey) error {
		if err := checkRevokedFile(tg, address, key); err != nil {
			return err
		}
		if cert, ok := key.(*ssh.Certificate); ok {
			p, err := c.load()
			if err != nil {
				return err
			}
			trusted, err := p.checkCertificate(tg, address, cert)
			if trusted || err != nil {
				return err
			}
			// No CA of known_hosts vouches for it: its key is checked,
			// and recorded, as a plain one, as ssh does.
			key = cert.Key
		}
		err := c.check(tg, address, remote, key)
		if err == nil {
			return nil
		}
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) || len(ke.Want) > 0 || c.policy != AcceptNew {
			return err
		}
		return c.accept(tg, address, remote, key)
	}
}

// check returns nil for a known key, a *HostKeyError wrapping nothing for
// a changed or revoked key, the *knownhosts.KeyError itself for an unknown
// key under accept-new (so callback can record it), and a *HostKeyError
// for an unknown key under strict.
func (c *hostKeyChecker) check(tg *target, address string, remote net.Addr, key ssh.PublicKey) error {
	p, err := c.load()
	if err != nil {
		return err
	}
	err = p.lookup(address, remote, key)
	if err == nil {
		return nil
	}
	hkErr := &HostKeyError{Host: tg.name, Address: address, Key: key, Files: p.existing}
	if len(p.existing) == 0 {
		hkErr.Files = c.files[:min(1, len(c.files))]
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		hkErr.Revoked = true
		return hkErr
	case errors.As(err, &ke) && len(ke.Want) > 0:
		hkErr.Known = ke.Want
		return hkErr
	case errors.As(err, &ke) && c.policy == AcceptNew:
		return ke
	case errors.As(err, &ke):
		return hkErr
	}
	return fmt.Errorf("host key check for %s: %w", address, err)
}

// lookup is knownhosts' check of key for address as ssh looks it up:
// @cert-authority lines are no known keys of a host, and a host on a port
// other than 22 unknown as "[host]:port" is looked up as "host" too (ssh:
// "checking without port identifier"), where only the same key counts.
func (p *parsedKnownHosts) lookup(address string, remote net.Addr, key ssh.PublicKey) error {
	err := p.cb(address, remote, key)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return err
	}
	ke.Want = slices.DeleteFunc(ke.Want, p.authorities.isCALine)
	if len(ke.Want) > 0 {
		return err
	}
	if host, port, perr := net.SplitHostPort(address); perr == nil && port != "22" {
		if p.cb(net.JoinHostPort(host, "22"), remote, key) == nil {
			return nil
		}
	}
	return err
}

// load returns the known_hosts files that exist, parsed. They are parsed
// again only when one appeared, went, or changed size or modification
// time since the last parse: parsing on every check made each connection
// cost O(hosts) (twice), 20 % of the plugin's CPU on 200 hosts.
func (c *hostKeyChecker) load() (*parsedKnownHosts, error) {
	var existing []string
	var stats []os.FileInfo
	for _, f := range c.files {
		if st, err := os.Stat(f); err == nil {
			existing = append(existing, f)
			stats = append(stats, st)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("known_hosts %s: %w", f, err)
		}
	}
	c.parseMu.Lock()
	defer c.parseMu.Unlock()
	if c.parsed.unchanged(stats) {
		return c.parsed, nil
	}
	cb, err := knownhosts.New(existing...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	// knownhosts reads the files itself; the index and the CA lines are
	// made from one more read of each.
	files := make([]knownHostsFile, len(existing))
	for i, f := range existing {
		files[i].name = f
		if files[i].data, err = os.ReadFile(f); err != nil {
			return nil, fmt.Errorf("known_hosts %s: %w", f, err)
		}
	}
	c.parsed = &parsedKnownHosts{cb: cb, existing: existing, stats: stats, keyTypes: indexKeyTypes(files), authorities: parseAuthorities(files)}
	return c.parsed, nil
}

// knownHostsFile is a known_hosts file's name and content.
type knownHostsFile struct {
	name string
	data []byte
}

// indexKeyTypes maps each address the files name to the types of its
// keys, in file order, as knownhosts would list them for that address;
// nil when a line is one that only knownhosts can match (see
// parsedKnownHosts.keyTypes).
func indexKeyTypes(files []knownHostsFile) map[string][]string {
	index := map[string][]string{}
	for _, f := range files {
		for rest := f.data; len(rest) > 0; {
			marker, hosts, key, _, next, err := ssh.ParseKnownHosts(rest)
			rest = next
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || marker != "" {
				return nil
			}
			for _, h := range hosts {
				if h == "" || strings.ContainsAny(h, "|!*?") {
					return nil
				}
				a := knownhosts.Normalize(h)
				index[a] = append(index[a], key.Type())
			}
		}
	}
	return index
}

// knownKeyTypes returns the types of the keys known_hosts lists for
// address, through the index when there is one.
func (c *hostKeyChecker) knownKeyTypes(address string) []string {
	p, err := c.load()
	if err != nil {
		return nil
	}
	return p.knownKeyTypes(address)
}

// knownKeyTypes: see hostKeyChecker.knownKeyTypes.
func (p *parsedKnownHosts) knownKeyTypes(address string) []string {
	if p.keyTypes != nil {
		return p.keyTypes[knownhosts.Normalize(address)]
	}
	var known []string
	err := p.cb(address, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, probeKey())
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		for _, k := range ke.Want {
			if !p.authorities.isCALine(k) {
				known = append(known, k.Key.Type())
			}
		}
	}
	return known
}

// accept records key for address in the record file, unless another
// process or goroutine recorded a key for it meanwhile: then that key
// decides, as if it had been there at first.
func (c *hostKeyChecker) accept(tg *target, address string, remote net.Addr, key ssh.PublicKey) (err error) {
	if c.record == "" {
		// No home and no known_hosts setting: nowhere to record.
		return &HostKeyError{Host: tg.name, Address: address, Key: key, Files: c.files}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(c.record), 0o700); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	f, err := openRecord(c.record)
	if err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	// A failed close may have lost the key just written, so it is the
	// error, unless one came first.
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("record host key in %s: %w", c.record, cerr)
		}
	}()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("record host key: lock %s: %w", c.record, err)
	}
	defer func() { _ = unlockFile(f) }() // a failed unlock is undone by the close

	err = c.check(tg, address, remote, key)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return err // known now, changed, or unreadable
	}
	name := knownhosts.Normalize(address)
	if c.hash {
		name = knownhosts.HashHostname(name)
	}
	line := knownhosts.Line([]string{name}, key) + "\n"
	if needsNewline(f) {
		line = "\n" + line
	}
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("record host key in %s: %w", c.record, err)
	}
	c.logger.Info("recorded new host key", "host", tg.name, "address", address,
		"fingerprint", ssh.FingerprintSHA256(key), "file", c.record)
	return nil
}

// needsNewline reports whether the file is non-empty and does not end
// with a newline.
func needsNewline(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()-1); err != nil && err != io.EOF {
		return false
	}
	return b[0] != '\n'
}

// probeKey is a key no known_hosts holds: checking it lists the keys known
// for an address.
var probeKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
})

// hostKeyAlgorithms returns the host key algorithms of all to offer for
// address: those of the keys known_hosts has for it, so that a host known
// by its RSA key is not asked for an ed25519 one that would look like a
// changed key; all otherwise.
func (c *hostKeyChecker) hostKeyAlgorithms(address string, all []string) []string {
	p, err := c.load()
	if err != nil {
		return all // the check will say what is wrong
	}
	// A host a CA may vouch for is asked for its certificate first, as
	// ssh asks (all lists certificates first).
	if p.authorities.covers(address) {
		return all
	}
	known := p.knownKeyTypes(address)
	if len(known) == 0 {
		return all
	}
	var out []string
	for _, algo := range all {
		for _, kt := range known {
			if algo == kt || (kt == ssh.KeyAlgoRSA && (algo == ssh.KeyAlgoRSASHA256 || algo == ssh.KeyAlgoRSASHA512)) {
				out = append(out, algo)
				break
			}
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// preferredHostKeyAlgorithms is x/crypto's supported list with ed25519
// (key and certificate) first.
func preferredHostKeyAlgorithms() []string {
	all := ssh.SupportedAlgorithms().HostKeys
	slices.SortStableFunc(all, func(a, b string) int {
		ea, eb := strings.Contains(a, "ed25519"), strings.Contains(b, "ed25519")
		switch {
		case ea && !eb:
			return -1
		case eb && !ea:
			return 1
		}
		return 0
	})
	return all
}

// preferredKeyExchanges is x/crypto's supported list with
// curve25519-sha256 first: the fastest handshake OpenSSH offers.
func preferredKeyExchanges() []string {
	all := ssh.SupportedAlgorithms().KeyExchanges
	out := []string{ssh.KeyExchangeCurve25519}
	for _, k := range all {
		if k != ssh.KeyExchangeCurve25519 {
			out = append(out, k)
		}
	}
	return out
}

// openRecord opens the known_hosts file that accept-new records keys in
// for appending. An existing file keeps its mode, which is the
// operator's; a new one is made 0600 whatever the umask.
func openRecord(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	}
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close() // empty: the chmod's error is the one to report
		return nil, err
	}
	return f, nil
}

// krlMagic begins an OpenSSH key revocation list (ssh-keygen -k).
const krlMagic = "SSHKRL\n\x00"

// checkRevokedFile refuses key, offered by address, when tg's
// revokedHostKeys file (ssh_config's RevokedHostKeys) lists it or, for a certificate, its key or
// the CA that signed it. As ssh does, a file that cannot be read refuses
// every key rather than none: a revocation list is no place to fail
// open. So do a line that is no key, and a KRL, which fanout cannot read;
// public keys one per line (as authorized_keys or a .pub holds them),
// blank lines and comments it reads.
func checkRevokedFile(tg *target, address string, key ssh.PublicKey) error {
	file := tg.revokedHostKeys
	if file == "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("host key of %s not checked against RevokedHostKeys: %w; refusing to connect", address, err)
	}
	if bytes.HasPrefix(b, []byte(krlMagic)) {
		return fmt.Errorf("host key of %s not checked against RevokedHostKeys %s: it is a key revocation list (KRL), which fanout cannot read; "+
			"list the revoked keys in it one per line instead; refusing to connect", address, file)
	}
	check := []ssh.PublicKey{key}
	if cert, ok := key.(*ssh.Certificate); ok {
		check = append(check, cert.Key, cert.SignatureKey)
	}
	n := 0
	for line := range bytes.Lines(b) {
		n++
		if l := bytes.TrimSpace(line); len(l) == 0 || l[0] == '#' {
			continue
		}
		revoked, _, _, _, err := ssh.ParseAuthorizedKey(line)
		if err != nil {
			// ssh refuses too: a typo must not hide the keys after it.
			return fmt.Errorf("host key of %s not checked against RevokedHostKeys: %s line %d is not a public key; refusing to connect", address, file, n)
		}
		for _, k := range check {
			if bytes.Equal(k.Marshal(), revoked.Marshal()) {
				return &HostKeyError{Host: tg.name, Address: address, Key: key, Files: []string{file}, Revoked: true, RevokedFile: true}
			}
		}
	}
	return nil
}

package ssh

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/fanout/fanout/sdk"
)

// agents keeps one connection per ssh-agent socket for the whole run. The
// x/crypto agent client pipelines concurrent requests on its connection, so
// one serves every handshake at once. A connection that fails is dropped
// and dialled again on next use.
type agents struct {
	mu    sync.Mutex // guards conns
	conns map[string]*agentConn

	// unlockMu guards unlocked.
	unlockMu sync.Mutex
	// unlocked holds, by identity file, the outcome of decrypting it with
	// the operator's passphrase: one try per run, whatever the answer,
	// however many hosts use the key.
	unlocked map[string]unlockResult
}

type unlockResult struct {
	signer ssh.Signer
	err    error
}

type agentConn struct {
	conn   net.Conn
	client agent.ExtendedAgent
}

// signers returns the keys of the agent at socket, each signing through
// the agent within limit (see ask). A broken cached connection is retried
// once.
func (a *agents) signers(socket string, limit time.Duration) ([]ssh.Signer, error) {
	for attempt := 0; ; attempt++ {
		ac, err := a.get(socket)
		if err != nil {
			return nil, err
		}
		var signers []ssh.Signer
		err = a.ask(socket, ac, limit, func() (err error) {
			signers, err = ac.client.Signers()
			return err
		})
		if err == nil {
			for i, s := range signers {
				signers[i] = &agentSigner{Signer: s, a: a, socket: socket, ac: ac, limit: limit}
			}
			return signers, nil
		}
		if errors.Is(err, errAgentSilent) || attempt > 0 {
			return nil, err
		}
		a.drop(socket, ac)
	}
}

// errAgentSilent is the error of an agent request that got no answer.
var errAgentSilent = errors.New("did not answer")

// ask makes request f of the agent connection ac at socket, and gives up
// after limit (the connect timeout): an agent that accepts connections
// and never answers (one waiting for a confirmation nobody gives, a stale
// forwarded socket) held a run for ever, and stopping it too. Giving up
// closes the connection, which ends f; the next request dials again.
func (a *agents) ask(socket string, ac *agentConn, limit time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		a.drop(socket, ac)
		_ = <-done // the request's end, failed by the close: the timeout is the error
		return fmt.Errorf("ssh-agent at %s %w within %s (is it waiting for a confirmation? ssh-add -l asks it)", socket, errAgentSilent, limit)
	}
}

// agentSigner is a key of an agent whose signatures are asked within a
// limit (see ask). It keeps the algorithms of the agent's signer: RSA
// keys sign with rsa-sha2-256 and -512 through it.
type agentSigner struct {
	ssh.Signer
	a      *agents
	socket string
	ac     *agentConn
	limit  time.Duration
}

func (s *agentSigner) Sign(rand io.Reader, data []byte) (sig *ssh.Signature, err error) {
	err = s.a.ask(s.socket, s.ac, s.limit, func() (err error) {
		sig, err = s.Signer.Sign(rand, data)
		return err
	})
	return sig, err
}

func (s *agentSigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (sig *ssh.Signature, err error) {
	as, ok := s.Signer.(ssh.AlgorithmSigner)
	if !ok {
		if algorithm != "" && algorithm != s.PublicKey().Type() {
			return nil, fmt.Errorf("ssh: the agent's %s key cannot sign with %s", s.PublicKey().Type(), algorithm)
		}
		return s.Sign(rand, data)
	}
	err = s.a.ask(s.socket, s.ac, s.limit, func() (err error) {
		sig, err = as.SignWithAlgorithm(rand, data, algorithm)
		return err
	})
	return sig, err
}

func (a *agents) get(socket string) (*agentConn, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ac := a.conns[socket]; ac != nil {
		return ac, nil
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, err
	}
	ac := &agentConn{conn: conn, client: agent.NewClient(conn)}
	if a.conns == nil {
		a.conns = make(map[string]*agentConn)
	}
	a.conns[socket] = ac
	return ac, nil
}

func (a *agents) drop(socket string, ac *agentConn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conns[socket] == ac {
		delete(a.conns, socket)
	}
	// Dropped because it failed: its close can only fail the same way.
	_ = ac.conn.Close()
}

// close closes every agent connection; the clients' reader goroutines end
// with them.
func (a *agents) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for s, ac := range a.conns {
		_ = ac.conn.Close() // a socket only read and written in requests that have ended
		delete(a.conns, s)
	}
}

// credentials are the keys offered to one server, agent keys first, and a
// description of where they came from for error messages.
type credentials struct {
	signers []ssh.Signer
	sources []string // "agent SOCK: 2 keys", "identity file F"
	// offered are signers as authMethod offers them (see offerings).
	offered []ssh.Signer
	// later are the passphrases of encrypted identity files not offered,
	// to ask when the server refuses every key that was.
	later []sdk.Prompt
}

// authMethod is the one publickey method that offers every key in order,
// RSA keys signing with rsa-sha2-512 first, as OpenSSH prefers. x/crypto
// signs an RSA key with the first algorithm of its own order (256, then
// 512) that the server's server-sig-algs lists, and OpenSSH lists there
// every algorithm it knows, not the ones PubkeyAcceptedAlgorithms allows:
// a server accepting only rsa-sha2-512 refused the key. When every key
// has been offered, each RSA key is offered again with rsa-sha2-256, then
// as x/crypto chooses (ssh-rsa for a server without server-sig-algs):
// retries come last, so that they cost a server's MaxAuthTries nothing
// when another key logs in. Only the algorithms ssh_config's PubkeyAcceptedAlgorithms accepts are
// offered (see credentialsFor); the last offering of an RSA key stands
// for ssh-rsa.
func (c *credentials) authMethod() ssh.AuthMethod { return ssh.PublicKeys(c.offered...) }

// offerings orders signers for publickey authentication: each one, an RSA
// one signing with rsa-sha2-512 only, then the RSA ones again with
// rsa-sha2-256 only, then as they are. A signer that cannot choose its
// algorithm (neither an AlgorithmSigner nor an agent key) is offered once,
// as it is. Only offerings of accepted algorithms are kept, unless
// accepted is nil.
func offerings(signers []ssh.Signer, accepted []string) []ssh.Signer {
	ok := func(algos ...string) bool {
		if accepted == nil {
			return true
		}
		for _, a := range algos {
			if slices.Contains(accepted, a) {
				return true
			}
		}
		return false
	}
	out := make([]ssh.Signer, 0, len(signers))
	var retries, last []ssh.Signer
	for _, s := range signers {
		as, isAS := s.(ssh.AlgorithmSigner)
		switch t := s.PublicKey().Type(); {
		case t == ssh.CertAlgoRSAv01:
			if ok(ssh.CertAlgoRSAv01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSASHA512v01) {
				out = append(out, s)
			}
			continue
		case t != ssh.KeyAlgoRSA:
			if ok(t) {
				out = append(out, s)
			}
			continue
		}
		var s512, s256 ssh.Signer
		var err512, err256 error
		if isAS {
			s512, err512 = ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512})
			s256, err256 = ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA256})
		}
		if !isAS || err512 != nil || err256 != nil {
			if ok(ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512) {
				out = append(out, s)
			}
			continue
		}
		if ok(ssh.KeyAlgoRSASHA512) {
			out = append(out, s512)
		}
		if ok(ssh.KeyAlgoRSASHA256) {
			retries = append(retries, s256)
		}
		if ok(ssh.KeyAlgoRSA) {
			last = append(last, s)
		}
	}
	return append(append(out, retries...), last...)
}

// credentialsFor collects the keys for tg without contacting the server. It
// returns an error wrapping ErrNoCredentials, saying what was tried, when
// there is none: the preflight reports it before anything runs. The keys
// come in ssh's order: the agent's keys of the identity files (in the
// agent's order), the agent's other keys (none with IdentitiesOnly), then
// the identity files whose key the agent does not hold.
//
// An encrypted identity file whose key is not in the agent is unlocked
// with the passphrase the operator gave (answers, by prompt ID); when no
// other key is usable and no answer was given yet, the error is a
// *PromptError asking for it.
func (a *agents) credentialsFor(tg *target, answers map[string]string) (*credentials, error) {
	var (
		creds    credentials
		problems []string
		seen     = map[string]bool{}
		prompts  []sdk.Prompt
	)
	// Certificates by the key they certify, the first for a key winning:
	// CertificateFile's, then those beside the identity files (below).
	certs := map[string]*ssh.Certificate{}
	keepCert := func(c *ssh.Certificate) {
		if c == nil {
			return
		}
		if k := string(c.Key.Marshal()); certs[k] == nil {
			certs[k] = c
		}
	}
	for _, f := range tg.certFiles {
		keepCert(readCert(f))
	}
	add := func(s ssh.Signer) bool {
		k := string(s.PublicKey().Marshal())
		if seen[k] {
			return false
		}
		seen[k] = true
		// The certificate beside the key's identity file is offered
		// first, signed by the same key (from the agent or the file).
		if cert := certs[k]; cert != nil {
			if cs, err := ssh.NewCertSigner(cert, s); err == nil {
				creds.signers = append(creds.signers, cs)
			}
		}
		creds.signers = append(creds.signers, s)
		return true
	}

	// Each identity file is read once: its public key orders the agent's
	// keys, its private key is offered after them, its certificate before
	// the key.
	ids := make([]identity, len(tg.identityFiles))
	files := map[string]bool{}
	for i, f := range tg.identityFiles {
		ids[i] = readIdentity(f)
		if ids[i].pub != nil {
			files[string(ids[i].pub.Marshal())] = true
		}
		keepCert(ids[i].cert)
	}

	// The agent's keys are offered as ssh offers them: those of the
	// identity files first, then the others, unless IdentitiesOnly. An
	// agent holding more keys than the server's MaxAuthTries would
	// otherwise fail the login before the configured key is offered.
	switch {
	case tg.agentSocket == "" && tg.agentSource == "SSH_AUTH_SOCK":
		problems = append(problems, "no ssh-agent (SSH_AUTH_SOCK is not set)")
	case tg.agentSocket == "":
		problems = append(problems, "no ssh-agent ("+tg.agentSource+")")
	default:
		signers, err := a.signers(tg.agentSocket, tg.connectTimeout)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("ssh-agent at %s (%s) unusable: %v", tg.agentSocket, tg.agentSource, err))
		case len(signers) == 0:
			problems = append(problems, fmt.Sprintf("ssh-agent at %s has no keys (ssh-add one)", tg.agentSocket))
		default:
			var ofFiles, others []ssh.Signer
			for _, s := range signers {
				switch {
				case files[string(s.PublicKey().Marshal())]:
					ofFiles = append(ofFiles, s)
				case !tg.identitiesOnly:
					others = append(others, s)
				}
			}
			n := 0
			for _, s := range append(ofFiles, others...) {
				if add(s) {
					n++
				}
			}
			switch {
			case !tg.identitiesOnly:
				creds.sources = append(creds.sources, fmt.Sprintf("%d key(s) of the agent at %s", n, tg.agentSocket))
			case n > 0:
				creds.sources = append(creds.sources, fmt.Sprintf("%d key(s) of the agent at %s (IdentitiesOnly: the identity files' keys)", n, tg.agentSocket))
			default:
				problems = append(problems, fmt.Sprintf("ssh-agent at %s holds none of the identity files' keys (IdentitiesOnly)", tg.agentSocket))
			}
		}
	}

	for _, id := range ids {
		f, err := id.path, id.err
		switch {
		case err == nil:
			if add(id.signer) {
				creds.sources = append(creds.sources, "identity file "+f)
			}
		case errors.Is(err, os.ErrNotExist) && !tg.identityExplicit:
			// OpenSSH's default key names: absent is normal
		case errors.Is(err, errPublicKeyOnly):
			if !seen[string(id.pub.Marshal())] {
				problems = append(problems, fmt.Sprintf("identity file %s is a public key, whose private key the agent does not hold (ssh-add it)", f))
			}
		case isEncrypted(err):
			if id.pub != nil && seen[string(id.pub.Marshal())] {
				continue // its key is in the agent: nothing to say
			}
			answer, ok := answers[passphrasePromptID(f)]
			if !ok {
				prompts = append(prompts, passphrasePrompt(f))
				continue
			}
			s, uerr := a.unlock(f, answer)
			if uerr != nil {
				problems = append(problems, uerr.Error())
				continue
			}
			if add(s) {
				creds.sources = append(creds.sources, "identity file "+f+" (unlocked with its passphrase)")
			}
		default:
			problems = append(problems, fmt.Sprintf("identity file %s: %v", f, err))
		}
	}
	if !tg.identityExplicit && len(creds.signers) == 0 {
		problems = append(problems, "no identity file (set identity_file, or IdentityFile in ssh_config)")
	}

	if len(creds.signers) == 0 && len(prompts) > 0 {
		return nil, &PromptError{Prompts: prompts}
	}
	// With other keys to offer first, the passphrase is asked only once
	// the server has refused them, as ssh asks it (handshakeError).
	creds.later = prompts
	if len(creds.signers) == 0 {
		return nil, fmt.Errorf("%w for %s@%s: %s", ErrNoCredentials, tg.user, tg.addr(), strings.Join(problems, "; "))
	}
	if creds.offered = offerings(creds.signers, tg.algos.pubkey); len(creds.offered) == 0 {
		var types []string
		for _, s := range creds.signers {
			types = append(types, s.PublicKey().Type())
		}
		return nil, fmt.Errorf("%w for %s@%s: PubkeyAcceptedAlgorithms at %s accepts none of the keys found (%s: %s)",
			ErrNoCredentials, tg.user, tg.addr(), tg.algos.specs[pubkeyChoice.keyword].pos, strings.Join(creds.sources, ", "), strings.Join(types, ","))
	}
	return &creds, nil
}

// PromptError means credentials need the operator's answers: Connect
// returns its prompts to the core, which asks and connects again.
type PromptError struct {
	Prompts []sdk.Prompt
}

func (e *PromptError) Error() string {
	return fmt.Sprintf("%d question(s) for the operator, first: %s", len(e.Prompts), e.Prompts[0].Text)
}

func passphrasePromptID(path string) string { return "passphrase:" + path }

func passphrasePrompt(path string) sdk.Prompt {
	return sdk.Prompt{
		ID:       passphrasePromptID(path),
		Text:     fmt.Sprintf("Enter passphrase for key %s: ", path),
		Secret:   true,
		NoAnswer: fmt.Sprintf("identity file %s is encrypted and its key is not in the agent: add it with `ssh-add %s`, or run fanout on a terminal to be asked for its passphrase", path, path),
	}
}

// unlock decrypts an encrypted identity file with the operator's answer.
// The outcome is kept for the run: every host using the key gets the same
// signer, or the same "wrong passphrase", without asking again.
func (a *agents) unlock(path, passphrase string) (ssh.Signer, error) {
	a.unlockMu.Lock()
	defer a.unlockMu.Unlock()
	if r, ok := a.unlocked[path]; ok {
		return r.signer, r.err
	}
	r := unlockResult{}
	r.signer, r.err = decryptIdentity(path, []byte(passphrase))
	if a.unlocked == nil {
		a.unlocked = make(map[string]unlockResult)
	}
	a.unlocked[path] = r
	return r.signer, r.err
}

func decryptIdentity(path string, pass []byte) (ssh.Signer, error) {
	b, err := readPrivateKeyFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKeyWithPassphrase(b, pass)
	if err != nil {
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("identity file %s: wrong passphrase (asked once per run; run again, or add the key with `ssh-add %s`)", path, path)
		}
		return nil, fmt.Errorf("identity file %s: %v", path, err)
	}
	return s, nil
}

// loadIdentity parses an unencrypted private key file.
func loadIdentity(path string) (ssh.Signer, error) {
	b, err := readPrivateKeyFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil && bytes.Contains(b, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
		// x/crypto reads no encrypted PKCS#8 (ssh-keygen -m PKCS8 -N).
		return nil, fmt.Errorf("an encrypted PKCS#8 key, which fanout cannot decrypt: ssh-add it, or rewrite it in OpenSSH's format (ssh-keygen -p -f %s)", path)
	}
	return s, err
}

// readPrivateKeyFile reads a private key file, refusing one of the
// operator's that others may read, as ssh refuses it ("UNPROTECTED
// PRIVATE KEY FILE"): a key others have read is no proof of identity.
func readPrivateKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if uid, ok := fileOwner(fi); ok && uid == os.Getuid() && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("its permissions %04o are too open (others may read it), and ssh refuses it too: chmod 600 %s", fi.Mode().Perm(), path)
	}
	return io.ReadAll(f)
}

func isEncrypted(err error) bool {
	var pm *ssh.PassphraseMissingError
	return errors.As(err, &pm)
}

// encryptedPublicKey is the public half of an encrypted key file: stored
// unencrypted in OpenSSH's format, otherwise read from FILE.pub.
// identity is one identity file as read for a connection.
type identity struct {
	path   string
	signer ssh.Signer    // nil unless err is nil
	err    error         // from reading the private key
	pub    ssh.PublicKey // nil when it cannot be known
	cert   *ssh.Certificate
}

// readIdentity reads the identity file path: its private key, its
// certificate (FILE-cert.pub, as ssh loads it), and its public key as ssh
// finds it to match agent keys: FILE.pub, else the private key file
// itself (its public part, when it is encrypted).
func readIdentity(path string) identity {
	id := identity{path: path, cert: readCert(path + "-cert.pub")}
	id.signer, id.err = loadIdentity(path)
	if id.err != nil && !errors.Is(id.err, os.ErrNotExist) && !isEncrypted(id.err) {
		// A public key names the agent's key to offer, as ssh takes it
		// (IdentityFile ~/.ssh/key.pub, for a key the agent or a
		// hardware token holds).
		if b, err := os.ReadFile(path); err == nil {
			if pub, _, _, _, err := ssh.ParseAuthorizedKey(bytes.TrimSpace(b)); err == nil {
				id.pub, id.err = pub, errPublicKeyOnly
				return id
			}
		}
	}
	if b, err := os.ReadFile(path + ".pub"); err == nil {
		if pub, _, _, _, err := ssh.ParseAuthorizedKey(bytes.TrimSpace(b)); err == nil {
			id.pub = pub
			return id
		}
	}
	switch {
	case id.err == nil:
		id.pub = id.signer.PublicKey()
	case isEncrypted(id.err):
		id.pub = encryptedPublicKey(path, id.err)
	}
	return id
}

// errPublicKeyOnly is the "error" of an identity file that is a public
// key: its private key is the agent's.
var errPublicKeyOnly = errors.New("a public key")

// readCert returns the certificate in path, nil when there is none.
func readCert(path string) *ssh.Certificate {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(bytes.TrimSpace(b))
	if err != nil {
		return nil
	}
	cert, _ := pub.(*ssh.Certificate)
	return cert
}

func encryptedPublicKey(path string, err error) ssh.PublicKey {
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) && pm.PublicKey != nil {
		return pm.PublicKey
	}
	b, rerr := os.ReadFile(path + ".pub")
	if rerr != nil {
		return nil
	}
	pub, _, _, _, perr := ssh.ParseAuthorizedKey(bytes.TrimSpace(b))
	if perr != nil {
		return nil
	}
	return pub
}

package ssh

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ssh_config's algorithm keywords, read as OpenSSH reads them
// (kex_assemble_names): a comma-separated list of names and patterns (*
// and ?) that replaces the default list, or, after "+", is appended to it,
// after "-", is removed from it, after "^", is placed at its head. The
// defaults are fanout's (x/crypto's, curve25519 and ed25519 first), not
// OpenSSH's; the names are matched against every algorithm x/crypto
// implements, the older ones it leaves out of its defaults too
// (diffie-hellman-group14-sha1, ssh-rsa, aes128-cbc...): that is how a
// server of before OpenSSH 7.2, or an appliance, is reached by ssh and by
// fanout alike (`HostKeyAlgorithms +ssh-rsa`). A name x/crypto does not
// implement (sntrup761x25519-sha512@openssh.com, umac-64@openssh.com,
// ssh-dss) is left out, as unusable; a list left with nothing is an error
// naming its line.

// algorithmKeywords are the keywords, lower case as ssh_config lines hold
// them, by the name OpenSSH gives them. PubkeyAcceptedKeyTypes is the old
// name of PubkeyAcceptedAlgorithms; whichever comes first is the value.
var algorithmKeywords = map[string]string{
	"kexalgorithms":            "KexAlgorithms",
	"hostkeyalgorithms":        "HostKeyAlgorithms",
	"ciphers":                  "Ciphers",
	"macs":                     "MACs",
	"pubkeyacceptedalgorithms": "PubkeyAcceptedAlgorithms",
	"pubkeyacceptedkeytypes":   "PubkeyAcceptedAlgorithms",
}

// algorithmSpec is one algorithm keyword's value as written, and where.
type algorithmSpec struct {
	value string
	pos   string // "file:line"
}

// algorithms are the lists a connection offers; nil is the default.
type algorithms struct {
	kex, ciphers, macs []string
	// hostKeys, when knownHostsOrder, is narrowed to the types known_hosts
	// has for the host (see hostKeyChecker.hostKeyAlgorithms), as ssh
	// orders by them when HostKeyAlgorithms is unset or starts with + or
	// -; otherwise it is offered as it is.
	hostKeys        []string
	knownHostsOrder bool
	// pubkey are the signature algorithms keys are offered with; nil:
	// every one (see offerings).
	pubkey []string
	// specs are the keywords ssh_config set, by OpenSSH's name
	// (sshOptions.algorithms).
	specs map[string]algorithmSpec
}

// algorithmChoice is what one keyword chooses from.
type algorithmChoice struct {
	keyword  string
	defaults func() []string
	known    func() []string
	what     string // "key exchange", for messages
}

var (
	kexChoice = algorithmChoice{"KexAlgorithms", preferredKeyExchanges, func() []string {
		return append(supportedAndInsecure(func(a ssh.Algorithms) []string { return a.KeyExchanges }), "curve25519-sha256@libssh.org")
	}, "key exchange"}
	hostKeyChoice = algorithmChoice{"HostKeyAlgorithms", preferredHostKeyAlgorithms, func() []string {
		return supportedAndInsecure(func(a ssh.Algorithms) []string { return a.HostKeys })
	}, "host key algorithm"}
	cipherChoice = algorithmChoice{"Ciphers", func() []string { return ssh.SupportedAlgorithms().Ciphers }, func() []string {
		return supportedAndInsecure(func(a ssh.Algorithms) []string { return a.Ciphers })
	}, "cipher"}
	macChoice = algorithmChoice{"MACs", func() []string { return ssh.SupportedAlgorithms().MACs }, func() []string {
		return supportedAndInsecure(func(a ssh.Algorithms) []string { return a.MACs })
	}, "MAC"}
	// fanout offers every key it has by default, an RSA key with ssh-rsa
	// last (see offerings): the defaults are every algorithm.
	pubkeyChoice = algorithmChoice{"PubkeyAcceptedAlgorithms", pubkeyAlgorithms, pubkeyAlgorithms, "public key signature algorithm"}
)

// supportedAndInsecure is one list of x/crypto's algorithms, its default
// ones then the others it implements.
func supportedAndInsecure(list func(ssh.Algorithms) []string) []string {
	return append(list(ssh.SupportedAlgorithms()), list(ssh.InsecureAlgorithms())...)
}

// pubkeyAlgorithms are the signature algorithms of user keys and of their
// certificates.
func pubkeyAlgorithms() []string {
	out := supportedAndInsecure(func(a ssh.Algorithms) []string { return a.PublicKeyAuths })
	for _, h := range supportedAndInsecure(func(a ssh.Algorithms) []string { return a.HostKeys }) {
		if strings.HasSuffix(h, "-cert-v01@openssh.com") {
			out = append(out, h)
		}
	}
	return out
}

// algorithmsFor assembles the lists ssh_config's options o give.
func algorithmsFor(o sshOptions) (algorithms, error) {
	a := algorithms{specs: o.algorithms}
	var err error
	for _, c := range []struct {
		choice algorithmChoice
		dst    *[]string
	}{{kexChoice, &a.kex}, {hostKeyChoice, &a.hostKeys}, {cipherChoice, &a.ciphers}, {macChoice, &a.macs}, {pubkeyChoice, &a.pubkey}} {
		spec, ok := o.algorithms[c.choice.keyword]
		if !ok {
			continue
		}
		if *c.dst, err = c.choice.assemble(spec); err != nil {
			return algorithms{}, err
		}
	}
	hk, set := o.algorithms[hostKeyChoice.keyword]
	a.knownHostsOrder = !set || strings.HasPrefix(hk.value, "+") || strings.HasPrefix(hk.value, "-")
	if a.hostKeys == nil {
		a.hostKeys = preferredHostKeyAlgorithms()
	}
	return a, nil
}

// assemble turns spec into the list it stands for (see the top of this
// file); an empty one is an error.
func (c algorithmChoice) assemble(spec algorithmSpec) ([]string, error) {
	known := c.known()
	out := assembleNames(spec.value, c.defaults(), known)
	if len(out) == 0 {
		return nil, fmt.Errorf("ssh_config %s: %s %q leaves no %s fanout implements (it has %s)",
			spec.pos, c.keyword, spec.value, c.what, strings.Join(known, ","))
	}
	return out, nil
}

// assembleNames is OpenSSH's kex_assemble_names: the names of known, in
// the order of the patterns that value and defaults make, each once.
func assembleNames(value string, defaults, known []string) []string {
	v := strings.TrimSpace(value)
	var patterns []string
	switch {
	case strings.HasPrefix(v, "+"):
		patterns = slices.Concat(defaults, strings.Split(v[1:], ","))
	case strings.HasPrefix(v, "-"):
		for _, d := range defaults {
			if !matchPatternList(d, v[1:], false) {
				patterns = append(patterns, d)
			}
		}
	case strings.HasPrefix(v, "^"):
		patterns = slices.Concat(strings.Split(v[1:], ","), defaults)
	default:
		patterns = strings.Split(v, ",")
	}
	var out []string
	for _, p := range patterns {
		for _, k := range known {
			if wildcardMatch(k, strings.TrimSpace(p)) && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// negotiationHint is the line that says what to do about err, a server
// offering no algorithm of a kind that fanout offers: the keyword that
// would allow the ones it offers that fanout implements, or that it
// implements none. specs are the keywords ssh_config set (see
// algorithms).
func negotiationHint(err *ssh.AlgorithmNegotiationError, specs map[string]algorithmSpec) string {
	var c algorithmChoice
	switch w := err.What; {
	case w == "key exchange":
		c = kexChoice
	case w == "host key":
		c = hostKeyChoice
	case strings.HasSuffix(w, " cipher"):
		c = cipherChoice
	case strings.HasSuffix(w, " MAC"):
		c = macChoice
	case w == "public key signature algorithm":
		c = pubkeyChoice
	default:
		return fmt.Sprintf("no %s in common: the server offers %s, fanout %s", w, strings.Join(err.RequestedAlgorithms, ","), strings.Join(err.SupportedAlgorithms, ","))
	}
	var theirs, usable []string
	known := c.known()
	for _, s := range err.RequestedAlgorithms {
		// ext-info-s and kex-strict-*: extensions, not key exchanges.
		if strings.HasPrefix(s, "ext-info-") || strings.HasPrefix(s, "kex-strict-") {
			continue
		}
		theirs = append(theirs, s)
		if slices.Contains(known, s) {
			usable = append(usable, s)
		}
	}
	msg := fmt.Sprintf("no %s in common: the server offers %s", c.what, strings.Join(theirs, ","))
	if spec, ok := specs[c.keyword]; ok {
		msg += fmt.Sprintf(", which %s at %s leaves out", c.keyword, spec.pos)
		if len(usable) == 0 {
			msg += ", and none of which fanout implements"
		}
		return msg
	}
	if len(usable) == 0 {
		return msg + ", none of which fanout implements"
	}
	return fmt.Sprintf("%s, which fanout leaves out unless told: to allow it for this host, add \"%s +%s\" to its ssh_config entry", msg, c.keyword, strings.Join(usable, ","))
}

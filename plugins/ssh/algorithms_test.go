package ssh

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
)

// TestAlgorithmListsAgainstOpenSSH assembles each algorithm keyword's
// value (+, -, ^, a list, patterns) from OpenSSH's own defaults and
// compares the list with the one `ssh -G` prints, both restricted to what
// x/crypto implements: fanout reads the lists as ssh does, from its own
// defaults.
func TestAlgorithmListsAgainstOpenSSH(t *testing.T) {
	t.Parallel()
	sshBin := sshClient(t)
	dir := t.TempDir()
	tests := []struct {
		choice algorithmChoice
		specs  []string
	}{
		{kexChoice, []string{"+diffie-hellman-group14-sha1", "-ecdh-*", "^diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1,curve25519-sha256", "-*sha1,ecdh-sha2-nistp521", "+diffie-hellman-group1-sha1,curve25519-sha256"}},
		{hostKeyChoice, []string{"+ssh-rsa", "-*-cert-v01@openssh.com", "^ssh-rsa,rsa-sha2-256", "ssh-rsa,ssh-ed25519", "-ssh-ed25519*,!ssh-ed25519"}},
		{cipherChoice, []string{"+aes128-cbc", "-chacha20*", "^aes256-ctr", "aes128-cbc,aes256-gcm@openssh.com"}},
		{macChoice, []string{"+hmac-sha1-96", "-*-etm@openssh.com", "hmac-sha1"}},
		{pubkeyChoice, []string{"+ssh-rsa", "-ssh-ed25519*", "ssh-ed25519,rsa-sha2-512", "^ssh-rsa"}},
	}
	sshList := func(t *testing.T, keyword, spec string) []string {
		t.Helper()
		conf := filepath.Join(dir, "config-"+strings.NewReplacer("*", "x", ",", "_", "^", "h", "!", "n").Replace(keyword+spec))
		content := ""
		if spec != "" {
			content = "Host *\n  " + keyword + " " + spec + "\n"
		}
		if err := os.WriteFile(conf, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sshBin, "-G", "-F", conf, "h").Output()
		if err != nil {
			t.Fatalf("ssh -G with %s %s: %v", keyword, spec, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, _ := strings.Cut(line, " "); k == strings.ToLower(keyword) {
				return strings.Split(v, ",")
			}
		}
		t.Fatalf("ssh -G printed no %s", keyword)
		return nil
	}
	for _, tt := range tests {
		known := tt.choice.known()
		implemented := func(list []string) []string {
			return slices.DeleteFunc(list, func(a string) bool { return !slices.Contains(known, a) })
		}
		defaults := implemented(sshList(t, tt.choice.keyword, ""))
		for _, spec := range tt.specs {
			want := implemented(sshList(t, tt.choice.keyword, spec))
			got := assembleNames(spec, defaults, known)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s %s:\n got %s\nwant %s (ssh -G)", tt.choice.keyword, spec, strings.Join(got, ","), strings.Join(want, ","))
			}
		}
	}
}

// TestAlgorithmsFromSSHConfig reads the keywords from a file as a host's
// connection would: the first value wins, PubkeyAcceptedKeyTypes is the
// old name of PubkeyAcceptedAlgorithms, known_hosts orders host keys
// unless HostKeyAlgorithms is a list of its own, and a list that leaves
// nothing fanout implements is an error naming its line.
func TestAlgorithmsFromSSHConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "config")
	content := "Host old\n  KexAlgorithms +diffie-hellman-group14-sha1\n  HostKeyAlgorithms +ssh-rsa\n  Ciphers aes128-cbc,aes128-ctr\n  PubkeyAcceptedKeyTypes ssh-ed25519\n" +
		"Host fixed\n  HostKeyAlgorithms ssh-ed25519\n  MACs hmac-sha1\n" +
		"Host none\n  KexAlgorithms sntrup761x25519-sha512@openssh.com\n" +
		"Host *\n  KexAlgorithms curve25519-sha256\n  PubkeyAcceptedAlgorithms rsa-sha2-512\n"
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := loadSSHConfigs(p, true, "", dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	r := &resolver{cfg: DefaultConfig(), keys: &hostKeyCheckers{}, ssh: sc, env: environment{getenv: func(string) string { return "" }, home: dir, user: "me"}}
	old, err := r.host("old", "old", hostSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if k := old.algos.kex; len(k) < 2 || k[len(k)-1] != ssh.InsecureKeyExchangeDH14SHA1 || k[0] != ssh.KeyExchangeCurve25519 {
		t.Errorf("old: kex %v, want fanout's defaults then diffie-hellman-group14-sha1", k)
	}
	if h := old.algos.hostKeys; !slices.Contains(h, ssh.KeyAlgoRSA) || !old.algos.knownHostsOrder {
		t.Errorf("old: host keys %v (known_hosts order %v), want ssh-rsa among them, ordered by known_hosts", h, old.algos.knownHostsOrder)
	}
	if c := strings.Join(old.algos.ciphers, ","); c != "aes128-cbc,aes128-ctr" {
		t.Errorf("old: ciphers %s", c)
	}
	if p := strings.Join(old.algos.pubkey, ","); p != "ssh-ed25519" {
		t.Errorf("old: pubkey %s, want ssh-ed25519 (PubkeyAcceptedKeyTypes, before Host *'s)", p)
	}
	fixed, err := r.host("fixed", "fixed", hostSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(fixed.algos.hostKeys, ","); h != "ssh-ed25519" || fixed.algos.knownHostsOrder {
		t.Errorf("fixed: host keys %s (known_hosts order %v), want ssh-ed25519 as it is", h, fixed.algos.knownHostsOrder)
	}
	if m := strings.Join(fixed.algos.macs, ","); m != "hmac-sha1" || fixed.algos.specs["MACs"].pos != p+":8" {
		t.Errorf("fixed: MACs %s from %q", m, fixed.algos.specs["MACs"].pos)
	}
	plain, err := r.host("plain", "plain", hostSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if k := strings.Join(plain.algos.kex, ","); k != "curve25519-sha256" || plain.algos.ciphers != nil || plain.algos.macs != nil {
		t.Errorf("plain: kex %s, ciphers %v, MACs %v: want curve25519-sha256 and the defaults", k, plain.algos.ciphers, plain.algos.macs)
	}
	_, err = r.host("none", "none", hostSettings{})
	if want := "host none: ssh_config " + p + ":10: KexAlgorithms \"sntrup761x25519-sha512@openssh.com\" leaves no key exchange fanout implements"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("none: %v, want %s...", err, want)
	}
}

// TestNegotiationHint: a server offering only what fanout leaves out by
// default is told apart from one offering nothing fanout implements, and
// from a list ssh_config set.
func TestNegotiationHint(t *testing.T) {
	tests := []struct {
		err  ssh.AlgorithmNegotiationError
		set  map[string]algorithmSpec
		want string
	}{
		{
			ssh.AlgorithmNegotiationError{What: "key exchange", RequestedAlgorithms: []string{"diffie-hellman-group14-sha1", "ext-info-s", "kex-strict-s-v00@openssh.com"}},
			nil,
			`no key exchange in common: the server offers diffie-hellman-group14-sha1, which fanout leaves out unless told: to allow it for this host, add "KexAlgorithms +diffie-hellman-group14-sha1" to its ssh_config entry`,
		},
		{
			ssh.AlgorithmNegotiationError{What: "host key", RequestedAlgorithms: []string{"ssh-dss"}},
			nil,
			"no host key algorithm in common: the server offers ssh-dss, none of which fanout implements",
		},
		{
			ssh.AlgorithmNegotiationError{What: "server to client cipher", RequestedAlgorithms: []string{"aes128-cbc", "aes256-cbc"}},
			map[string]algorithmSpec{"Ciphers": {pos: "/home/me/.ssh/config:4"}},
			"no cipher in common: the server offers aes128-cbc,aes256-cbc, which Ciphers at /home/me/.ssh/config:4 leaves out",
		},
	}
	for _, tt := range tests {
		if got := negotiationHint(&tt.err, tt.set); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.err.What, got, tt.want)
		}
	}
}

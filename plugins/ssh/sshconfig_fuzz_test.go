package ssh

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// FuzzSSHConfig reads hostile ~/.ssh/config and known_hosts files: any
// bytes give a lookup, algorithm lists or an error, and host key
// patterns a match or not, never a panic, and in time bounded by the
// input (patterns match in O(name x pattern)). Match exec commands are
// run by /bin/false here: a fuzzed file must not run what it says.
func FuzzSSHConfig(f *testing.F) {
	for _, seed := range []string{
		"Host web*\n  Port 2222\n  KexAlgorithms +diffie-hellman-group14-sha1\n",
		"Match host a exec \"true\" user b\n  HostKeyAlgorithms -ssh-*\nInclude x*\n",
		"Host *\n  Ciphers ^aes128-cbc,*\n  MACs -*\n  PubkeyAcceptedKeyTypes ,,,\n  ForwardAgent $X\n",
		"@cert-authority *.example.com,!a* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgx4VIFHX/7XUmO9WL0aurTXq3Tz1AlBrKDONI07AIH\n",
		"|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAA\n@revoked * x\n",
		"Host " + string(make([]byte, 300)) + "\n",
	} {
		f.Add([]byte(seed), "web1.example.com")
	}
	f.Fuzz(func(t *testing.T, content []byte, host string) {
		dir := t.TempDir()
		p := filepath.Join(dir, "config")
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		sc, err := loadSSHConfigs(p, true, "", dir, hclog.NewNullLogger())
		if err == nil {
			sc.execs.shell = "/bin/false"
			o := sc.lookup(host, "", "me")
			_, _ = algorithmsFor(o)
		}
		_ = parseAuthorities([]knownHostsFile{{p, content}}).covers(host + ":2222")
		_ = matchKnownHosts(host, []string{string(content)})
	})
}

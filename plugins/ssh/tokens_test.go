package ssh

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestPercentExpand: %% is %, a known token its value, an unknown one or
// a % at the end stays, as OpenSSH's percent_expand leaves them.
func TestPercentExpand(t *testing.T) {
	value := func(c byte) (string, bool) {
		switch c {
		case 'h':
			return "web1", true
		case 'p':
			return "22", true
		}
		return "", false
	}
	for in, want := range map[string]string{
		"":              "",
		"plain":         "plain",
		"%h:%p":         "web1:22",
		"%%h":           "%h",
		"%%%h":          "%web1",
		"%q%h":          "%qweb1",
		"ends with %":   "ends with %",
		"%h.example.%h": "web1.example.web1",
	} {
		if got := percentExpand(in, value); got != want {
			t.Errorf("percentExpand(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExpandFileTokens: the keywords naming files (IdentityFile and the
// like) get every token ssh gives them, and ${VAR} from the environment;
// an unset VAR stays, so that the missing file names it.
func TestExpandFileTokens(t *testing.T) {
	local, _ := os.Hostname()
	short, _, _ := strings.Cut(local, ".")
	r := &resolver{env: environment{home: "/home/me", user: "me", getenv: func(k string) string {
		return map[string]string{"KEYS": "/srv/keys"}[k]
	}}}
	tg := &target{alias: "web", hostname: "web.example", user: "deploy", port: 2222,
		jumps: []jumpSpec{{host: "b1"}, {user: "ops", host: "b2", port: 2200}}}
	sum := sha1.Sum([]byte(local + "web.example" + "2222" + "deploy"))
	for in, want := range map[string]string{
		"~/.ssh/keys/%n": "/home/me/.ssh/keys/web",
		"%d/%u/%h/%r/%p": "/home/me/me/web.example/deploy/2222",
		"%l %L":          local + " " + short,
		"%i":             strconv.Itoa(os.Getuid()),
		"%k":             "web.example",
		"%C":             hex.EncodeToString(sum[:]),
		"%j":             "b1,ops@b2:2200",
		"${KEYS}/%n":     "/srv/keys/web",
		"${UNSET}/id":    "${UNSET}/id",
		"${KEYS}${KEYS}": "/srv/keys/srv/keys",
		"%%n and ${KEYS": "%n and ${KEYS",
	} {
		if got := r.expand(in, tg); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
	tg.hostKeyAlias = "alias"
	if got := r.expand("%k", tg); got != "alias" {
		t.Errorf("expand(%%k) with HostKeyAlias = %q", got)
	}
}

// TestSSHPort: ssh_config's Port, a number or, as ssh takes it, a
// service name; anything else is refused naming it.
func TestSSHPort(t *testing.T) {
	for in, want := range map[string]int{"": 22, "2222": 2222, " 2200 ": 2200, "http": 80, "ssh": 22} {
		if got, err := sshPort("h", sshOptions{port: in}); err != nil || got != want {
			t.Errorf("Port %q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "70000", "no-such-service", "-1"} {
		if _, err := sshPort("h", sshOptions{port: in}); err == nil || !strings.Contains(err.Error(), "invalid Port") {
			t.Errorf("Port %q: %v, want it refused", in, err)
		}
	}
}

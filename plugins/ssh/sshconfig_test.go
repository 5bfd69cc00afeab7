package ssh

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/sdk/sdktest"
)

// TestSSHConfigAgainstOpenSSH resolves hosts through ssh_config files and
// compares the hostname, port and user fanout connects with to what
// OpenSSH's own `ssh -G` prints for the same files.
func TestSSHConfigAgainstOpenSSH(t *testing.T) {
	t.Parallel()
	sshBin := sshClient(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	local := u.Username
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("inc/a.conf", "Host inc-a\n  Port 2301\n  User from-inc-a\nHost *\n  User inc-any\n")
	write("inc/b.conf", "Host inc-b\n  HostName b.example\n")
	write("cond.conf", "Port 2401\n")

	tests := []struct {
		name   string
		user   string // ssh_config; %D is the test's directory
		system string // the system file, read after the user's
		hosts  []string
		login  string // HCL user, as ssh -l
	}{
		{
			name:  "Host patterns, negation, first value wins",
			user:  "Host web*\n  Port 2201\n  User deploy\nHost * !bastion\n  Port 2202\n  User everyone\nHost bastion\n  HostName 10.1.0.1\n",
			hosts: []string{"web1", "db1", "bastion"},
		},
		{
			name:  "Match host is the HostName, originalhost the name given",
			user:  "Host web\n  HostName 10.0.0.5\nMatch host web\n  Port 1111\nMatch host 10.0.0.*\n  Port 2222\nMatch originalhost web\n  User orig\n",
			hosts: []string{"web", "10.0.0.9", "other"},
		},
		{
			name:  "Match host before any HostName is the name given",
			user:  "Match host web\n  User early\nHost web\n  HostName 10.0.0.5\n",
			hosts: []string{"web"},
		},
		{
			name:  "Match user is the login user so far",
			user:  "Match user deploy\n  Port 2200\nMatch user " + local + "\n  Port 2300\nHost *\n  HostName %h.example\n",
			hosts: []string{"app"},
		},
		{
			name:  "Match user sees ssh -l (the HCL user)",
			user:  "Match user deploy\n  Port 2200\nMatch user " + local + "\n  Port 2300\n",
			hosts: []string{"app"},
			login: "deploy",
		},
		{
			name:  "Match user after a User line",
			user:  "Host app\n  User ops\nMatch user ops\n  Port 2500\n",
			hosts: []string{"app", "db"},
		},
		{
			name:  "Match localuser, negation, lists, all",
			user:  "Match localuser " + local + " !host db*\n  Port 2600\nMatch host web,!web2\n  User w\nMatch all\n  User everyone\n",
			hosts: []string{"web1", "web2", "db1"},
		},
		{
			name:  "Match canonical is skipped, as OpenSSH finds it false here",
			user:  "Match canonical\n  User canon\nMatch !originalhost zz\n  User notzz\n",
			hosts: []string{"web"},
		},
		{
			name: "Match exec, its tokens, not run after a failed criterion",
			user: "Host db\n  HostName db.internal\n  Port 2222\nMatch exec \"test %h = db.internal -a %n = db -a %p = 2222 -a %r = " + local + "\"\n  User tokens-ok\n" +
				"Match exec \"exit 3\"\n  Port 2701\nMatch !exec \"exit 3\" host web*\n  Port 2702\n" +
				"Match host nothing exec \"touch %D/ran-%h\"\n  Port 2703\nMatch exec \"test %u = " + local + "\"\n  HostName %h.local-ok\n",
			hosts: []string{"web1", "db", "other"},
		},
		{
			name:  "Include, glob, conditional inside a block",
			user:  "Host inc-*\n  Include %D/inc/*.conf\nHost cond\n  Include %D/cond.conf\nHost *\n  Port 2800\n",
			hosts: []string{"inc-a", "inc-b", "cond", "plain"},
		},
		{
			name:  "tokens in HostName",
			user:  "Host *.short\n  HostName %h.example.org\nHost x\n  HostName %%h-%h\n",
			hosts: []string{"a.short", "x"},
		},
		{
			// Lowercased as ssh forces it, for known_hosts.
			name:  "host names in capitals",
			user:  "Host UP\n  HostName Web1.Example.ORG\nHost Web3\n  Port 2203\nMatch host WEB4\n  Port 2204\nMatch originalhost web5\n  Port 2205\n",
			hosts: []string{"UP", "up", "WEB2.example", "Web3", "web3", "WEB3", "web4", "Web4", "WEB5"},
		},
		{
			name: "known_hosts files and host key checking, tokens expanded",
			user: "Host web*\n  UserKnownHostsFile /etc/fleet/%h.keys ~/.ssh/kh_%r_%p\n  GlobalKnownHostsFile none\n  StrictHostKeyChecking accept-new\n  Port 2222\n  User deploy\n" +
				"  CertificateFile ~/.ssh/%r-cert.pub\n  CertificateFile /etc/certs/%h.pub\n" +
				"Host db\n  UserKnownHostsFile none\n  StrictHostKeyChecking no\n  HostKeyAlias db-key\n  ConnectTimeout 7\n  ServerAliveInterval 30\n  ServerAliveCountMax 5\n" +
				"Host web*\n  ServerAliveInterval 0\nHost cache\n  ServerAliveCountMax 1\nHost cache\n  GlobalKnownHostsFile /etc/fleet/global\n  StrictHostKeyChecking yes\n",
			hosts: []string{"web1", "db", "cache", "other"},
		},
		{
			name: "ProxyCommand as written, or ProxyJump, whichever comes first",
			user: "Host a\n  ProxyCommand sh -c \"nc %h %p\"  # kept\nHost b\n  ProxyJump j1\n  ProxyCommand nc %h %p\n" +
				"Host c\n  ProxyCommand=none\n  ProxyJump j2\nHost *\n  ProxyCommand ssh -W %h:%p -l %r bastion %%\n",
			hosts: []string{"a", "b", "c", "d"},
		},
		{
			name:   "the system file after the user's, first value wins across both",
			user:   "Host web\n  Port 2900\n",
			system: "Host web\n  Port 1\n  User from-system\n  HostName web.internal\nMatch host web.internal\n  User not-first\n",
			hosts:  []string{"web", "db"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			userFile := write("user"+strconv.Itoa(i), strings.ReplaceAll(tt.user, "%D", dir))
			systemFile, sshFile := "", userFile
			if tt.system != "" {
				systemFile = write("system"+strconv.Itoa(i), tt.system)
				// ssh -F reads one file: the system one is read after
				// the user's, from a fresh state, as Match all does.
				sshFile = write("both"+strconv.Itoa(i), strings.ReplaceAll(tt.user, "%D", dir)+"\nMatch all\nInclude "+systemFile+"\n")
			}
			sc, err := loadSSHConfigs(userFile, true, systemFile, dir, hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			r := &resolver{cfg: DefaultConfig(), keys: &hostKeyCheckers{}, ssh: sc, env: environment{getenv: func(string) string { return "" }, home: dir, user: local, systemKnownHosts: SystemKnownHosts}}
			for _, host := range tt.hosts {
				tg, err := r.host(host, host, hostSettings{User: tt.login})
				if err != nil {
					t.Fatalf("%s: %v", host, err)
				}
				var jumps []string
				for _, j := range tg.jumps {
					jumps = append(jumps, j.String())
				}
				got := map[string]string{"hostname": tg.hostname, "port": strconv.Itoa(tg.port), "user": tg.user,
					"knownhosts": strings.Join(tg.hostKeys.files, " "), "checking": string(tg.hostKeys.policy),
					"proxyjump": strings.Join(jumps, ","), "proxycommand": tg.proxyCommand, "hostkeyalias": tg.hostKeyAlias,
					"certificatefile": strings.Join(tg.certFiles, " "), "connecttimeout": tg.connectTimeout.String(),
					"identityfile": strings.Join(tg.identityFiles, " "),
					"keepalive":    fmt.Sprintf("%s x %d", tg.keepaliveInterval, tg.keepaliveCountMax)}
				want := sshG(t, sshBin, sshFile, host, tt.login)
				// ssh -G shows the command and certificate files before
				// their tokens are replaced.
				want["proxycommand"] = r.expandProxyCommand(want["proxycommand"], tg)
				var certs []string
				for _, c := range strings.Fields(want["certificatefile"]) {
					certs = append(certs, r.expand(c, tg))
				}
				want["certificatefile"] = strings.Join(certs, " ")
				var ids []string
				for _, c := range strings.Fields(want["identityfile"]) {
					ids = append(ids, strings.ReplaceAll(r.expand(c, tg), u.HomeDir+"/", dir+"/"))
				}
				want["identityfile"] = strings.Join(ids, " ")
				// ssh's ~ is the passwd entry's home, fanout's the test's.
				want["knownhosts"] = strings.ReplaceAll(want["knownhosts"], u.HomeDir+"/", dir+"/")
				// ssh has no timeout where none is set; fanout has its own.
				if want["connecttimeout"] == "" {
					want["connecttimeout"] = DefaultConnectTimeout.String()
				}
				// ssh's ServerAliveInterval 0 (its default) sends no
				// keepalives; fanout sends its own.
				interval, count := DefaultKeepaliveInterval, DefaultKeepaliveCountMax
				if n, _ := strconv.Atoi(want["serveraliveinterval"]); n > 0 {
					interval = time.Duration(n) * time.Second
				}
				if n, _ := strconv.Atoi(want["serveralivecountmax"]); n > 0 {
					count = n
				}
				want["keepalive"] = fmt.Sprintf("%s x %d", interval, count)
				for _, k := range []string{"hostname", "port", "user", "knownhosts", "checking", "proxyjump", "proxycommand", "hostkeyalias", "certificatefile", "identityfile", "connecttimeout", "keepalive"} {
					if got[k] != want[k] {
						t.Errorf("%s: %s %q, ssh -G says %q", host, k, got[k], want[k])
					}
				}
			}
		})
	}
	// A Match exec after a failed criterion was run by neither.
	if ran, _ := filepath.Glob(filepath.Join(dir, "ran-*")); len(ran) > 0 {
		t.Errorf("Match exec ran after a failed criterion: %v", ran)
	}
}

// sshG returns the hostname, port and user `ssh -G` resolves for host,
// the known_hosts files it would read (the user's, then the system's), and
// its StrictHostKeyChecking as the policy fanout takes from it.
func sshG(t *testing.T, sshBin, file, host, login string) map[string]string {
	t.Helper()
	args := []string{"-G", "-F", file}
	if login != "" {
		args = append(args, "-l", login)
	}
	cmd := exec.Command(sshBin, append(args, host)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh -G %s: %v: %s", host, err, stderr.String())
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "hostname", "port", "user", "proxyjump", "proxycommand", "hostkeyalias", "serveraliveinterval", "serveralivecountmax":
			got[k] = v
		case "userknownhostsfile", "globalknownhostsfile":
			if v != "none" {
				got[k] = v
			}
		case "certificatefile":
			got[k] = strings.TrimSpace(got[k] + " " + v)
		case "identityfile":
			// The default files fanout can use from a file: not a
			// security key's (_sk), XMSS or DSA.
			if !strings.HasSuffix(v, "_sk") && !strings.HasSuffix(v, "_xmss") && !strings.HasSuffix(v, "_dsa") {
				got[k] = strings.TrimSpace(got[k] + " " + v)
			}
		case "connecttimeout":
			if n, err := strconv.Atoi(v); err == nil {
				got[k] = (time.Duration(n) * time.Second).String()
			}
		case "stricthostkeychecking":
			got["checking"] = string(Strict)
			if v == "accept-new" || v == "false" {
				got["checking"] = string(AcceptNew)
			}
		}
	}
	got["knownhosts"] = strings.TrimSpace(got["userknownhostsfile"] + " " + got["globalknownhostsfile"])
	return got
}

// TestJumpHostProxyCommand: the first jump host's own ProxyCommand reaches
// it, as `ssh -W` to it would use it; the host behind it, whose ProxyJump
// comes first, has none.
func TestJumpHostProxyCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "config")
	if err := os.WriteFile(p, []byte("Host bastion\n  HostName 10.0.0.1\n  ProxyCommand nc -X connect -x proxy:3128 %h %p\nHost app\n  ProxyJump bastion\n  ProxyCommand nc %h %p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := loadSSHConfigs(p, true, "", dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	r := &resolver{cfg: DefaultConfig(), keys: &hostKeyCheckers{}, ssh: sc, env: environment{getenv: func(string) string { return "" }, home: dir, user: "me"}}
	app, err := r.host("app", "app", hostSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if app.proxyCommand != "" || len(app.jumps) != 1 {
		t.Fatalf("app: ProxyCommand %q, jumps %v; want none and bastion", app.proxyCommand, app.jumps)
	}
	jump, err := r.jump(app.jumps[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := "nc -X connect -x proxy:3128 10.0.0.1 22"; jump.proxyCommand != want {
		t.Errorf("bastion's ProxyCommand %q, want %q", jump.proxyCommand, want)
	}
}

// TestJumpHostUser: a jump host logs in as its ProxyJump's user@, else its
// ssh_config User, else the local user, as ssh's: the transport's user
// (and exec -l) is the destination's alone.
func TestJumpHostUser(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "config")
	if err := os.WriteFile(p, []byte("Host bastion2\n  User ops\nHost app\n  ProxyJump bastion1,bastion2,root@bastion3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := loadSSHConfigs(p, true, "", dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.User = "deploy"
	r := &resolver{cfg: cfg, keys: &hostKeyCheckers{}, ssh: sc, env: environment{getenv: func(string) string { return "" }, home: dir, user: "me"}}
	app, err := r.host("app", "app", hostSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if app.user != "deploy" {
		t.Errorf("app logs in as %q, want deploy", app.user)
	}
	var got []string
	for _, j := range app.jumps {
		tg, err := r.jump(j)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tg.user)
	}
	if want := []string{"me", "ops", "root"}; !slices.Equal(got, want) {
		t.Errorf("jump hosts log in as %v, want %v", got, want)
	}
}

// TestSSHConfigNeverFails reads Match lines fanout does not evaluate: they
// are skipped with one debug line each, and nothing fails.
func TestSSHConfigNeverFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "config")
	// It includes itself, twice: read once.
	content := "Include " + p + " " + p + "\nMatch final\n  Port 1\nMatch canonical\n  Port 2\nMatch localnetwork 10.0.0.0/8\n  Port 3\nMatch host\n  Port 4\nMatch all host x\n  Port 5\nMatch\n  Port 6\nHost *\n  Port 7\n"
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var log sdktest.Output
	sc, err := loadSSHConfigs(p, true, "", dir, hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: &log}))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if o := sc.lookup("web", "", "me"); o.port != "7" {
			t.Errorf("port %q, want 7 from Host *", o.port)
		}
	}
	if n := strings.Count(log.String(), "Match block skipped"); n != 6 {
		t.Errorf("%d debug lines, want one per skipped Match line (6):\n%s", n, log.String())
	}
}

// TestSystemSSHConfig: /etc/ssh/ssh_config (here a file in its place) is
// read after ~/.ssh/config, the first value winning across both, and not
// at all when the ssh_config setting names the file to read, as ssh -F.
func TestSystemSSHConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	write := func(p, content string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(home, ".ssh", "config"), "Host web\n  Port 2000\n")
	write(filepath.Join(dir, "system"), "Host web\n  Port 2022\n  User sys\n")
	write(filepath.Join(dir, "explicit"), "Host web\n  Port 2100\n")
	impl := New(nil)
	impl.env = environment{getenv: func(string) string { return "" }, home: home, user: "me", systemSSHConfig: filepath.Join(dir, "system")}

	for _, tt := range []struct {
		sshConfig  string
		port       int
		user, what string
	}{
		{"", 2000, "sys", "the user's file, then the system's"},
		{filepath.Join(dir, "explicit"), 2100, "me", "ssh_config set: that file alone"},
	} {
		cfg := DefaultConfig()
		cfg.SSHConfig = tt.sshConfig
		cfg.KnownHosts = []string{filepath.Join(dir, "known_hosts")}
		st, d := impl.newSettings(cfg)
		if d != nil {
			t.Fatalf("%s: %s: %s", tt.what, d.Summary, d.Detail)
		}
		tg, err := st.resolver.host("web", "web", hostSettings{})
		if err != nil {
			t.Fatal(err)
		}
		if tg.port != tt.port || tg.user != tt.user {
			t.Errorf("%s: port %d, user %s; want %d, %s", tt.what, tg.port, tg.user, tt.port, tt.user)
		}
	}
}

// TestMatchExecOnce: a Match exec command is run once for every host that
// asks the same (after its tokens), concurrently asked or not; one with
// the host's name in it runs for each host.
func TestMatchExecOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "config")
	content := fmt.Sprintf("Match exec \"echo >> %s/same\"\n  Port 2000\nMatch exec \"echo %%n >> %s/each\"\n  User each\n", dir, dir)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := loadSSHConfigs(p, true, "", dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			if o := sc.lookup(fmt.Sprintf("web%d", i), "", "me"); o.port != "2000" || o.user != "each" {
				t.Errorf("web%d: port %q, user %q", i, o.port, o.user)
			}
		})
	}
	wg.Wait()
	for name, want := range map[string]int{"same": 1, "each": 5} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n != want {
			t.Errorf("%s: run %d times, want %d", name, n, want)
		}
	}
}

// TestWildcardMatch: * and ? as ssh matches them, checked against a
// plain recursive matcher on every short pattern and name over a small
// alphabet; and a pattern of many *s that fails only at its end, which a
// matcher that tries every split would take ages over, answers.
func TestWildcardMatch(t *testing.T) {
	var reference func(s, p string) bool
	reference = func(s, p string) bool {
		switch {
		case p == "":
			return s == ""
		case p[0] == '*':
			return reference(s, p[1:]) || (s != "" && reference(s[1:], p))
		case s == "":
			return false
		case p[0] == '?' || p[0] == s[0]:
			return reference(s[1:], p[1:])
		}
		return false
	}
	// Every string of up to 4 characters over these, as name and pattern.
	var all []string
	var grow func(prefix string)
	grow = func(prefix string) {
		all = append(all, prefix)
		if len(prefix) < 4 {
			for _, c := range "a*?." {
				grow(prefix + string(c))
			}
		}
	}
	grow("")
	for _, p := range all {
		for _, s := range all {
			if strings.ContainsAny(s, "*?") {
				continue
			}
			if got, want := wildcardMatch(s, p), reference(s, p); got != want {
				t.Fatalf("wildcardMatch(%q, %q) = %v, want %v", s, p, got, want)
			}
		}
	}
	name := strings.Repeat("a", 200)
	if wildcardMatch(name, strings.Repeat("a*", 40)+"b") {
		t.Error("a name of a's matched a pattern ending in b")
	}
	if !wildcardMatch(name+".example.com", "*.example.com") || wildcardMatch("example.com", "*.example.com") {
		t.Error("*.example.com")
	}
}

// TestSSHConfigExtraArguments: a line giving a one-value keyword more
// than one value makes ssh refuse the whole file, whichever Host block it
// is in and whichever host is asked for; fanout refuses it too, naming
// the line, rather than reach a host with its first value where ssh
// reaches none. A quoted value with a blank, or a trailing comment, is
// one value to both.
func TestSSHConfigExtraArguments(t *testing.T) {
	t.Parallel()
	sshBin := sshClient(t)
	dir := t.TempDir()
	for i, tt := range []struct {
		line    string
		refused bool
	}{
		{"Port 22001 22003", true},
		{"User deploy admin", true},
		{"HostName a.example b.example", true},
		{"IdentityAgent /a /b", true},
		{"StrictHostKeyChecking yes no", true},
		{"ConnectTimeout 1 2", true},
		{"IdentityFile /a /b", true},
		{"CertificateFile /a /b", true},
		{"Port 22001 # the old port was 22003", false},
		{`User "deploy admin"`, false},
	} {
		p := filepath.Join(dir, fmt.Sprintf("config%d", i))
		inc := p + ".inc"
		// In a Host block that does not match, in an Included file.
		if err := os.WriteFile(inc, []byte("Host other\n  "+tt.line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("Host web\n  Port 2200\nInclude "+inc+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sshBin, "-G", "-F", p, "web").CombinedOutput()
		if sshRefused := err != nil; sshRefused != tt.refused {
			t.Fatalf("%q: ssh -G refused: %v, the test expects %v: %s", tt.line, sshRefused, tt.refused, out)
		}
		_, err = loadSSHConfigs(p, true, "", dir, hclog.NewNullLogger())
		switch {
		case tt.refused && err == nil:
			t.Errorf("%q: read, ssh refuses it", tt.line)
		case tt.refused && !strings.Contains(err.Error(), inc+":2") || tt.refused && !strings.Contains(err.Error(), "takes one value"):
			t.Errorf("%q: %v, want the file and line and what is wrong", tt.line, err)
		case !tt.refused && err != nil:
			t.Errorf("%q: %v, ssh reads it", tt.line, err)
		}
	}
}

package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fanout/fanout/internal/sshtest"
)

// These tests run `fanout exec` through the real binary against real sshd
// hosts, one of them down.

// execFleet starts four sshd hosts and takes the last one down; the
// configuration's one task records if it ever runs (exec ignores it).
func execFleet(t *testing.T) (f *sshtest.Fleet, dir string, rec *recording) {
	f = sshtest.Start(t, sshtest.Options{Hosts: 4})
	f.Hosts[3].Stop(t)
	dir, rec = workdir(t, sshConfig(f, f.Hosts, "", `
task "deploy" {
  run = "REC deploy"
}`))
	return f, dir, rec
}

// execCommand prints one line alike everywhere, and fails with exit 3 on
// host2.
const execCommand = `echo "release 7"; [ "$FANOUT_HOST" != host2 ] || exit 3`

func TestExecSSH(t *testing.T) {
	f, dir, rec := execFleet(t)
	r := fanoutSSH(t, dir, f.AgentSocket, "exec", "main.hcl", "-on", "web", "--", execCommand)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (a host failed)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range [][]string{
		{"host1 │ exec ", "│ release 7"},
		{"host3 │ exec ", "│ release 7"},
		{"✗ exec on host2: exit 3 from command 1"},
		{"✗ exec on host4: unreachable"},
		{"exec  host1  ok "},
		{"exec  host2  failed ", " 3 "},
		{"exec  host4  unreachable "},
	} {
		if !outputLine(r.stdout, want...) {
			t.Errorf("no line of the output holds %q:\n%s", want, r.stdout)
		}
	}
	if got := rec.read(t); len(got) != 0 {
		t.Errorf("the configuration's task ran: %v", got)
	}
	// The host that is down started nothing: no "started" line for it.
	if outputLine(r.stdout, "host4 │ exec ", "started") {
		t.Errorf("a started line for the host that is down:\n%s", r.stdout)
	}
	// Journaled: fanout runs lists it.
	first, _, _ := strings.Cut(r.stdout, ",")
	runID := strings.TrimPrefix(first, "fanout exec: run ")
	if rr := fanoutSSH(t, dir, f.AgentSocket, "runs", "main.hcl"); runID == "" || !strings.Contains(rr.stdout, runID+"  ") {
		t.Errorf("fanout runs does not list the exec run %q:\n%s\n%s", runID, rr.stdout, rr.stderr)
	}
}

func TestExecSSHGroup(t *testing.T) {
	f, dir, _ := execFleet(t)
	r := fanoutSSH(t, dir, f.AgentSocket, "exec", "main.hcl", "-group", "--", execCommand)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// host1 and host3 agree (ok, same output): one block for both.
	if !strings.Contains(r.stdout, "host[1,3] (2) │ exec │ ✓ ok") {
		t.Errorf("no block for host[1,3]:\n%s", r.stdout)
	}
	live, _, _ := strings.Cut(r.stdout, "Failures:")
	if n := strings.Count(live, "│ release 7"); n != 2 {
		t.Errorf("the output is shown %d times, want twice (the ok hosts, host2):\n%s", n, r.stdout)
	}
}

// TestExecSSHPipe: with -pipe, stdout holds the hosts' stdout lines alone,
// as "host: line", as pdsh writes them; their stderr lines, failures, the
// unreachable host and the recap go to stderr; the exit code is the same.
func TestExecSSHPipe(t *testing.T) {
	f, dir, _ := execFleet(t)
	cmd := `echo "release 7"; echo "warn $FANOUT_HOST" >&2; [ "$FANOUT_HOST" != host2 ] || exit 3`
	r := fanoutSSH(t, dir, f.AgentSocket, "exec", "main.hcl", "-pipe", "--", cmd)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	slices.Sort(got)
	if want := []string{"host1: release 7", "host2: release 7", "host3: release 7"}; !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s\nwant the three lines %q alone", r.stdout, want)
	}
	for _, want := range []string{
		"host1: warn host1\n", "host2: warn host2\n",
		"✗ exec on host2: exit 3 from command 1",
		"✗ exec on host4: unreachable",
		"exec  host2  failed ",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestExecSSHGroupUnreachable: with -group, hosts that cannot be reached
// for one reason are one block, though each error quotes the host's own
// address and key: three sshd hosts whose keys known_hosts lacks, and one
// host down, its connection refused.
func TestExecSSHGroupUnreachable(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 4})
	f.Hosts[3].Stop(t)
	keys := t.TempDir()
	writeFile(t, keys, "known_hosts", "")
	empty := filepath.Join(keys, "known_hosts")
	dir, _ := workdir(t, strings.Replace(sshConfig(f, f.Hosts, "", ""), fmt.Sprintf("%q", f.KnownHosts), fmt.Sprintf("%q", empty), 1))
	r := fanoutSSH(t, dir, f.AgentSocket, "exec", "main.hcl", "-group", "--", "true")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	live, _, _ := strings.Cut(r.stdout, "Failures:")
	for _, want := range []string{
		"host[1-3] (3) │ exec │ ✗ unreachable: host key for <address> is unknown: the server offered ",
		" key <fingerprint>, which is in none of " + empty,
		"host4 (1) │ exec │ ✗ unreachable: cannot reach host ",
	} {
		if !strings.Contains(live, want) {
			t.Errorf("no %q in the output:\n%s", want, r.stdout)
		}
	}
	if n := strings.Count(live, "│ exec │"); n != 2 || strings.Contains(live, "│ connect") {
		t.Errorf("%d blocks, want 2, and no line per host that failed to connect:\n%s", n, r.stdout)
	}
}

func TestExecSSHJSON(t *testing.T) {
	f, dir, _ := execFleet(t)
	r := fanoutSSH(t, dir, f.AgentSocket, "exec", "-json", "main.hcl", "--", execCommand)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(r.stdout), "\n") {
		var e struct {
			Type string `json:"type"`
			Task string `json:"task"`
			Host string `json:"host"`
			Run  struct {
				Status   string `json:"status"`
				ExitCode int    `json:"exit_code"`
			} `json:"run"`
			Units []struct {
				Host string `json:"host"`
				Run  struct {
					Status   string `json:"status"`
					ExitCode int    `json:"exit_code"`
				} `json:"run"`
			} `json:"units"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		if e.Type == "run_finished" {
			for _, u := range e.Units {
				got[u.Host] = fmt.Sprintf("%s %d", u.Run.Status, u.Run.ExitCode)
			}
		}
	}
	want := map[string]string{"host1": "ok 0", "host2": "failed 3", "host3": "ok 0", "host4": "unreachable -1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("recap units %v, want %v\n%s", got, want, r.stdout)
	}
}

// TestExecHostsNoConfig runs on -hosts with no configuration: ssh's
// defaults, with ~/.ssh/config naming each host's address, port and user.
func TestExecHostsNoConfig(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	home := t.TempDir()
	var cfg strings.Builder
	for i, h := range f.Hosts {
		fmt.Fprintf(&cfg, "Host node%d\n  HostName %s\n  Port %d\n  User %s\n", i+1, h.Addr, h.Port, f.User)
	}
	writeInventory(t, filepath.Join(home, ".ssh", "config"), cfg.String())
	f.WriteKnownHosts(t, filepath.Join(home, ".ssh", "known_hosts"))

	r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node[1-3]", "--", `echo "up on $FANOUT_HOST"`)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for i := range 3 {
		if host := fmt.Sprintf("node%d", i+1); !outputLine(r.stdout, host+" │ exec ", "│ up on "+host) {
			t.Errorf("no output of %s:\n%s", host, r.stdout)
		}
	}
	first, _, _ := strings.Cut(r.stdout, ",")
	runID := strings.TrimPrefix(first, "fanout exec: run ")
	if rr := fanoutSSH(t, home, f.AgentSocket, "runs", filepath.Join(home, ".fanout", "exec")); runID == "" || !strings.Contains(rr.stdout, runID+"  ") {
		t.Errorf("fanout runs ~/.fanout/exec does not list the run %q:\n%s\n%s", runID, rr.stdout, rr.stderr)
	}

	// A bad nodeset is a usage error, with nothing run.
	r = fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node[3-1]", "--", "true")
	if r.code != 2 || !strings.Contains(r.stderr, "range 3-1 goes down") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
}

// TestExecHostsSSHConfigKnownHosts: known_hosts files and host key
// checking come from ~/.ssh/config as ssh takes them. node1's keys are in
// its UserKnownHostsFile (not ~/.ssh/known_hosts); node2 has
// StrictHostKeyChecking accept-new, and its key is recorded in its
// UserKnownHostsFile; node3, with neither, is refused as ssh refuses it.
func TestExecHostsSSHConfigKnownHosts(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	home := t.TempDir()
	known, recorded := filepath.Join(home, "fleet", "known_hosts"), filepath.Join(home, "fleet", "new_hosts")
	if err := os.MkdirAll(filepath.Dir(known), 0o700); err != nil {
		t.Fatal(err)
	}
	f.WriteKnownHosts(t, known)
	var cfg strings.Builder
	for i, h := range f.Hosts {
		fmt.Fprintf(&cfg, "Host node%d\n  HostName %s\n  Port %d\n  User %s\n", i+1, h.Addr, h.Port, f.User)
	}
	cfg.WriteString("Host node1\n  UserKnownHostsFile ~/fleet/known_hosts\nHost node2\n  UserKnownHostsFile ~/fleet/new_hosts\n  StrictHostKeyChecking accept-new\n")
	writeInventory(t, filepath.Join(home, ".ssh", "config"), cfg.String())

	r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node[1-3]", "--", `echo "up on $FANOUT_HOST"`)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (node3 refused)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, host := range []string{"node1", "node2"} {
		if !outputLine(r.stdout, host+" │ exec ", "│ up on "+host) {
			t.Errorf("no output of %s:\n%s", host, r.stdout)
		}
	}
	if !outputLine(r.stdout, "node3 │ exec ", "host key for "+f.Hosts[2].Addr, "is unknown") {
		t.Errorf("node3 not refused for its unknown key:\n%s", r.stdout)
	}
	// Recorded under node2's name, hashed when the system's ssh_config
	// says HashKnownHosts (Debian's does), as ssh records it.
	check, err := knownhosts.New(recorded)
	if err != nil || check(f.Hosts[1].HostPort(), &net.TCPAddr{}, f.Hosts[1].HostKey) != nil {
		t.Errorf("node2's key is not recorded in its UserKnownHostsFile: %q, %v", mustRead(t, recorded), err)
	}
	if _, err := os.Stat(filepath.Join(home, ".ssh", "known_hosts")); err == nil {
		t.Errorf("~/.ssh/known_hosts written, though ssh_config names another file")
	}
}

// TestExecHostsAgentKeyOrder: which agent keys fanout offers, and in
// which order, against sshd allowing two tries (MaxAuthTries 2), compared
// with what OpenSSH's ssh does with the same ~/.ssh/config and agent.
// Decoys are agent keys no host accepts, added before the right one.
// "other" is a key file no host accepts, not in the agent.
func TestExecHostsAgentKeyOrder(t *testing.T) {
	needSSHClient(t)
	other := filepath.Join(t.TempDir(), "id_other")
	writeKeyPair(t, other)
	// Started for the whole test: a subtest's fleet stops with it.
	fleets := map[int]*sshtest.Fleet{}
	for _, decoys := range []int{0, 3} {
		fleets[decoys] = sshtest.Start(t, sshtest.Options{DecoyAgentKeys: decoys, SSHDConfig: "MaxAuthTries 2\n"})
	}
	for _, tc := range []struct {
		name   string
		decoys int
		config string // besides HostName, Port, User, UserKnownHostsFile
		ok     bool
	}{
		{"three decoys first, no IdentityFile: the right key comes too late", 3, "", false},
		{"IdentityFile: the agent's copy of its key is offered first", 3, "IdentityFile RIGHT", true},
		{"IdentitiesOnly with the right IdentityFile", 3, "IdentityFile RIGHT\nIdentitiesOnly yes", true},
		{"another IdentityFile: the agent's keys are offered too", 0, "IdentityFile OTHER", true},
		{"IdentitiesOnly with another IdentityFile: no agent key is offered", 0, "IdentityFile OTHER\nIdentitiesOnly yes", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fleets[tc.decoys]
			h := f.Hosts[0]
			home := t.TempDir()
			extra := strings.NewReplacer("RIGHT", f.ClientKey, "OTHER", other, "\n", "\n  ").Replace(tc.config)
			config := filepath.Join(home, ".ssh", "config")
			writeInventory(t, config, nodeStanza(f, h)+"  "+extra+"\n")
			bothLogIn(t, home, f.AgentSocket, tc.ok, tc.name)
		})
	}
}

// TestExecHostsUserAndPort: exec -hosts takes user@host:port as ssh takes
// user@host with its port: fanout logs in as the user given, on the port
// given, over ~/.ssh/config's other settings, as ssh -p does.
func TestExecHostsUserAndPort(t *testing.T) {
	needSSHClient(t)
	f, h, home, config, knownHosts := knownHostsHome(t, sshtest.Options{})
	writeInventory(t, knownHosts, fmt.Sprintf("[%s]:%d %s", h.Addr, h.Port, ssh.MarshalAuthorizedKey(h.HostKey)))
	writeInventory(t, config, fmt.Sprintf("Host *\n  User nobody-here\n  UserKnownHostsFile %s\n  GlobalKnownHostsFile none\n  StrictHostKeyChecking yes\n", knownHosts))
	cmd := exec.Command("ssh", "-F", config, "-o", "BatchMode=yes", "-p", strconv.Itoa(h.Port), f.User+"@"+h.Addr, "id -un")
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+f.AgentSocket)
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("ssh itself: %v", err)
	}
	dest := fmt.Sprintf("%s@%s:%d", f.User, h.Addr, h.Port)
	r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", dest, "--", "id -un")
	if r.code != 0 || !outputLine(r.stdout, dest+" ", "│ "+strings.TrimSpace(string(want))) {
		t.Errorf("exit %d, want %s's output %q\n%s\n%s", r.code, dest, want, r.stdout, r.stderr)
	}
}

// TestExecHostsNestedProxyJump: a jump host's own ProxyJump is followed,
// as ssh follows it: node's ProxyJump is bastion2, whose own is bastion1,
// and ssh and fanout each log in to bastion1 once on the way.
func TestExecHostsNestedProxyJump(t *testing.T) {
	needSSHClient(t)
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	target, b1, b2 := f.Hosts[0], f.Hosts[1], f.Hosts[2]
	home := t.TempDir()
	config := filepath.Join(home, ".ssh", "config")
	writeInventory(t, config, fmt.Sprintf(`Host bastion1
  HostName %s
  Port %d
Host bastion2
  HostName %s
  Port %d
  ProxyJump bastion1
Host node
  HostName %s
  Port %d
  ProxyJump bastion2
Host *
  User %s
  UserKnownHostsFile %s
`, b1.Addr, b1.Port, b2.Addr, b2.Port, target.Addr, target.Port, f.User, f.KnownHosts))
	before := b1.AcceptedPublickey(t)
	bothLogIn(t, home, f.AgentSocket, true, "node through bastion2 through bastion1")
	if n := b1.AcceptedPublickey(t) - before; n != 2 {
		t.Errorf("bastion1 saw %d logins, want 2: ssh's and fanout's", n)
	}
}

// TestExecHostsProxyCommand: ProxyCommand of ~/.ssh/config carries the
// connection as it does ssh's: node is reached by `ssh -W %h:%p` through
// the bastion, which sees the login, and its key is known under its
// HostKeyAlias only; broken's command says why it cannot reach its host
// and ends, and that is broken's error.
func TestExecHostsProxyCommand(t *testing.T) {
	needSSHClient(t)
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	target, bastion := f.Hosts[0], f.Hosts[1]
	home := t.TempDir()
	// node's key, under the name HostKeyAlias gives it.
	known, err := os.ReadFile(f.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	var aliased string
	for line := range strings.SplitSeq(string(known), "\n") {
		if after, ok := strings.CutPrefix(line, fmt.Sprintf("[%s]:%d ", target.Addr, target.Port)); ok {
			aliased += "node-key " + after + "\n" // ssh looks an alias up without the port
		}
	}
	writeFile(t, home, "aliased_hosts", aliased)
	config := filepath.Join(home, ".ssh", "config")
	writeInventory(t, config, fmt.Sprintf(`Host bastion
  HostName %s
  Port %d
Host node
  HostName %s
  Port %d
  ProxyCommand ssh -F %s -o BatchMode=yes -W %%h:%%p bastion
  HostKeyAlias node-key
  UserKnownHostsFile %s
Host broken*
  HostName %s
  Port %d
  ProxyCommand echo "no route to %%h port %%p" >&2
Host *
  User %s
  UserKnownHostsFile %s
`, bastion.Addr, bastion.Port, target.Addr, target.Port, config, filepath.Join(home, "aliased_hosts"), target.Addr, target.Port, f.User, f.KnownHosts))
	r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node,broken", "--", "echo through")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (broken fails)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !outputLine(r.stdout, "node ", "│ through") {
		t.Errorf("no output of node:\n%s", r.stdout)
	}
	if n := bastion.AcceptedPublickey(t); n != 1 {
		t.Errorf("the bastion saw %d logins, want 1 (node's ProxyCommand)", n)
	}
	want := fmt.Sprintf(`ProxyCommand "echo \"no route to %s port %d\" >&2": no route to %s port %d`, target.Addr, target.Port, target.Addr, target.Port)
	if !outputLine(r.stdout, "broken ", "unreachable", want) {
		t.Errorf("broken's error does not hold %q:\n%s", want, r.stdout)
	}
	// A command that ends at once may be found gone by a write (broken
	// pipe) before a read: its words are the error all the same.
	r = fanoutSSH(t, home, f.AgentSocket, "exec", "-json", "-hosts", "broken[1-20]", "--", "true")
	if n := strings.Count(r.stdout, `no route to `+target.Addr); r.code != 1 || n < 20 || strings.Contains(r.stdout, "broken pipe") {
		t.Errorf("20 hosts whose ProxyCommand fails: exit %d, %d errors give its words, want 20\n%s", r.code, n, r.stdout)
	}
	// fanout has exited: the ProxyCommand went with its connection.
	deadline := time.Now().Add(5 * time.Second)
	for pids := commandsHolding(config); len(pids) > 0; pids = commandsHolding(config) {
		if time.Now().After(deadline) {
			t.Fatalf("ProxyCommand processes %v outlived fanout", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// commandsHolding returns the processes whose command line holds s.
func commandsHolding(s string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []string
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && strings.Contains(string(b), s) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

// TestExecHostsCertificate: a user certificate (signed by a CA the host
// trusts) logs in, as it does with ssh, though the key itself is in no
// authorized_keys: beside the identity file (FILE-cert.pub), or where a
// CertificateFile line says; without it neither logs in. No agent: the
// key comes from the file.
func TestExecHostsCertificate(t *testing.T) {
	needSSHClient(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca")
	writeKeyPair(t, ca)
	f := sshtest.Start(t, sshtest.Options{NoAgent: true, SSHDConfig: "TrustedUserCAKeys " + ca + ".pub\n"})
	h := f.Hosts[0]
	key := filepath.Join(dir, "id_user")
	writeKeyPair(t, key)
	home := t.TempDir()
	config := filepath.Join(home, ".ssh", "config")
	node := nodeStanza(f, h) + "  IdentityFile " + key + "\n"
	writeInventory(t, config, node)
	cert := string(ssh.MarshalAuthorizedKey(userCert(t, ca, key+".pub", f.User)))
	for i, withCert := range []bool{false, true, true} {
		switch i {
		case 1:
			writeFile(t, dir, "id_user-cert.pub", cert)
		case 2:
			if err := os.Remove(key + "-cert.pub"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, "elsewhere.pub", cert)
			writeInventory(t, config, node+"  CertificateFile "+filepath.Join(dir, "elsewhere.pub")+"\n")
		}
		bothLogIn(t, home, "", withCert, fmt.Sprintf("certificate %v", withCert))
	}
}

// needSSHClient skips t without OpenSSH's ssh to compare fanout with.
func needSSHClient(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("no ssh client (make test-deps installs openssh-client)")
	}
}

// nodeStanza is ~/.ssh/config's entry for h as "node": its address,
// port, the fleet's user and known_hosts.
func nodeStanza(f *sshtest.Fleet, h *sshtest.Host) string {
	return fmt.Sprintf("Host node\n  HostName %s\n  Port %d\n  User %s\n  UserKnownHostsFile %s\n", h.Addr, h.Port, f.User, f.KnownHosts)
}

// bothLogIn checks that OpenSSH's ssh and `fanout exec -hosts node`, with
// home's ~/.ssh/config and the agent at agent ("" for none), both log in
// to node when ok, and both fail when not, and returns fanout's result. A
// case where ssh itself does not do as ok says is a wrong case.
func bothLogIn(t *testing.T, home, agent string, ok bool, what string) result {
	t.Helper()
	ssh := exec.Command("ssh", "-F", filepath.Join(home, ".ssh", "config"), "-o", "BatchMode=yes", "node", "true")
	ssh.Env = append(os.Environ(), "SSH_AUTH_SOCK="+agent)
	if out, err := ssh.CombinedOutput(); (err == nil) != ok {
		t.Fatalf("%s: ssh itself: %v, want ok %v (the case is wrong): %s", what, err, ok, out)
	}
	r := fanoutSSH(t, home, agent, "exec", "-hosts", "node", "--", "echo logged in")
	if got := r.code == 0 && outputLine(r.stdout, "node │ exec ", "│ logged in"); got != ok {
		t.Errorf("%s: fanout logged in: %v, ssh: %v\n%s\n%s", what, got, ok, r.stdout, r.stderr)
	}
	return r
}

// TestExecHostsLegacyServer: a server of before OpenSSH 7.2 (SHA-1 key
// exchange, an RSA host key it signs with SHA-1 only, a CBC cipher), as
// old hosts and appliances still are, is refused by ssh and by fanout
// alike, fanout saying which ssh_config line would allow the next thing
// refused; with the lines ssh needs, in any of their forms, both log in.
func TestExecHostsLegacyServer(t *testing.T) {
	needSSHClient(t)
	f := sshtest.Start(t, sshtest.Options{HostKeyType: sshtest.RSA,
		SSHDConfig: "KexAlgorithms diffie-hellman-group14-sha1\nHostKeyAlgorithms ssh-rsa\nCiphers aes128-cbc\n"})
	h := f.Hosts[0]
	home := t.TempDir()
	config := filepath.Join(home, ".ssh", "config")
	const (
		kex     = "  KexAlgorithms +diffie-hellman-group14-sha1\n"
		hostKey = "  HostKeyAlgorithms +ssh-rsa\n"
	)
	tests := []struct {
		lines string
		ok    bool
		said  string // in fanout's output when it fails
	}{
		{"", false, `add "KexAlgorithms +diffie-hellman-group14-sha1" to its ssh_config entry`},
		{kex, false, `add "HostKeyAlgorithms +ssh-rsa" to its ssh_config entry`},
		{kex + hostKey, false, `add "Ciphers +aes128-cbc" to its ssh_config entry`},
		{kex + hostKey + "  Ciphers +aes128-cbc\n", true, ""},
		{"  KexAlgorithms ^diffie-hellman-group14-sha1\n  HostKeyAlgorithms ssh-rsa\n  Ciphers aes128-cbc,aes256-ctr\n", true, ""},
		{kex + hostKey + "  Ciphers -aes128-ctr\n", false, "the server offers aes128-cbc, which Ciphers at " + config + ":8 leaves out"},
		// Every line right, but no key of the agent's type accepted.
		{kex + hostKey + "  Ciphers +aes128-cbc\n  PubkeyAcceptedAlgorithms rsa-sha2-512,rsa-sha2-256\n", false, "PubkeyAcceptedAlgorithms at " + config + ":9 accepts none of the keys found"},
	}
	for _, tt := range tests {
		writeInventory(t, config, nodeStanza(f, h)+tt.lines)
		what := strings.Join(strings.Fields(tt.lines), " ")
		r := bothLogIn(t, home, f.AgentSocket, tt.ok, "ssh_config lines: "+what)
		if tt.said != "" && !strings.Contains(strings.Join(strings.Fields(r.stdout+r.stderr), " "), tt.said) {
			t.Errorf("%s: fanout did not say %q:\n%s\n%s", what, tt.said, r.stdout, r.stderr)
		}
	}
}

// userCert signs the public key in pubFile with the CA key in caFile: a
// user certificate for principal, valid for an hour.
func userCert(t *testing.T, caFile, pubFile, principal string) *ssh.Certificate {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	caSigner, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatal(err)
	}
	cert := &ssh.Certificate{
		Key: pub, CertType: ssh.UserCert, KeyId: "fanout-test", ValidPrincipals: []string{principal},
		ValidAfter: uint64(time.Now().Add(-time.Minute).Unix()), ValidBefore: uint64(time.Now().Add(time.Hour).Unix()),
		Permissions: ssh.Permissions{Extensions: map[string]string{"permit-pty": ""}},
	}
	if err := cert.SignCert(rand.Reader, caSigner); err != nil {
		t.Fatal(err)
	}
	return cert
}

// writeKeyPair writes a new unencrypted ed25519 key to path and its
// public key to path.pub.
func writeKeyPair(t *testing.T, path string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(path), filepath.Base(path), string(pem.EncodeToMemory(block)))
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(path), filepath.Base(path)+".pub", string(ssh.MarshalAuthorizedKey(sshPub)))
}

// outputLine reports whether a line of out holds every one of parts.
func outputLine(out string, parts ...string) bool {
	for line := range strings.SplitSeq(out, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestExecHostsForwardAgent: with ForwardAgent in ssh_config, or -A, a command
// logs in to a second host with the operator's agent (a deploy's `git
// clone` over ssh), as under ssh; without it, neither ssh's command nor
// fanout's finds an agent.
func TestExecHostsForwardAgent(t *testing.T) {
	needSSHClient(t)
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	h, next := f.Hosts[0], f.Hosts[1]
	home := t.TempDir()
	config := filepath.Join(home, ".ssh", "config")
	hop := fmt.Sprintf("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -p %d %s@%s echo hop by \\$SSH_CONNECTION >/dev/null && echo hop ok || echo hop failed",
		f.KnownHosts, next.Port, f.User, next.Addr)
	for _, tt := range []struct {
		lines, want string
		dashA       bool // -A on both command lines
	}{
		{"", "hop failed", false},
		{"  ForwardAgent no\n", "hop failed", false},
		{"  ForwardAgent yes\n", "hop ok", false},
		{"  ForwardAgent $FANOUT_TEST_AGENT\n", "hop ok", false},
		{"  ForwardAgent no\n", "hop ok", true},
	} {
		writeInventory(t, config, nodeStanza(f, h)+tt.lines)
		var dashA []string
		if tt.dashA {
			dashA = []string{"-A"}
		}
		ssh := exec.Command("ssh", slices.Concat([]string{"-F", config, "-o", "BatchMode=yes"}, dashA, []string{"node", hop})...)
		ssh.Env = append(os.Environ(), "SSH_AUTH_SOCK="+f.AgentSocket, "FANOUT_TEST_AGENT="+f.AgentSocket)
		out, err := ssh.Output()
		if err != nil || strings.TrimSpace(string(out)) != tt.want {
			t.Fatalf("%q: ssh itself said %q (%v), want %q: the case is wrong", tt.lines, out, err, tt.want)
		}
		t.Setenv("FANOUT_TEST_AGENT", f.AgentSocket)
		r := fanoutSSH(t, home, f.AgentSocket, slices.Concat([]string{"exec", "-hosts", "node"}, dashA, []string{"--", hop})...)
		if r.code != 0 || !outputLine(r.stdout, "node │ exec ", "│ "+tt.want) {
			t.Errorf("%q %v: fanout did not say %q:\n%s\n%s", tt.lines, dashA, tt.want, r.stdout, r.stderr)
		}
	}
}

// TestExecHostsLoginUser: -l logs in as its user, over ~/.ssh/config's
// User, as ssh -l does; without it, config's User is the login, which the
// host refuses here, for ssh and fanout alike.
func TestExecHostsLoginUser(t *testing.T) {
	needSSHClient(t)
	f := sshtest.Start(t, sshtest.Options{})
	h := f.Hosts[0]
	home := t.TempDir()
	writeInventory(t, filepath.Join(home, ".ssh", "config"), strings.Replace(nodeStanza(f, h), "User "+f.User, "User nobody-here", 1))
	bothLogIn(t, home, f.AgentSocket, false, "ssh_config's User, unknown to the host")
	ssh := exec.Command("ssh", "-F", filepath.Join(home, ".ssh", "config"), "-o", "BatchMode=yes", "-l", f.User, "node", "id -un")
	ssh.Env = append(os.Environ(), "SSH_AUTH_SOCK="+f.AgentSocket)
	if out, err := ssh.Output(); err != nil || strings.TrimSpace(string(out)) != f.User {
		t.Fatalf("ssh -l itself: %q, %v: the case is wrong", out, err)
	}
	r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node", "-l", f.User, "--", "id -un")
	if r.code != 0 || !outputLine(r.stdout, "node │ exec ", "│ "+f.User) {
		t.Errorf("fanout exec -l %s: exit %d\n%s\n%s", f.User, r.code, r.stdout, r.stderr)
	}
}

// knownHostsHome is a home for one host of a new fleet: its ~/.ssh/config
// path, and a known_hosts file, empty, that node's stanza (see
// ownKnownHosts) names.
func knownHostsHome(t *testing.T, opts sshtest.Options) (f *sshtest.Fleet, h *sshtest.Host, home, config, knownHosts string) {
	t.Helper()
	f = sshtest.Start(t, opts)
	home = t.TempDir()
	return f, f.Hosts[0], home, filepath.Join(home, ".ssh", "config"), filepath.Join(home, "kh")
}

// ownKnownHosts is ~/.ssh/config's entry for h as "node", with
// knownHosts its only known_hosts file, then extra lines.
func ownKnownHosts(f *sshtest.Fleet, h *sshtest.Host, knownHosts, extra string) string {
	return fmt.Sprintf("Host node\n  HostName %s\n  Port %d\n  User %s\n  UserKnownHostsFile %s\n  GlobalKnownHostsFile none\n%s", h.Addr, h.Port, f.User, knownHosts, extra)
}

// TestExecHostsKnownHostsLookup: a host on a port other than 22 is
// known by a line for "[host]:port", or, as ssh looks again without the
// port, by one for "host"; a HostKeyAlias is looked up alone, without
// the port. Each case is checked against ssh.
func TestExecHostsKnownHostsLookup(t *testing.T) {
	needSSHClient(t)
	f, h, home, config, knownHosts := knownHostsHome(t, sshtest.Options{})
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.HostKey)))
	other := filepath.Join(t.TempDir(), "other")
	writeKeyPair(t, other)
	otherKey, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		config, line string
		ok           bool
	}{
		{"", fmt.Sprintf("[%s]:%d %s", h.Addr, h.Port, key), true},
		{"", h.Addr + " " + key, true},
		{"", h.Addr + " " + strings.TrimSpace(string(otherKey)), false},
		{"", fmt.Sprintf("[%s]:%d %s\n%s %s", h.Addr, h.Port, strings.TrimSpace(string(otherKey)), h.Addr, key), false},
		{"  HostKeyAlias kalias\n", "kalias " + key, true},
		{"  HostKeyAlias kalias\n", fmt.Sprintf("[kalias]:%d %s", h.Port, key), false},
	} {
		writeInventory(t, config, ownKnownHosts(f, h, knownHosts, "  StrictHostKeyChecking yes\n"+tt.config))
		writeInventory(t, knownHosts, tt.line+"\n")
		bothLogIn(t, home, f.AgentSocket, tt.ok, strings.TrimSpace(tt.config+" "+tt.line))
	}
}

// TestExecHostsConfigPermissions: a ~/.ssh/config (or a file it
// includes) that others may write is refused, as ssh refuses it ("Bad
// owner or permissions"), before its Match exec runs anything; the same
// file made private is read. (ssh reads the passwd entry's ~/.ssh, not the
// test's HOME, and does not check a file given with -F: it is not run.)
func TestExecHostsConfigPermissions(t *testing.T) {
	f, h, home, config, knownHosts := knownHostsHome(t, sshtest.Options{})
	writeInventory(t, knownHosts, fmt.Sprintf("[%s]:%d %s", h.Addr, h.Port, ssh.MarshalAuthorizedKey(h.HostKey)))
	ran := filepath.Join(home, "match-exec-ran")
	inc := filepath.Join(home, ".ssh", "more.conf")
	writeInventory(t, inc, "# included\n")
	writeInventory(t, config, "Include "+inc+"\nMatch exec \"touch "+ran+"\"\n"+ownKnownHosts(f, h, knownHosts, ""))
	for _, file := range []string{config, inc} {
		if err := os.Chmod(file, 0o666); err != nil {
			t.Fatal(err)
		}
		r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node", "--", "true")
		// The diagnostic wraps its lines.
		if out := strings.Join(strings.Fields(r.stdout+r.stderr), " "); r.code == 0 || !strings.Contains(out, file+": bad owner or permissions: its group or others may write it") {
			t.Errorf("%s writable by all: exit %d, want it refused\n%s\n%s", file, r.code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(ran); err == nil {
			t.Fatalf("Match exec of a config others may write ran")
		}
		if err := os.Chmod(file, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node", "--", "true"); r.code != 0 {
		t.Errorf("private again: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestExecHostsRevokedHostKeys: ssh_config's RevokedHostKeys refuses a
// host whose key it lists, as ssh does; a list of other keys (among
// comments) refuses nothing; a list that cannot be read, or holds a line
// that is no key, or a KRL, which fanout cannot read, refuses every host
// (ssh fails closed on what it cannot read too).
func TestExecHostsRevokedHostKeys(t *testing.T) {
	needSSHClient(t)
	f, h, home, config, knownHosts := knownHostsHome(t, sshtest.Options{})
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.HostKey)))
	other := filepath.Join(t.TempDir(), "other")
	writeKeyPair(t, other)
	otherKey, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	revoked := filepath.Join(home, "revoked_keys")
	writeInventory(t, knownHosts, fmt.Sprintf("[%s]:%d %s\n", h.Addr, h.Port, key))
	writeInventory(t, config, ownKnownHosts(f, h, knownHosts, "  StrictHostKeyChecking yes\n  RevokedHostKeys "+revoked+"\n"))
	for _, tt := range []struct {
		name, list string
		ok         bool
	}{
		{"the host's key", "# revoked after the incident\n" + key + "\n", false},
		{"another key", "# revoked\n\n" + string(otherKey), true},
		{"a line that is no key", string(otherKey) + "not a key\n", false},
	} {
		writeInventory(t, revoked, tt.list)
		bothLogIn(t, home, f.AgentSocket, tt.ok, tt.name)
	}
	if err := os.Remove(revoked); err != nil {
		t.Fatal(err)
	}
	bothLogIn(t, home, f.AgentSocket, false, "a missing RevokedHostKeys file")
	writeInventory(t, revoked, "SSHKRL\n\x00\x00\x00\x00\x01")
	r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node", "--", "true")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "key revocation list (KRL), which fanout cannot read") {
		t.Errorf("a KRL: exit %d, want a refusal that says fanout cannot read it\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestExecHostsHashKnownHosts: with HashKnownHosts yes (Debian's
// /etc/ssh/ssh_config has it), a new host's key is recorded under its
// hashed name, by ssh and by fanout, and the line is one both then find.
func TestExecHostsHashKnownHosts(t *testing.T) {
	needSSHClient(t)
	f, h, home, config, knownHosts := knownHostsHome(t, sshtest.Options{})
	writeInventory(t, config, ownKnownHosts(f, h, knownHosts, "  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n"))
	for _, first := range []string{"ssh", "fanout"} {
		writeInventory(t, knownHosts, "")
		if first == "ssh" {
			cmd := exec.Command("ssh", "-F", config, "-o", "BatchMode=yes", "node", "true")
			cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+f.AgentSocket)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ssh itself: %v: %s", err, out)
			}
		} else if r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node", "--", "true"); r.code != 0 {
			t.Fatalf("fanout: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if b := mustRead(t, knownHosts); !strings.HasPrefix(b, "|1|") || strings.Contains(b, h.Addr) || strings.Count(b, "\n") != 1 {
			t.Errorf("%s recorded %q, want one line under a hashed name", first, b)
		}
		// The other finds it.
		writeInventory(t, config, strings.Replace(mustRead(t, config), "accept-new", "yes", 1))
		bothLogIn(t, home, f.AgentSocket, true, "recorded by "+first)
		writeInventory(t, config, strings.Replace(mustRead(t, config), "StrictHostKeyChecking yes", "StrictHostKeyChecking accept-new", 1))
	}
}

// TestExecHostsHostCertificate: hosts whose keys an SSH CA signed are
// trusted by one @cert-authority line in known_hosts, no line per host, by
// ssh and fanout alike, its patterns matched as ssh matches them (a
// server on a port other than 22 is "[host]:port", then "host"); a line
// of another CA, or for other hosts, or a revoked CA trusts nothing; and a
// certificate
// no CA vouches for is taken for its plain key, which accept-new records.
func TestExecHostsHostCertificate(t *testing.T) {
	needSSHClient(t)
	f, h, home, config, knownHosts := knownHostsHome(t, sshtest.Options{HostCertificates: true})
	stanza := ownKnownHosts(f, h, knownHosts, "")
	writeInventory(t, config, stanza)
	other := filepath.Join(t.TempDir(), "other_ca")
	writeKeyPair(t, other)
	otherCA, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	ca := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.HostCA)))
	name := knownhosts.Normalize(h.HostPort())
	for _, tt := range []struct {
		lines string
		ok    bool
	}{
		{"@cert-authority * " + ca, true},
		{"@cert-authority " + knownhosts.HashHostname(name) + " " + ca, true},
		{"@cert-authority [127.0.0.*]:*,!" + name + " " + ca, false},
		{"@cert-authority " + h.Addr + " " + ca, true}, // looked up again without the port
		{"@cert-authority other.example " + ca, false},
		{"@cert-authority * " + strings.TrimSpace(string(otherCA)), false},
		{"@cert-authority * " + ca + "\n@revoked * " + ca, false},
	} {
		writeInventory(t, knownHosts, tt.lines+"\n")
		bothLogIn(t, home, f.AgentSocket, tt.ok, tt.lines)
	}

	// accept-new and no CA: the certificate's key is recorded as a plain
	// host key, by ssh and by fanout.
	writeInventory(t, config, stanza+"  StrictHostKeyChecking accept-new\n")
	want := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(h.HostKey)))
	for _, who := range []string{"ssh", "fanout"} {
		writeInventory(t, knownHosts, "")
		switch who {
		case "ssh":
			cmd := exec.Command("ssh", "-F", config, "-o", "BatchMode=yes", "node", "true")
			cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+f.AgentSocket)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ssh itself: %v: %s", err, out)
			}
		case "fanout":
			if r := fanoutSSH(t, home, f.AgentSocket, "exec", "-hosts", "node", "--", "true"); r.code != 0 {
				t.Fatalf("fanout: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
		}
		b, err := os.ReadFile(knownHosts)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 0 {
			t.Errorf("%s recorded %q, want one line of the plain key %s", who, got, want)
		}
	}
}

// TestExecHostsRaw: `fanout exec -hosts -raw` sends the command as ssh
// sends it: a device whose command line is not a shell (sshd's
// ForceCommand stands in for it) answers fanout as it answers ssh, where
// fanout's /bin/sh wrapper is refused; on a server, the login shell runs
// it, as for ssh ($0 is the login shell's name, not fanout's sh).
func TestExecHostsRaw(t *testing.T) {
	needSSHClient(t)
	cli := filepath.Join(t.TempDir(), "cli")
	writeInventory(t, cli, "#!/bin/sh\ncase $SSH_ORIGINAL_COMMAND in\n\"show version\") echo ApplianceOS 1.0 ;;\n*) echo \"% Unknown command\" >&2; exit 1 ;;\nesac\n")
	if err := os.Chmod(cli, 0o755); err != nil {
		t.Fatal(err)
	}
	device := sshtest.Start(t, sshtest.Options{SSHDConfig: "ForceCommand " + cli + "\n"})
	server := sshtest.Start(t, sshtest.Options{})
	for _, tt := range []struct {
		name    string
		f       *sshtest.Fleet
		command string
	}{
		{"a device's command line", device, "show version"},
		{"the login shell", server, "echo $0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			config := filepath.Join(home, ".ssh", "config")
			writeInventory(t, config, nodeStanza(tt.f, tt.f.Hosts[0]))
			ssh := exec.Command("ssh", "-F", config, "-o", "BatchMode=yes", "node", tt.command)
			ssh.Env = append(os.Environ(), "SSH_AUTH_SOCK="+tt.f.AgentSocket)
			out, err := ssh.Output()
			want := strings.TrimSpace(string(out))
			if err != nil || want == "" {
				t.Fatalf("ssh itself: %q, %v: the case is wrong", out, err)
			}
			r := fanoutSSH(t, home, tt.f.AgentSocket, "exec", "-hosts", "node", "-raw", "--", tt.command)
			if r.code != 0 || !outputLine(r.stdout, "node │ exec ", "│ "+want) {
				t.Errorf("fanout exec -raw: exit %d, want %q as ssh printed\n%s\n%s", r.code, want, r.stdout, r.stderr)
			}
			r = fanoutSSH(t, home, tt.f.AgentSocket, "exec", "-hosts", "node", "--", tt.command)
			if outputLine(r.stdout, "node │ exec ", "│ "+want) {
				t.Errorf("fanout exec without -raw printed %q too: the case shows nothing\n%s", want, r.stdout)
			}
		})
	}
}

package sshtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Host is one sshd of a fleet.
type Host struct {
	// Name is "host1", "host2", ... in address order.
	Name string
	// Addr is the loopback address sshd listens on ("127.0.0.100").
	Addr string
	// Port is sshd's port on Addr.
	Port int
	// LogFile receives sshd's log at LogLevel VERBOSE.
	LogFile string
	// HostKey is the host's public key (Options.HostKeyType).
	HostKey ssh.PublicKey
	// Server is the SSH server the host runs.
	Server Server

	fleet       *Fleet
	cfgFile     string
	maxSessions int
	extraConfig string // sshd_config lines before the fleet's own
	noSFTP      bool   // no Subsystem sftp line
	probes      int    // readiness probes: connections that were not clients

	mu   sync.Mutex // guards cmd, done and probes
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// HostPort is the host's "127.0.0.x:port".
func (h *Host) HostPort() string { return net.JoinHostPort(h.Addr, strconv.Itoa(h.Port)) }

// KnownHostsLine is the host's known_hosts entry ("[127.0.0.x]:port
// ssh-ed25519 AAAA...").
func (h *Host) KnownHostsLine() string { return knownHostsLine(h.HostPort(), h.HostKey) }

// Log returns the host's sshd log so far.
func (h *Host) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(h.LogFile)
	if err != nil {
		t.Fatalf("sshtest: %s: %v", h.Name, err)
	}
	return string(b)
}

// CountLog counts the lines of the host's sshd log that contain substr.
func (h *Host) CountLog(t testing.TB, substr string) int {
	t.Helper()
	return strings.Count(h.Log(t), substr)
}

// AcceptedPublickey counts the public key logins the host accepted: one per
// SSH connection that authenticated.
func (h *Host) AcceptedPublickey(t testing.TB) int {
	t.Helper()
	if h.Server == Dropbear {
		return h.CountLog(t, "Pubkey auth succeeded for ")
	}
	return h.CountLog(t, "Accepted publickey for ")
}

// Connections counts the TCP connections clients made to the host (the
// fleet's own readiness probes left out).
func (h *Host) Connections(t testing.TB) int {
	t.Helper()
	h.mu.Lock()
	probes := h.probes
	h.mu.Unlock()
	if h.Server == Dropbear {
		return h.CountLog(t, "Child connection from ") - probes
	}
	return h.CountLog(t, "Connection from ") - probes
}

// Stop takes the host down as a crash would: its sshd and every process of
// its connections and sessions are killed (SIGKILL), sshd first, and the
// listener is waited for. Open connections to it break. Stop on a stopped
// host does nothing.
func (h *Host) Stop(t testing.TB) {
	t.Helper()
	if err := h.stop(); err != nil {
		t.Fatalf("sshtest: stop %s: %v", h.Name, err)
	}
}

func (h *Host) stop() error {
	h.kill()
	return killTokenProcesses(h.token())
}

// Freeze stops (SIGSTOP) the sshd processes serving the host's open
// connections: they stay open but nothing answers, as with a host that
// hangs or a network that drops packets. Thaw resumes them.
func (h *Host) Freeze(t testing.TB) { t.Helper(); h.signalConns(t, syscall.SIGSTOP) }

// Thaw resumes what Freeze stopped.
func (h *Host) Thaw(t testing.TB) { t.Helper(); h.signalConns(t, syscall.SIGCONT) }

func (h *Host) signalConns(t testing.TB, sig syscall.Signal) {
	t.Helper()
	h.mu.Lock()
	cmd := h.cmd
	h.mu.Unlock()
	if cmd == nil {
		t.Fatalf("sshtest: %s is not running", h.Name)
	}
	for _, pid := range descendants(cmd.Process.Pid) {
		_ = syscall.Kill(pid, sig) // ESRCH: it has exited since it was listed
	}
}

// Restart starts a stopped host again on the same address, port and host
// key.
func (h *Host) Restart(t testing.TB) {
	t.Helper()
	h.Stop(t)
	h.start(t, h.Port)
}

func (h *Host) token() string { return tokenEnv + "=" + h.fleet.token + "/" + h.Name }

// ListenerPID is the process ID of the host's sshd listener: a test's
// command that kills it leaves the connections it accepted running and
// refuses new ones, as a firewall rule or a stopped ssh service would.
func (h *Host) ListenerPID() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cmd.Process.Pid
}

// kill kills the sshd listener, if running, with the sshd processes it
// forked for connections, and waits for the listener. sshd overwrites its
// environment with its process title, so its processes are found as the
// listener's descendants, not by the token that sessions carry.
func (h *Host) kill() {
	h.mu.Lock()
	cmd, done := h.cmd, h.done
	h.cmd, h.done = nil, nil
	h.mu.Unlock()
	if cmd == nil {
		return
	}
	pids := descendants(cmd.Process.Pid)
	// Best effort, each: a process that has exited already is as good as
	// killed, and done says when sshd itself is gone.
	_ = cmd.Process.Kill()
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	<-done
}

// start runs sshd for h on port, or on a free port when port is 0, and
// waits until it accepts connections. A free port found by binding and
// releasing it can be taken by someone else before sshd binds it: then it
// tries another.
func (h *Host) start(t testing.TB, port int) {
	t.Helper()
	var lastErr error
	for range 5 {
		p := port
		if p == 0 {
			l, err := net.Listen("tcp", net.JoinHostPort(h.Addr, "0"))
			if err != nil {
				t.Fatalf("sshtest: %s: find a free port on %s: %v", h.Name, h.Addr, err)
			}
			p = l.Addr().(*net.TCPAddr).Port
			_ = l.Close() // only the port number was wanted
		}
		h.Port = p
		if h.Server != Dropbear {
			h.writeConfig(t)
		}
		if lastErr = h.run(); lastErr == nil {
			return
		}
		if port != 0 {
			break
		}
	}
	t.Fatalf("sshtest: %s: start sshd: %v", h.Name, lastErr)
}

func (h *Host) run() error {
	var cmd *exec.Cmd
	if h.Server == Dropbear {
		var err error
		if cmd, err = h.dropbearCommand(); err != nil {
			return err
		}
	} else {
		cmd = exec.Command(SSHDPath, "-D", "-f", h.cfgFile, "-E", h.LogFile)
	}
	cmd.Env = append(os.Environ(), h.token())
	if err := cmd.Start(); err != nil {
		return err
	}
	if f, ok := cmd.Stderr.(*os.File); ok {
		_ = f.Close() // the child holds its own descriptor
	}
	done := make(chan struct{})
	// sshd's exit status says nothing its log does not: done only tells
	// that it exited.
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", h.HostPort(), time.Second)
		if err == nil {
			_ = c.Close() // a probe: it only had to connect
			h.mu.Lock()
			h.probes++
			h.mu.Unlock()
			break
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited at start: %s", h.Server, tail(h.LogFile, 5))
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill() // best effort: done says when it is gone
			<-done
			return fmt.Errorf("%s did not listen on %s in 10s: %s", h.Server, h.HostPort(), tail(h.LogFile, 5))
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.mu.Lock()
	h.cmd, h.done = cmd, done
	h.mu.Unlock()
	return nil
}

// sftpLine is the fleet's Subsystem line, or a comment saying there is
// none.
func sftpLine(none bool) string {
	if none {
		return "# no sftp subsystem (Options.NoSFTP)"
	}
	return "Subsystem sftp internal-sftp"
}

// hostKeyFile is the host's private key, in OpenSSH's format.
func (h *Host) hostKeyFile() string { return strings.TrimSuffix(h.cfgFile, ".conf") + ".hostkey" }

func (h *Host) writeConfig(t testing.TB) {
	t.Helper()
	f := h.fleet
	cfg := fmt.Sprintf(`# generated by sshtest: host %[1]s
%[8]s
ListenAddress %[2]s
AddressFamily inet
HostKey %[3]s
PidFile none
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
PermitRootLogin prohibit-password
AuthorizedKeysFile %[4]s/authorized_keys
# the fleet lives under /tmp, which StrictModes would reject
StrictModes no
MaxSessions %[5]d
MaxStartups 1000:30:1000
LoginGraceTime 30
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
LogLevel VERBOSE
%[9]s
# an empty HOME keeps the machine's ~/.bashrc out of remote commands; the
# token finds every session process at teardown
SetEnv HOME=%[6]s %[7]s
`, h.Name, h.HostPort(), h.hostKeyFile(), f.Dir,
		h.maxSessions, f.home, h.token(), h.extraConfig, sftpLine(h.noSFTP))
	writeFile(t, h.cfgFile, []byte(cfg), 0o600)
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

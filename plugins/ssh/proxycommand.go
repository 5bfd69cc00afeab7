package ssh

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// proxyConn carries an SSH connection over a ProxyCommand's standard
// input and output, as ssh does: the command (`aws ssm start-session`,
// `cloudflared access ssh`, `ssh -W %h:%p bastion`, `nc`) is run by the
// user's shell ($SHELL, else /bin/sh) as `exec COMMAND`, in a process
// group of its own, and lives as long as the connection. Closing the
// connection closes its pipes, which ends the usual ones (nc, ssh -W);
// one still there after proxyGrace is hung up (SIGHUP, as ssh does when
// it exits), then killed if it lingers.
type proxyConn struct {
	cmd     *exec.Cmd
	command string
	addr    proxyAddr // the host's, "host:port"
	r       *os.File  // the command's stdout
	w       *os.File  // the command's stdin
	stderr  *tailBuffer
	exited  chan struct{} // closed once the command has been waited for

	closeOnce sync.Once
}

// proxyFailureWait is how long a ProxyCommand that ended the connection
// is given to exit, and finish saying why, before it is hung up.
const proxyFailureWait = 500 * time.Millisecond

// proxyGrace is how long a ProxyCommand has to exit once its input is
// closed before it is hung up: enough for one that ended the connection
// to finish saying why on stderr.
const proxyGrace = 200 * time.Millisecond

// proxyLinger is how long a ProxyCommand has to exit once hung up before
// it is killed.
const proxyLinger = 2 * time.Second

// startProxyCommand runs command and returns the connection it carries to
// addr ("host:port", what the connection says its remote address is: the
// host key is checked against it).
func startProxyCommand(command, addr string) (*proxyConn, error) {
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		_, _ = inR.Close(), inW.Close() // nothing was written
		return nil, err
	}
	pc := &proxyConn{command: command, addr: proxyAddr(addr), r: outR, w: inW, stderr: &tailBuffer{max: 4096}, exited: make(chan struct{})}
	pc.cmd = exec.Command(shell, "-c", "exec "+command)
	pc.cmd.Stdin, pc.cmd.Stdout, pc.cmd.Stderr = inR, outW, pc.stderr
	setProcessGroup(pc.cmd)
	// Something it started that keeps stderr open must not hold Wait.
	pc.cmd.WaitDelay = time.Second
	err = pc.cmd.Start()
	// The child holds its own ends now (or failed to start).
	_, _ = inR.Close(), outW.Close()
	if err != nil {
		_, _ = outR.Close(), inW.Close()
		return nil, fmt.Errorf("ProxyCommand %q: %w", command, err)
	}
	go func() {
		// Its exit status says nothing the SSH connection does not.
		_ = pc.cmd.Wait()
		close(pc.exited)
	}()
	return pc, nil
}

func (pc *proxyConn) Read(b []byte) (int, error)  { return pc.r.Read(b) }
func (pc *proxyConn) Write(b []byte) (int, error) { return pc.w.Write(b) }

// Close ends the command: its stdin closed, then its group hung up after
// proxyGrace, and killed after proxyLinger more, until it has exited; it
// returns once the command was waited for. x/crypto closes the connection
// itself when the handshake fails.
func (pc *proxyConn) Close() error {
	pc.closeOnce.Do(func() {
		_, _ = pc.w.Close(), pc.r.Close() // the connection is over either way
		for _, step := range []struct {
			wait time.Duration
			then func()
		}{
			{proxyGrace, func() { signalGroup(pc.cmd, hangup) }},
			{proxyLinger, func() { signalGroup(pc.cmd, kill) }},
		} {
			select {
			case <-pc.exited:
				return
			case <-time.After(step.wait):
				step.then()
			}
		}
		<-pc.exited
	})
	return nil
}

// failure describes why the connection through the command ended early:
// the last line it wrote on stderr, or that it exited. It gives the
// command a moment to end first: it may close its stdout before it says
// why on stderr.
func (pc *proxyConn) failure() string {
	select {
	case <-pc.exited:
	case <-time.After(proxyFailureWait):
	}
	if line := pc.stderr.lastLine(); line != "" {
		return fmt.Sprintf("ProxyCommand %q: %s", pc.command, line)
	}
	select {
	case <-pc.exited:
		return fmt.Sprintf("ProxyCommand %q exited (%s)", pc.command, pc.cmd.ProcessState)
	default:
		return fmt.Sprintf("ProxyCommand %q closed its output", pc.command)
	}
}

// said names the command, with the last line it wrote on stderr if any.
func (pc *proxyConn) said() string {
	if line := pc.stderr.lastLine(); line != "" {
		return fmt.Sprintf("through ProxyCommand %q, which said: %s", pc.command, line)
	}
	return fmt.Sprintf("through ProxyCommand %q", pc.command)
}

func (pc *proxyConn) LocalAddr() net.Addr  { return pc.addr }
func (pc *proxyConn) RemoteAddr() net.Addr { return pc.addr }

func (pc *proxyConn) SetDeadline(t time.Time) error {
	if err := pc.r.SetReadDeadline(t); err != nil {
		return err
	}
	return pc.w.SetWriteDeadline(t)
}
func (pc *proxyConn) SetReadDeadline(t time.Time) error  { return pc.r.SetReadDeadline(t) }
func (pc *proxyConn) SetWriteDeadline(t time.Time) error { return pc.w.SetWriteDeadline(t) }

// proxyAddr is the address of either end of a ProxyCommand's pipes: the
// host's, "host:port", which is where they lead.
type proxyAddr string

func (proxyAddr) Network() string  { return "proxycommand" }
func (a proxyAddr) String() string { return string(a) }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

// lastLine is the last line written that is not blank, without control
// characters.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := bytes.Split(bytes.TrimSpace(t.b), []byte("\n"))
	line := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, string(lines[len(lines)-1]))
	return strings.TrimSpace(line)
}

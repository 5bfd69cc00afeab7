package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// clientVersion is the SSH identification string fanout sends.
const clientVersion = "SSH-2.0-fanout"

// hostConn is the one SSH connection of a host (or a jump host) for the
// run. Sessions on it are bounded by a semaphore; a keepalive loop closes
// it when the server stops answering, and a watcher records when and why
// it ended, so that sessions waiting or running on it fail.
type hostConn struct {
	name   string // the host's name, for messages
	addr   string
	client *ssh.Client
	logger hclog.Logger

	// sessions holds one token per session open on the connection, and
	// one per slot given up because the server allows fewer sessions than
	// max_sessions (see newSession); its capacity is max_sessions. Nil for
	// jump hosts, which run none.
	sessions chan struct{}
	// open counts the sessions open on the connection.
	open atomic.Int32
	// lowered is set once the connection's session limit was lowered, so
	// that it is said once in the debug log.
	lowered atomic.Bool
	// gone is closed when the connection has ended.
	gone chan struct{}
	// noSFTP is set once the server refused the sftp subsystem: transfers
	// then go through the shell (files.go).
	noSFTP atomic.Bool
	// forwardAgent is whether commands get the agent forwarded (see
	// target.forwardAgent).
	forwardAgent bool
	// raw is whether commands are sent as they are (see execRaw).
	raw bool

	mu  sync.Mutex // guards err and keepalives
	err error      // why the connection ended
	// keepalives sends the next keepalive (see keepalive); nil when there
	// are none.
	keepalives *time.Timer

	wg sync.WaitGroup // the watcher and a keepalive in flight
}

func newHostConn(tg *target, client *ssh.Client, maxSessions int, logger hclog.Logger) *hostConn {
	c := &hostConn{
		name:   tg.name,
		addr:   tg.addr(),
		client: client,
		logger: logger.With("host", tg.name, "address", tg.addr()),
		gone:   make(chan struct{}),
		raw:    tg.raw,
	}
	if maxSessions > 1 && strings.HasPrefix(string(client.ServerVersion()), "SSH-2.0-dropbear") {
		// dropbear (2022.83) now and then closes a session just opened
		// while another session of the connection ends: the new one's
		// command starts, then the exec request fails with EOF and the
		// command is killed. Plain x/crypto clients see it too, OpenSSH
		// servers never; sessions one after another never do.
		c.logger.Debug("dropbear server: one session at a time on this connection", "max_sessions", maxSessions)
		maxSessions = 1
	}
	if maxSessions > 0 {
		c.sessions = make(chan struct{}, maxSessions)
		// The agent's channels are opened by the server, each to a new
		// connection to the local agent, until the client closes. An
		// agent that cannot be reached is not forwarded, as ssh does.
		if tg.forwardAgent != "" {
			if err := agent.ForwardToRemote(client, tg.forwardAgent); err != nil {
				c.logger.Warn("the ssh-agent is not forwarded", "socket", tg.forwardAgent, "error", err)
			} else {
				c.forwardAgent = true
			}
		}
	}
	c.wg.Go(c.watch)
	if interval := tg.keepaliveInterval; interval > 0 {
		count := max(tg.keepaliveCountMax, 1)
		c.mu.Lock()
		c.keepalives = time.AfterFunc(interval, func() { c.keepalive(interval, count) })
		c.mu.Unlock()
	}
	return c
}

// watch waits for the connection to end, whoever ends it.
func (c *hostConn) watch() {
	err := c.client.Wait()
	if err == nil {
		err = errors.New("closed by the server")
	}
	err = c.ended(err)
	close(c.gone)
	c.logger.Debug("connection ended", "reason", err)
}

// keepalive sends keepalive@openssh.com, closes the connection when the
// request fails or is not answered within count intervals (as ssh's
// ServerAliveCountMax: a server answers in order, so the next ones would
// not be answered sooner), and sends the next one interval later.
// OpenSSH answers the unknown request with a failure, which is an answer. It runs from the keepalives timer, not a
// goroutine of its own: a fleet's idle connections held one goroutine
// each for nothing but a ticker (2,000 of them in a run of 2,000 hosts).
// close waits for a keepalive in flight, and none starts once the
// connection has ended.
func (c *hostConn) keepalive(interval time.Duration, count int) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	// Before close's Wait: fail sets err under mu first.
	c.wg.Add(1)
	c.mu.Unlock()
	defer c.wg.Done()
	// SendRequest blocks until the reply; closing the client is the only
	// way to end it, so the timer does that.
	timer := time.AfterFunc(time.Duration(count)*interval, func() {
		c.fail(fmt.Errorf("no keepalive answer within %s (%d x %s)", time.Duration(count)*interval, count, interval))
	})
	_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
	timer.Stop()
	if err != nil {
		c.fail(fmt.Errorf("keepalive: %w", err))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.keepalives.Reset(interval)
	}
}

// fail ends the connection for reason (the first reason wins).
func (c *hostConn) fail(reason error) {
	// The reason recorded may be an earlier one, and Close's error says
	// nothing more: callers see the recorded reason.
	_ = c.ended(reason)
	_ = c.client.Close()
}

// ended records why the connection ended, the first reason winning, and
// stops its keepalives (none starts once err is set: see keepalive). It
// returns the reason recorded.
func (c *hostConn) ended(reason error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = reason
	}
	if c.keepalives != nil {
		c.keepalives.Stop()
	}
	return c.err
}

// close ends the connection and waits for its goroutines. Safe to call
// more than once.
func (c *hostConn) close() {
	c.fail(ErrClosed)
	c.wg.Wait()
}

// closeAll ends every connection of conns at once, then waits for their
// goroutines. One after another, each waiting for its own, took 1 ms per
// connection: 0.2 s at the end of a run on 200 hosts.
func closeAll(conns []*hostConn) {
	for _, c := range conns {
		c.fail(ErrClosed)
	}
	for _, c := range conns {
		c.wg.Wait()
	}
}

// alive reports whether the connection has not ended.
func (c *hostConn) alive() bool {
	select {
	case <-c.gone:
		return false
	default:
		return true
	}
}

// lost is the error of something that failed because the connection ended.
func (c *hostConn) lost() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Errorf("%w to %s: %v", ErrConnectionLost, c.addr, c.err)
}

// errStillRunning refuses a host whose connection terminate closed on a
// command that did not stop (errUnstoppable): nothing more is sent there in
// this run, so that nothing, that command's rollback least of all, runs
// beside it. A raw host is dialled again: raw gives up stopping commands.
var errStillRunning = errors.New("a command that did not stop when signalled may still run there (fanout closed its connection): " +
	"nothing more is run there in this run, its rollback included, so that nothing runs beside it; check the host, then fanout rollback")

// dialCall is a connection being made, or made, shared by every caller
// that wants it: concurrent Connects to one host dial once.
type dialCall struct {
	done chan struct{} // closed when conn or err is set
	conn *hostConn
	err  error
}

// shared returns the live connection under key, dialling it with dial if
// there is none or it has ended. The dial runs on the transport's context,
// not the caller's: a caller that gives up does not fail the others
// waiting for the same connection. The caller waits until the dial ends or
// ctx is done.
func (t *Transport) shared(ctx context.Context, key string, dial func(context.Context) (*hostConn, error)) (*hostConn, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, ErrClosed
	}
	call := t.conns[key]
	if call != nil {
		select {
		case <-call.done:
			if call.conn != nil && call.conn.cutOff() && !call.conn.raw {
				// Not dialled again: its rollback would run beside it.
				t.mu.Unlock()
				return nil, errStillRunning
			}
			if call.err != nil || !call.conn.alive() {
				if call.conn != nil {
					t.retired = append(t.retired, call.conn)
				}
				call = nil
			}
		default:
		}
	}
	if call == nil {
		call = &dialCall{done: make(chan struct{})}
		t.conns[key] = call
		t.dials.Go(func() {
			conn, err := dial(t.ctx)
			t.mu.Lock()
			defer t.mu.Unlock()
			if err == nil && t.closed {
				conn.close()
				conn, err = nil, ErrClosed
			}
			call.conn, call.err = conn, err
			close(call.done)
		})
	}
	t.mu.Unlock()

	select {
	case <-call.done:
		return call.conn, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// handshake makes one SSH connection to tg, directly or through via (a jump
// host's connection), within connect_timeout and under the max_connects
// semaphore. Every half-opened resource is closed on every error path.
func (t *Transport) handshake(ctx context.Context, st *settings, tg *target, creds *credentials, via *ssh.Client) (*ssh.Client, error) {
	select {
	case st.connectSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-st.connectSlots }()

	ctx, cancel := context.WithTimeout(ctx, tg.connectTimeout)
	defer cancel()
	addr := tg.addr()
	start := time.Now()

	var nc net.Conn
	var err error
	var proxy *proxyConn
	switch {
	case via != nil:
		nc, err = via.DialContext(ctx, "tcp", addr)
	case tg.proxyCommand != "":
		proxy, err = startProxyCommand(tg.proxyCommand, addr)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrUnreachable, addr, err)
		}
		nc = proxy
	default:
		var d net.Dialer
		network := tg.network
		if network == "" {
			network = "tcp"
		}
		nc, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w after %s: tcp connect to %s", ErrConnectTimeout, tg.connectTimeout, addr)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if via != nil {
			var oc *ssh.OpenChannelError
			hint := ""
			if errors.As(err, &oc) && oc.Reason == ssh.Prohibited {
				hint = "; its sshd may forbid forwarding (AllowTcpForwarding, DisableForwarding, PermitOpen)"
			}
			return nil, fmt.Errorf("%w %s: the jump host %s did not open a connection to it: %w%s", ErrUnreachable, addr, via.RemoteAddr(), err, hint)
		}
		return nil, fmt.Errorf("%w %s: %w", ErrUnreachable, addr, unwrapDialError(err))
	}
	// The deadline bounds a TCP conn's reads and writes; a tunnelled conn
	// does not support deadlines, so closing it when ctx ends bounds both.
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() }) // ctx.Err() is what is reported

	kex := tg.algos.kex
	if kex == nil {
		kex = preferredKeyExchanges()
	}
	hostKeyAlgos := tg.algos.hostKeys
	if tg.algos.knownHostsOrder {
		hostKeyAlgos = tg.hostKeys.hostKeyAlgorithms(tg.keyAddr(), hostKeyAlgos)
	}
	config := &ssh.ClientConfig{
		Config:            ssh.Config{KeyExchanges: kex, Ciphers: tg.algos.ciphers, MACs: tg.algos.macs},
		User:              tg.user,
		Auth:              []ssh.AuthMethod{creds.authMethod()},
		HostKeyCallback:   tg.hostKeys.callback(tg),
		HostKeyAlgorithms: hostKeyAlgos,
		ClientVersion:     clientVersion,
	}
	// The host key is checked against the address HostKeyAlias names,
	// if any; the connection is to addr either way.
	cc, chans, reqs, err := ssh.NewClientConn(nc, tg.keyAddr(), config)
	if stopped := stop(); !stopped || err != nil {
		// Either ctx ended during the handshake and closed nc under it,
		// or the handshake failed (the TCP deadline may have hit first).
		// Abandoned: the error reported is the handshake's or ctx's.
		if err == nil {
			_ = cc.Close()
		}
		// A ProxyCommand that ended the connection says why on stderr,
		// which it may still be writing: read before it is hung up.
		var proxyFailure string
		// A ProxyCommand that exits at once may be found by a write
		// (broken pipe) before a read (EOF).
		if proxy != nil && (isEOF(err) || errors.Is(err, syscall.EPIPE)) {
			proxyFailure = proxy.failure()
		}
		_ = nc.Close()
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
			through := ""
			if proxy != nil {
				through = " " + proxy.said()
			}
			return nil, fmt.Errorf("%w after %s: no ssh handshake and authentication with %s%s", ErrConnectTimeout, tg.connectTimeout, addr, through)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case proxyFailure != "":
			return nil, fmt.Errorf("%w %s: %s", ErrUnreachable, addr, proxyFailure)
		}
		return nil, handshakeError(tg, creds, err)
	}
	_ = nc.SetDeadline(time.Time{})
	t.logger.Debug("connected", "host", tg.name, "address", addr, "user", tg.user,
		"via", via != nil, "took", time.Since(start).Round(time.Millisecond))
	return ssh.NewClient(cc, chans, reqs), nil
}

// handshakeError turns x/crypto's handshake errors into the line an
// operator reads.
func handshakeError(tg *target, creds *credentials, err error) error {
	var hk *HostKeyError
	if errors.As(err, &hk) {
		return hk
	}
	var ne *ssh.AlgorithmNegotiationError
	if errors.As(err, &ne) {
		return fmt.Errorf("ssh handshake with %s: %s", tg.addr(), negotiationHint(ne, tg.algos.specs))
	}
	refused := strings.Contains(err.Error(), "unable to authenticate")
	tooMany := strings.Contains(err.Error(), "Too many authentication failures")
	if (refused || tooMany) && len(creds.later) > 0 {
		// The keys offered were refused: now ssh would ask for the
		// passphrase of the identity file it has not offered yet.
		return &PromptError{Prompts: creds.later}
	}
	if refused {
		return fmt.Errorf("%w as %s on %s: the server accepted none of the keys offered (%s); is the public key in ~%s/.ssh/authorized_keys there?",
			ErrAuthFailed, tg.user, tg.addr(), strings.Join(creds.sources, ", "), tg.user)
	}
	if tooMany {
		return fmt.Errorf("%w as %s on %s: the server closed the connection after too many keys were offered (its MaxAuthTries; offered: %s); "+
			"name the key it takes with IdentityFile and IdentitiesOnly yes", ErrAuthFailed, tg.user, tg.addr(), strings.Join(creds.sources, ", "))
	}
	if isEOF(err) || errors.Is(err, syscall.ECONNRESET) {
		// As ssh says "Connection closed by ... port 22" and no more.
		return fmt.Errorf("ssh handshake with %s: %w: the server closed the connection before the handshake ended: sshd drops "+
			"connections past its MaxStartups (10 unauthenticated at once, by default), which many hosts behind one server "+
			"reach (lower max_connects), or a firewall, TCP wrappers or fail2ban refuse this client", tg.addr(), err)
	}
	return fmt.Errorf("ssh handshake with %s: %w", tg.addr(), err)
}

// isEOF reports whether err is the connection ending under the handshake.
func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed)
}

// unwrapDialError drops the "dial tcp ADDR:" prefix that repeats what the
// message already says.
func unwrapDialError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

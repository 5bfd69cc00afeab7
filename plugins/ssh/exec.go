package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/sdk"
)

// Grace periods when stopping a command: after TERM, how long it may take
// to exit before KILL; after KILL and the watcher's kill, how long before
// the session is closed regardless.
const (
	termGrace = 2 * time.Second
	killGrace = 2 * time.Second
)

// How a command is run on the host.
//
// The login shell (sshd runs `$SHELL -c STRING`) only executes
//
//	exec /bin/sh -c 'eval "$1"' fanout WATCH COMMAND
//
// so the command always runs under /bin/sh, whatever the login shell, and
// the string the login shell parses is four single-quoted words. WATCH
// runs COMMAND in that same /bin/sh with eval, after dropping both from
// the positional parameters (the command sees $0 = fanout and no
// arguments): exec'ing a second /bin/sh -c for it cost the host 1.4 ms of
// CPU per command, more than a third of what running `true` over SSH
// costs it.
//
// Environment: COMMAND starts with `export K='v';` for every variable.
// Session.Setenv is not used: OpenSSH refuses every name outside AcceptEnv
// (Debian accepts LANG and LC_* only), so FANOUT_* would not arrive, and
// trying costs a round trip per variable. Exports always work.
//
// A process group of its own. Stopping a command means signalling its
// process group: the shell, the command and every child, `cmd &` ones too.
// OpenSSH makes each session's process a session leader, so it has its
// group; dropbear does not (the command shares the group of the server's
// process for the connection, and of every other session on it). So WATCH
// first reads its process group from /proc/$$/stat and, when it is not the
// group's leader, re-executes itself under setsid(1), which makes the same
// process (no fork: the server still waits for this pid and sees its exit
// status and signal) the leader of a new session and group. Where there is
// no /proc (BSDs, whose servers are OpenSSH) nothing changes; where the
// process leads no group and there is no setsid, only the shell is ever
// signalled, never a group that is not the command's.
//
// Signals and killing. SSH's "signal" request is not used: OpenSSH
// delivers it with killpg() on the session's group, but Debian 12's 9.2
// refuses it for root logins ("session signalling requires privilege
// separation"), servers before 7.9 ignore it, dropbear sends it to the
// shell alone (whose children survive), and nothing is delivered when the
// connection breaks. So WATCH keeps a watcher beside the command, and the
// session's stdin (the SSH channel, otherwise unused) is its control line:
//
//   - WATCH moves stdin to fd 3 and gives the command /dev/null: the
//     command's stdin is empty, as the contract wants;
//   - the watcher runs in the background in the command's process group,
//     ignores the catchable signals it sends the group itself, and reads
//     fd 3 line by line; each line is a signal name (from the fixed list
//     of signals, never user text) that it sends to the process group;
//   - end of file on fd 3 while the command still runs means the session
//     or the connection went away without the command ending: the watcher
//     sends TERM to the process group, waits 2 s, then KILL;
//   - so does end of file after the watcher delivered INT, TERM, HUP,
//     QUIT or KILL: the command was stopped, and what it left behind goes
//     too (background jobs of sh ignore INT: `sleep 36 & wait` interrupted
//     by Ctrl-C left its sleep running);
//   - end of file after the command ended by itself (the server closes
//     stdin when the command exits, or the session when its output ends)
//     ends the watcher quietly, leaving alone any daemon the command meant
//     to start.
//
// A timeout, a cancelled ctx or Close send TERM, then KILL after
// termGrace, then close the session after killGrace. The command keeps its
// own exit status and signal: the session's process is the shell that
// runs it.
const watchScript = `p=0; if read -r _ _ _ _ g _ 2>/dev/null </proc/$$/stat && [ "$g" != $$ ]; then ` +
	`command -v setsid >/dev/null 2>&1 && exec setsid /bin/sh -c 'eval "$1"' fanout "$1" "$2"; p=$$; fi; ` +
	`exec 3<&0 </dev/null; ` +
	`{ trap '' HUP INT QUIT TERM USR1 USR2 ALRM PIPE; t=; ` +
	`while read -r s <&3; do kill -s "$s" $p; case $s in INT|TERM|HUP|QUIT|KILL) t=1;; esac; done; ` +
	`if [ -n "$t" ] || kill -0 $$; then kill -s TERM $p; sleep 2; kill -s KILL $p; fi; ` +
	`} >/dev/null 2>&1 & exec 3<&-; unset p g; eval "shift 2; $2"`

// remoteCommand is the string sent in the SSH "exec" request.
func remoteCommand(command string, env map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		b.WriteString("export ")
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(shellQuote(env[k]))
		b.WriteString("; ")
	}
	b.WriteString(command)
	return `exec /bin/sh -c 'eval "$1"' fanout ` + shellQuote(watchScript) + " " + shellQuote(b.String())
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// validEnvName reports whether name can be exported by sh.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// signals are the names Signal accepts (RFC 4254 section 6.10).
var signals = map[string]ssh.Signal{
	"ABRT": ssh.SIGABRT, "ALRM": ssh.SIGALRM, "FPE": ssh.SIGFPE, "HUP": ssh.SIGHUP,
	"ILL": ssh.SIGILL, "INT": ssh.SIGINT, "KILL": ssh.SIGKILL, "PIPE": ssh.SIGPIPE,
	"QUIT": ssh.SIGQUIT, "SEGV": ssh.SIGSEGV, "TERM": ssh.SIGTERM, "USR1": ssh.SIGUSR1,
	"USR2": ssh.SIGUSR2,
}

// execution is an Exec in progress, found by Signal through its ID.
type execution struct {
	// abort is closed by Close: stop the command now.
	abort     chan struct{}
	abortOnce sync.Once

	mu       sync.Mutex // guards the fields below
	control  io.Writer  // the watcher's control line (the session's stdin); set once started
	early    ssh.Signal // a terminating signal that came before the start
	finished bool
}

func newExecution() *execution { return &execution{abort: make(chan struct{})} }

func (e *execution) stop() { e.abortOnce.Do(func() { close(e.abort) }) }

// signal delivers sig to the command, or remembers a terminating one that
// came before the command started so that it never starts. Signalling a
// finished command does nothing.
func (e *execution) signal(sig ssh.Signal) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.control == nil {
		switch sig {
		case ssh.SIGTERM, ssh.SIGINT, ssh.SIGHUP, ssh.SIGQUIT, ssh.SIGKILL:
			e.early = sig
		}
		return
	}
	if !e.finished {
		e.deliver(sig)
	}
}

// deliver writes sig's name on the watcher's control line; the watcher
// sends it to the command's process group. e.mu must be held: it also
// serialises the lines. An error means the session is over: nothing to
// signal.
func (e *execution) deliver(sig ssh.Signal) {
	_, _ = io.WriteString(e.control, string(sig)+"\n")
}

// pendingSignal returns a terminating signal that came before the start.
func (e *execution) pendingSignal() ssh.Signal {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.early
}

// start records the running session's control line and delivers a
// terminating signal that came before it, if any.
func (e *execution) start(control io.Writer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.control = control
	if e.early != "" {
		e.deliver(e.early)
	}
}

// finish marks the command over; Signal then does nothing.
func (e *execution) finish() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finished = true
}

// signalNow delivers sig to a started command, finished or not: the
// transport's own TERM and KILL.
func (e *execution) signalNow(sig ssh.Signal) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deliver(sig)
}

// exec runs req on the connection: it waits for a session slot, runs the
// command, streams its output and returns how it ended.
func (c *hostConn) exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput, ex *execution) (*sdk.ExecResponse, error) {
	if err := c.acquire(ctx, ex.abort); err != nil {
		return nil, err
	}
	if sig := ex.pendingSignal(); sig != "" {
		c.release()
		return &sdk.ExecResponse{ExitCode: -1, Signal: string(sig)}, nil
	}
	sess, err := c.newSession(ctx, ex.abort)
	if err != nil {
		return nil, err
	}
	// Deferred in this order, the slot is released after the session has
	// ended (Wait returned: the server's channel close has arrived).
	defer c.endSession(sess)
	// The watcher's control line; see watchScript. Closed with the
	// session.
	control, err := sess.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("open session on %s: %w", c.addr, err)
	}
	defer ex.finish()
	out = out.OrDiscard()
	sess.Stdout, sess.Stderr = out.Stdout, out.Stderr
	if err := sess.Start(remoteCommand(req.Command, req.Env)); err != nil {
		if c.endedBy(err) {
			return nil, c.lost()
		}
		return nil, fmt.Errorf("start command on %s: %w", c.addr, err)
	}
	ex.start(control)

	// Wait returns once the exit status and all output have arrived, or
	// the session is closed; the channel is buffered so that the
	// goroutine can finish whichever way we leave, and we always receive
	// from it before returning.
	waitc := make(chan error, 1)
	go func() { waitc <- sess.Wait() }()

	var timeout <-chan time.Time
	if req.Timeout > 0 {
		timer := time.NewTimer(req.Timeout)
		defer timer.Stop()
		timeout = timer.C
	}
	var (
		waitErr  error
		timedOut bool
		cause    error
	)
	select {
	case waitErr = <-waitc:
	case <-timeout:
		timedOut = true
		waitErr = c.terminate(ex, sess, waitc)
	case <-ctx.Done():
		cause = ctx.Err()
		waitErr = c.terminate(ex, sess, waitc)
	case <-ex.abort:
		cause = ErrClosed
		waitErr = c.terminate(ex, sess, waitc)
	}

	resp, err := c.exitResponse(waitErr)
	if timedOut || cause != nil {
		// Stopped by us: how it ended is known or does not matter.
		if resp == nil {
			resp = &sdk.ExecResponse{ExitCode: -1}
		}
		resp.TimedOut = timedOut
		if cause != nil {
			return resp, fmt.Errorf("command stopped: %w", cause)
		}
		return resp, nil
	}
	return resp, err
}

// terminate stops a running command: TERM, then after termGrace KILL,
// then after killGrace the session is closed, which also makes a watcher
// still there clean up. It returns what Wait returned.
func (c *hostConn) terminate(ex *execution, sess *ssh.Session, waitc <-chan error) error {
	ex.signalNow(ssh.SIGTERM)
	select {
	case err := <-waitc:
		return err
	case <-time.After(termGrace):
	}
	ex.signalNow(ssh.SIGKILL)
	select {
	case err := <-waitc:
		return err
	case <-time.After(killGrace):
	}
	c.logger.Warn("command did not end after KILL; closing its session")
	sess.Close()
	return <-waitc
}

// exitResponse maps Wait's result to a response, or to an error when the
// outcome is unknown.
func (c *hostConn) exitResponse(err error) (*sdk.ExecResponse, error) {
	var ee *ssh.ExitError
	var em *ssh.ExitMissingError
	switch {
	case err == nil:
		return &sdk.ExecResponse{ExitCode: 0}, nil
	case errors.As(err, &ee) && ee.Signal() != "":
		return &sdk.ExecResponse{ExitCode: -1, Signal: ee.Signal()}, nil
	case errors.As(err, &ee):
		return &sdk.ExecResponse{ExitCode: ee.ExitStatus()}, nil
	case c.endedSoon():
		return nil, c.lost()
	case errors.As(err, &em):
		return nil, fmt.Errorf("the command on %s ended without reporting an exit status", c.addr)
	default:
		return nil, fmt.Errorf("command on %s: %w", c.addr, err)
	}
}

// endedBy reports whether err, from a request on the connection, means
// the connection ended: x/crypto/ssh fails a request in flight with io.EOF
// the moment the transport closes, before the watcher may have recorded
// why, so an EOF waits for that as a missing exit status does.
func (c *hostConn) endedBy(err error) bool {
	if errors.Is(err, io.EOF) {
		return c.endedSoon()
	}
	return !c.alive()
}

// endedSoon reports whether the connection ends within a moment: a session
// that ended without an exit status usually means the connection broke,
// and the watcher may not have seen it yet.
func (c *hostConn) endedSoon() bool {
	select {
	case <-c.gone:
		return true
	case <-time.After(500 * time.Millisecond):
		return false
	}
}

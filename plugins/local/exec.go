package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/fanout/fanout/sdk"
)

const (
	// killGrace is how long a command has to end after SIGTERM, on a
	// timeout, a cancellation or Close, before its group gets SIGKILL.
	killGrace = 2 * time.Second

	// outputGrace is how long Exec waits, once the command has exited, for
	// processes it left in the background to release its stdout and
	// stderr. Past it Exec returns and their further output is lost,
	// rather than have a daemon started by a task hold the task forever.
	outputGrace = time.Second

	// groupPoll is how often a stopping command's process group is checked
	// for members that outlived its shell.
	groupPoll = 50 * time.Millisecond
)

// Exec runs req.Command as `SHELL -c COMMAND` in a new process group, with
// this process's environment plus req.Env, req.Stdin (or /dev/null), and stdout
// and stderr written to out as the command produces them. It blocks until
// the command exits.
//
// On req.Timeout the group gets SIGTERM, then SIGKILL after two seconds,
// and the response says TimedOut. On ctx cancellation, on Close, or when
// writing its output fails, it is stopped the same way and Exec returns an
// error wrapping the cause. When Signal sent a signal that asks the command
// to end (HUP, INT, QUIT, TERM, KILL) and its shell then exits, what is
// left of the group is stopped the same way before Exec returns.
//
// On Linux, in a binary that calls SupervisorMain, the command's group is
// registered with the transport's supervisor process while its shell runs,
// and is killed by it if this process dies first.
func (t *Transport) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	e, shell, early, err := t.begin(req.ID)
	if err != nil {
		return nil, err
	}
	defer t.end(req.ID)
	if early != "" {
		// Signalled on its way here (a Ctrl-C): ended by the signal
		// before it started, as a command it reached first would be.
		close(e.started)
		t.logger.Debug("exec signalled before it started; not started", "exec", req.ID, "signal", early)
		return &sdk.ExecResponse{ExitCode: -1, Signal: early}, nil
	}

	out = out.OrDiscard()
	failed := &writeFailure{ch: make(chan struct{})}
	if err := ctx.Err(); err != nil {
		close(e.started)
		return nil, fmt.Errorf("command not started: %w", err)
	}
	var stdin io.Reader
	if req.Stdin != nil {
		// A pipe the command reads, then its end; never a file or an
		// argument, since it may hold a password.
		stdin = bytes.NewReader(req.Stdin)
	}
	p, err := startCommand(t.logger, t.supervisor(), shell, req.Command, environ(req.Env), stdin,
		&failureWriter{w: out.Stdout, f: failed}, &failureWriter{w: out.Stderr, f: failed})
	if err != nil {
		close(e.started)
		return nil, err
	}
	e.pgid = p.pgid
	close(e.started)
	t.logger.Debug("exec started", "exec", req.ID, "host", req.Host, "pgid", p.pgid, "supervised", p.sup != nil)

	waitErr, timedOut, stopped := t.watch(ctx, e, p, req.Timeout, failed)
	code, sig, signaled := p.status()
	sigName := ""
	if signaled {
		sigName = sdk.SignalName(sig)
	}
	t.logger.Debug("exec finished", "exec", req.ID, "pgid", p.pgid, "timed_out", timedOut, "exit_code", code, "signal", sigName)
	if stopped == nil {
		select {
		case <-failed.ch:
			// It ended on its own, but part of its output was lost.
			stopped = fmt.Errorf("write output: %w", failed.err)
		default:
		}
	}
	if stopped != nil {
		return nil, stopped
	}

	var exitErr *exec.ExitError
	switch {
	case waitErr == nil, errors.As(waitErr, &exitErr):
	case errors.Is(waitErr, exec.ErrWaitDelay):
		t.logger.Debug("background processes kept the output open; stopped reading it", "exec", req.ID)
	default:
		// The command ran, but its output could not be delivered.
		return nil, fmt.Errorf("copy output of exec %s: %w", req.ID, waitErr)
	}
	return &sdk.ExecResponse{TimedOut: timedOut, ExitCode: code, Signal: sigName}, nil
}

// errTimedOut is watch's cause for stopping a command whose timeout has
// passed, which is no error for Exec's caller.
var errTimedOut = errors.New("timed out")

// watch waits for the command p of e to end, and stops its process group
// when its timeout passes (timedOut), or when ctx ends, Close is called or
// a write of its output fails (stopped says which). It returns once the
// shell has been reaped and its output copied, with cmd.Wait's error.
func (t *Transport) watch(ctx context.Context, e *execution, p *process, timeout time.Duration, failed *writeFailure) (waitErr error, timedOut bool, stopped error) {
	// The goroutine waits for the shell to exit, then for the go-ahead to
	// reap it, which every path below gives before it waits for reaped.
	exited, reap, reaped := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		p.awaitExit()
		close(exited)
		<-reap
		waitErr = p.wait()
		close(reaped)
	}()
	var timer <-chan time.Time
	if timeout > 0 {
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		timer = tm.C
	}

	// While the shell runs, its group stays registered with the
	// supervisor, and whatever asks the command to stop stops the group.
	cause := t.stopCause(ctx, timer, failed, exited)
	if cause != nil {
		terminate(p.pgid, exited)
	} else {
		t.stopSignalled(e, p.pgid)
	}
	close(reap)
	if cause == nil {
		// What the command left in the background may hold its output
		// for up to outputGrace; it can still be stopped meanwhile, as
		// while its shell ran.
		if cause = t.stopCause(ctx, nil, failed, reaped); cause != nil {
			terminate(p.pgid, nil)
		} else {
			t.stopSignalled(e, p.pgid)
		}
	}
	<-reaped
	// From here Signal leaves the group alone: its shell has been reaped,
	// and once the rest has gone its id may name another group.
	t.mu.Lock()
	e.pgid = 0
	t.mu.Unlock()
	if errors.Is(cause, errTimedOut) {
		return waitErr, true, nil
	}
	return waitErr, false, cause
}

// stopSignalled stops what is left of the group pgid, whose shell has
// exited, if a Signal asked the command to end: the shell obeyed, and what
// it started in the background must end too.
func (t *Transport) stopSignalled(e *execution, pgid int) {
	if e.stopRequested.Load() && groupAlive(pgid) {
		t.logger.Debug("stopping what the signalled command left running", "pgid", pgid)
		terminate(pgid, nil)
	}
}

// stopCause waits for done and returns nil, unless first timeout fires
// (errTimedOut), ctx ends, Close is called or a write of the command's
// output fails: it then returns why the command must stop.
func (t *Transport) stopCause(ctx context.Context, timeout <-chan time.Time, failed *writeFailure, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-timeout:
		return errTimedOut
	case <-ctx.Done():
		return fmt.Errorf("command stopped: %w", context.Cause(ctx))
	case <-t.closing:
		return fmt.Errorf("command stopped: %w", errClosed)
	case <-failed.ch:
		// Nobody reads the output any more: the command must not go on
		// unwatched.
		return fmt.Errorf("command stopped: write output: %w", failed.err)
	}
}

// begin registers an Exec with the transport: it counts it for Close and
// reserves its ID for Signal. It returns the shell to run, and the signal
// sent to the Exec before it began, if any (early).
func (t *Transport) begin(id string) (e *execution, shell, early string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, "", "", errClosed
	}
	e = &execution{started: make(chan struct{})}
	if id != "" {
		if _, dup := t.running[id]; dup {
			return nil, "", "", fmt.Errorf("exec %s is already running", id)
		}
		t.running[id] = e
		early, _ = t.pending.Take(id)
	}
	t.execs.Add(1)
	return e, t.config.Shell, early, nil
}

// end undoes begin, once the command has been reaped.
func (t *Transport) end(id string) {
	t.mu.Lock()
	if id != "" {
		delete(t.running, id)
	}
	t.mu.Unlock()
	t.execs.Done()
}

// terminate stops the process group pgid, whose leader's exit closes
// exited (nil if the leader has exited already): SIGTERM, then SIGKILL once
// killGrace has passed and anything of the group is still alive. The leader
// may exit on SIGTERM while a child that ignores it lives on, so the group,
// not the leader, decides. It returns once the leader has exited and the
// group is gone or has been sent SIGKILL.
func terminate(pgid int, exited <-chan struct{}) {
	_ = signalGroup(pgid, syscall.SIGTERM)
	grace := time.NewTimer(killGrace)
	defer grace.Stop()
	poll := time.NewTicker(groupPoll)
	defer poll.Stop()

	for {
		if exited == nil && !groupAlive(pgid) {
			return
		}
		select {
		case <-exited: // never ready once nil
			exited = nil
		case <-poll.C:
		case <-grace.C:
			_ = signalGroup(pgid, syscall.SIGKILL)
			if exited != nil {
				<-exited
			}
			return
		}
	}
}

// environ is this process's environment plus extra, whose values win. The
// extra variables are added in name order so that the environment is the
// same from run to run.
func environ(extra map[string]string) []string {
	env := os.Environ()
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}

// writeFailure records the first failed write to a command's output.
type writeFailure struct {
	once sync.Once
	ch   chan struct{} // closed on the first failure
	err  error         // written before ch is closed
}

// failureWriter passes writes to w and reports its first error to f.
type failureWriter struct {
	w io.Writer
	f *writeFailure
}

func (fw *failureWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if err != nil {
		fw.f.once.Do(func() {
			fw.f.err = err
			close(fw.f.ch)
		})
	}
	return n, err
}

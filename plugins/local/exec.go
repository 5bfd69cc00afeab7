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
// this process's environment plus req.Env, stdin from /dev/null, and stdout
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
// On Linux, in a binary that calls SupervisorMain, the command runs under a
// supervisor process that kills its group if this process dies first.
func (t *Transport) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	e, shell, err := t.begin(req.ID)
	if err != nil {
		return nil, err
	}
	defer t.end(req.ID)

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
	p, err := startCommand(t.logger, shell, req.Command, environ(req.Env), stdin,
		&failureWriter{w: out.Stdout, f: failed}, &failureWriter{w: out.Stderr, f: failed})
	if err != nil {
		close(e.started)
		return nil, err
	}
	pgid := p.pgid
	e.pgid = pgid
	close(e.started)
	t.logger.Debug("exec started", "exec", req.ID, "host", req.Host, "pgid", pgid, "supervised", p.report != nil)

	// Buffered so that the goroutine can always deliver; every path below
	// receives from it, so it never outlives Exec.
	waitc := make(chan error, 1)
	go func() { waitc <- p.cmd.Wait() }()

	var timeout <-chan time.Time
	if req.Timeout > 0 {
		timer := time.NewTimer(req.Timeout)
		defer timer.Stop()
		timeout = timer.C
	}
	var (
		waitErr  error
		timedOut bool
		stopped  error // why the command was stopped, if not by its timeout
	)
	select {
	case waitErr = <-waitc:
		if e.stopRequested.Load() && groupAlive(pgid) {
			// Its shell obeyed a Signal asking it to end; what it started
			// in the background must end too.
			t.logger.Debug("stopping what the signalled command left running", "exec", req.ID, "pgid", pgid)
			_ = terminate(pgid, nil)
		}
	case <-timeout:
		timedOut = true
		waitErr = terminate(pgid, waitc)
	case <-ctx.Done():
		stopped = fmt.Errorf("command stopped: %w", context.Cause(ctx))
		waitErr = terminate(pgid, waitc)
	case <-t.closing:
		stopped = fmt.Errorf("command stopped: %w", errClosed)
		waitErr = terminate(pgid, waitc)
	case <-failed.ch:
		// Nobody reads the output any more: the command must not go on
		// unwatched.
		stopped = fmt.Errorf("command stopped: write output: %w", failed.err)
		waitErr = terminate(pgid, waitc)
	}
	code, sig, signaled := p.status()
	p.release()
	sigName := ""
	if signaled {
		sigName = signalName(sig)
	}
	t.logger.Debug("exec finished", "exec", req.ID, "pgid", pgid, "timed_out", timedOut, "exit_code", code, "signal", sigName)
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

// begin registers an Exec with the transport: it counts it for Close and
// reserves its ID for Signal. It returns the shell to run.
func (t *Transport) begin(id string) (*execution, string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, "", errClosed
	}
	e := &execution{started: make(chan struct{})}
	if id != "" {
		if _, dup := t.running[id]; dup {
			return nil, "", fmt.Errorf("exec %s is already running", id)
		}
		t.running[id] = e
	}
	t.execs.Add(1)
	return e, t.config.Shell, nil
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

// terminate stops the process group pgid, whose leader's Wait reports on
// waitc (nil if the leader has exited already): SIGTERM, then SIGKILL once
// killGrace has passed and anything of the group is still alive. The leader
// may exit on SIGTERM while a child that ignores it lives on, so the group,
// not the leader, decides. It returns the leader's Wait error.
func terminate(pgid int, waitc <-chan error) error {
	_ = signalGroup(pgid, syscall.SIGTERM)
	grace := time.NewTimer(killGrace)
	defer grace.Stop()
	poll := time.NewTicker(groupPoll)
	defer poll.Stop()

	var waitErr error
	exited := waitc == nil
	for {
		if exited && !groupAlive(pgid) {
			return waitErr
		}
		select {
		case waitErr = <-waitc: // never ready once nil
			exited, waitc = true, nil
		case <-poll.C:
		case <-grace.C:
			_ = signalGroup(pgid, syscall.SIGKILL)
			if !exited {
				waitErr = <-waitc
			}
			return waitErr
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

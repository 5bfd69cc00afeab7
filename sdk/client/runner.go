package client

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
)

// pipeDrain is how long a plugin's stdout and stderr are still read once
// its process has exited: what it wrote before exiting is in the pipes
// already and comes at once; only a child it left holding them (a shell
// script's `sleep &`) would write more.
const pipeDrain = 500 * time.Millisecond

// processRunner runs a plugin process for go-plugin (ClientConfig's
// RunnerFunc) as go-plugin's own runner does, with one difference: the
// process's exit ends the reading of its stdout and stderr, after
// pipeDrain, even while a child it started holds them open. go-plugin
// notices that a plugin exited only once both pipes are closed, so a
// plugin that died before its handshake, leaving such a child, cost the
// whole start timeout (a minute) and was reported as one that never
// answered; and a crashed plugin's Kill waited for the child too.
type processRunner struct {
	logger         hclog.Logger
	cmd            *exec.Cmd
	stdout, stderr *os.File // the read ends

	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // cmd.Wait's, set before exited is closed
	pid     int
	closed  sync.Once
}

var _ runner.Runner = (*processRunner)(nil)

// newProcessRunner returns the runner for cmd, not yet started: its
// environment gets, after its own, that of pcmd, the command go-plugin
// prepared, whose handshake variables win over what cmd inherited, then
// socketDir as the plugin's socket directory when it is set (go-plugin's
// own choice, a directory inside it, would make the socket's path longer
// than the 108 bytes a unix socket's may have under a long TMPDIR); its
// stdin is pcmd's.
func newProcessRunner(logger hclog.Logger, cmd, pcmd *exec.Cmd, socketDir string) *processRunner {
	cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], pcmd.Env...)
	if socketDir != "" {
		cmd.Env = append(cmd.Env, plugin.EnvUnixSocketDir+"="+socketDir)
	}
	cmd.Stdin = pcmd.Stdin
	return &processRunner{logger: logger, cmd: cmd, exited: make(chan struct{})}
}

// Start starts the process with pipes of its own as stdout and stderr, and
// a goroutine that waits for it (Wait reports what it saw).
func (r *processRunner) Start(context.Context) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_ = outR.Close()
		_ = outW.Close()
		return err
	}
	r.cmd.Stdout, r.cmd.Stderr = outW, errW
	r.logger.Debug("starting plugin", "path", r.cmd.Path, "args", r.cmd.Args)
	err = r.cmd.Start()
	// The child has its copies; these would keep the pipes open.
	_ = outW.Close()
	_ = errW.Close()
	if err != nil {
		_ = outR.Close()
		_ = errR.Close()
		return err
	}
	r.stdout, r.stderr, r.pid = outR, errR, r.cmd.Process.Pid
	r.logger.Debug("plugin started", "path", r.cmd.Path, "pid", r.pid)
	go func() {
		// Stdout and Stderr are files: Wait returns when the process
		// exits, not when the pipes close.
		r.waitErr = r.cmd.Wait()
		close(r.exited)
		deadline := time.Now().Add(pipeDrain)
		_ = r.stdout.SetReadDeadline(deadline)
		_ = r.stderr.SetReadDeadline(deadline)
	}()
	return nil
}

// Wait waits for the process to exit and returns how it did, as
// exec.Cmd.Wait does.
// go-plugin calls it once it has read both pipes to their end, so it
// closes them.
func (r *processRunner) Wait(ctx context.Context) error {
	select {
	case <-r.exited:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.closed.Do(func() {
		_ = r.stdout.Close()
		_ = r.stderr.Close()
	})
	return r.waitErr
}

// Kill kills the process; killing it again, or once it has exited, is not
// an error.
func (r *processRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// Stdout is the process's standard output, where the handshake comes.
func (r *processRunner) Stdout() io.ReadCloser { return drained{r.stdout} }

// Stderr is the process's standard error, its logs.
func (r *processRunner) Stderr() io.ReadCloser { return drained{r.stderr} }

// Name is the plugin's path.
func (r *processRunner) Name() string { return r.cmd.Path }

// ID is the process's pid.
func (r *processRunner) ID() string { return strconv.Itoa(r.pid) }

// Diagnose adds nothing to go-plugin's errors: startError rewrites them.
func (r *processRunner) Diagnose(context.Context) string { return "" }

// PluginToHost returns the plugin's address as it is: the process runs on
// this machine.
func (r *processRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

// HostToPlugin returns the address as it is, as PluginToHost does.
func (r *processRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// drained is a pipe from the plugin whose end, once the process has
// exited and pipeDrain passed, reads as the end of file, not as the
// deadline's error, which go-plugin would log as a failure.
type drained struct{ f *os.File }

func (d drained) Read(p []byte) (int, error) {
	n, err := d.f.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = io.EOF
	}
	return n, err
}

func (d drained) Close() error { return d.f.Close() }

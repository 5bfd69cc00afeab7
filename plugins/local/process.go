package local

import (
	"fmt"
	"io"
	"os/exec"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// process is a started command: its shell, which leads the command's
// process group.
type process struct {
	cmd *exec.Cmd
	// pgid is the command's process group, which is its shell's pid.
	pgid int
	// sup is the supervisor the group is registered with; nil when the
	// command runs unsupervised.
	sup *supervisor

	// reaped is set by awaitExit when it has reaped the shell already,
	// with waitErr as cmd.Wait's error.
	reaped  bool
	waitErr error
}

// startCommand starts `shell -c command` with env, stdin from stdin (nil:
// /dev/null) and stdout and stderr to the given writers, in a new process group, which
// it registers with sup (nil for none). The caller calls awaitExit, then
// wait.
func startCommand(logger hclog.Logger, sup *supervisor, shell, command string, env []string, stdin io.Reader, stdout, stderr io.Writer) (*process, error) {
	cmd := exec.Command(shell, "-c", command)
	if cmd.Err != nil && shell == defaultShell {
		// No PATH to find sh by (env -i, a bare cron or systemd unit):
		// POSIX's own, still called sh.
		cmd = exec.Command("/bin/sh", "-c", command)
		cmd.Args[0] = defaultShell
	}
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, stdin, stdout, stderr
	// A group of its own: signals reach what the command starts, and the
	// terminal's Ctrl-C reaches fanout alone, which decides what to stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = outputGrace
	if sup == nil {
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", shell, err)
		}
		return &process{cmd: cmd, pgid: cmd.Process.Pid}, nil
	}
	supervised, err := sup.start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", shell, err)
	}
	p := &process{cmd: cmd, pgid: cmd.Process.Pid, sup: sup}
	if !supervised {
		// Better a command run as before than none at all; but it would
		// outlive a crash of this plugin, so say so.
		logger.Warn("running the command without a supervisor: it would outlive a crash of this plugin", "pgid", p.pgid)
		p.sup = nil
	}
	return p, nil
}

// awaitExit blocks until the shell has exited. A supervised shell is left
// unreaped, so that its pid keeps naming the command's group until wait
// has unregistered it.
func (p *process) awaitExit() {
	if p.sup != nil && waitExited(p.pgid) == nil {
		return
	}
	// Unsupervised, or waitid refused, which it should not: reap it now.
	// The group stays registered until wait, a risk only if the pid is
	// reused before then.
	p.waitErr, p.reaped = p.cmd.Wait(), true
}

// wait unregisters the command's group, once awaitExit has returned, then
// reaps the shell and waits for its output as cmd.Wait does, and returns
// cmd.Wait's error.
func (p *process) wait() error {
	if p.sup != nil {
		p.sup.unregister(p.pgid)
	}
	if p.reaped {
		return p.waitErr
	}
	return p.cmd.Wait()
}

// status returns how the command ended, once wait has returned: its exit
// code, or the signal that killed its shell.
func (p *process) status() (code int, sig syscall.Signal, signaled bool) {
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal(), true
	}
	return p.cmd.ProcessState.ExitCode(), 0, false
}

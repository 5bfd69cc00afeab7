package local

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// process is a started command: the process Exec waits for (the shell, or
// its supervisor) and the command's process group.
type process struct {
	cmd *exec.Cmd
	// pgid is the command's process group, which is its shell's pid.
	pgid int
	// report reads the supervisor's report pipe; nil when unsupervised.
	report *bufio.Reader
	// closers are the plugin's ends of the supervisor's pipes, closed by
	// release once the supervisor has exited.
	closers []io.Closer
}

// startCommand starts `shell -c command` with env, stdin from stdin (nil:
// /dev/null) and stdout and stderr to the given writers, in a new process group; under a
// supervisor when this binary can run one (see SupervisorMain). The
// caller waits for p.cmd and then calls p.release.
func startCommand(logger hclog.Logger, shell, command string, env []string, stdin io.Reader, stdout, stderr io.Writer) (*process, error) {
	if self, ok := supervisorPath(); ok {
		p, err := startSupervised(self, shell, command, env, stdin, stdout, stderr)
		if !errors.Is(err, errNoSupervisor) {
			return p, err
		}
		// Better a command run as before than none at all; but it would
		// outlive a crash of this plugin, so say so.
		logger.Warn("running the command without a supervisor: it would outlive a crash of this plugin", "error", err)
	}
	cmd := exec.Command(shell, "-c", command)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, stdin, stdout, stderr
	// A group of its own: signals reach what the command starts, and the
	// terminal's Ctrl-C reaches fanout alone, which decides what to stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = outputGrace
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", shell, err)
	}
	return &process{cmd: cmd, pgid: cmd.Process.Pid}, nil
}

// errNoSupervisor is wrapped by startSupervised's errors when the
// supervisor itself could not be started: the command can still run
// without one.
var errNoSupervisor = errors.New("cannot start the command's supervisor")

// startSupervised starts `shell -c command` under a supervisor, the binary
// self re-executed; see supervisorArg0.
func startSupervised(self, shell, command string, env []string, stdin io.Reader, stdout, stderr io.Writer) (*process, error) {
	// Looked up here, in the plugin's PATH, as exec.Command would for an
	// unsupervised command, with the same error.
	path, err := exec.LookPath(shell)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", shell, err)
	}
	// os.Pipe sets close-on-exec, so that no other child of the plugin
	// holds the lifeline's write end: only the plugin's death closes it.
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: lifeline pipe: %w", errNoSupervisor, err)
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		return nil, fmt.Errorf("%w: report pipe: %w", errNoSupervisor, err)
	}
	cmd := &exec.Cmd{
		Path: self,
		Args: []string{supervisorArg0, path, shell, "-c", command},
		Env:  env,
		// The supervisor hands its stdin to the shell.
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		// Its index plus 3 is the descriptor the supervisor reads.
		ExtraFiles: []*os.File{lifelineFD - 3: lifeR, reportFD - 3: reportW},
		// Its own group, apart from the command's and the plugin's: a
		// signal for either does not reach the supervisor.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
		WaitDelay:   outputGrace,
	}
	err = cmd.Start()
	// The supervisor has its copies; the plugin keeps only its own ends.
	lifeR.Close()
	reportW.Close()
	p := &process{cmd: cmd, report: bufio.NewReader(reportR), closers: []io.Closer{lifeW, reportR}}
	if err != nil {
		p.release()
		return nil, fmt.Errorf("%w: %w", errNoSupervisor, err)
	}
	kind, arg := p.readReport()
	if kind == "pid" {
		if p.pgid, err = strconv.Atoi(arg); err == nil && p.pgid > 0 {
			return p, nil
		}
	}
	// Released first: a supervisor that did start a shell kills it when
	// its lifeline closes, and so ends.
	p.release()
	waitErr := cmd.Wait()
	switch kind {
	case "pid":
		return nil, fmt.Errorf("start %s: supervisor reported pid %q", shell, arg)
	case "error":
		return nil, fmt.Errorf("start %s: %s", shell, arg)
	}
	// It ended before it could start the shell: nothing ran.
	return nil, fmt.Errorf("%w: it exited before starting the command: %v", errNoSupervisor, waitErr)
}

// readReport reads the supervisor's next report line as its kind and
// argument; kind is empty when the supervisor ended without one.
func (p *process) readReport() (kind, arg string) {
	line, err := p.report.ReadString('\n')
	if err != nil {
		return "", ""
	}
	kind, arg, _ = strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	return kind, arg
}

// status returns how the command ended, once p.cmd has been waited for:
// its exit code, or the signal that killed its shell.
func (p *process) status() (code int, sig syscall.Signal, signaled bool) {
	if p.report != nil {
		kind, arg := p.readReport()
		n, err := strconv.Atoi(arg)
		switch {
		case err != nil:
		case kind == "exit":
			return n, 0, false
		case kind == "signal":
			return -1, syscall.Signal(n), true
		}
		// No report: the supervisor itself was killed, and the shell with
		// it or soon after; its own end is the best answer there is.
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal(), true
	}
	return p.cmd.ProcessState.ExitCode(), 0, false
}

// release closes the plugin's ends of the supervisor's pipes. Called only
// once the supervisor has exited: closing the lifeline of a running one
// would kill the command.
func (p *process) release() {
	for _, c := range p.closers {
		_ = c.Close()
	}
}

// oneLine makes s fit on one report line.
func oneLine(s string) string {
	return strings.ReplaceAll(s, "\n", " ")
}

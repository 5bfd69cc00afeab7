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

// startCommand starts `shell -c command` with env, stdin from /dev/null and
// stdout and stderr to the given writers, in a new process group; under a
// supervisor when this binary can run one (see SupervisorMain). The
// caller waits for p.cmd and then calls p.release.
func startCommand(shell, command string, env []string, stdout, stderr io.Writer) (*process, error) {
	self, supervised := supervisorPath()
	if !supervised {
		cmd := exec.Command(shell, "-c", command)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, stdout, stderr
		// A group of its own: signals reach what the command starts, and
		// the terminal's Ctrl-C reaches fanout alone, which decides what
		// to stop.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = outputGrace
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", shell, err)
		}
		return &process{cmd: cmd, pgid: cmd.Process.Pid}, nil
	}

	// os.Pipe sets close-on-exec, so that no other child of the plugin
	// holds the lifeline's write end: only the plugin's death closes it.
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: lifeline pipe: %w", shell, err)
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		return nil, fmt.Errorf("start %s: report pipe: %w", shell, err)
	}
	cmd := &exec.Cmd{
		Path:   self,
		Args:   []string{supervisorArg0, shell, "-c", command},
		Env:    env,
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
		return nil, fmt.Errorf("start supervisor of %s: %w", shell, err)
	}
	kind, arg := p.readReport()
	switch kind {
	case "pid":
		if p.pgid, err = strconv.Atoi(arg); err == nil && p.pgid > 0 {
			return p, nil
		}
		err = fmt.Errorf("supervisor reported pid %q", arg)
	case "error":
		err = errors.New(arg)
	default:
		// It died before it could start the shell.
		err = errors.New("supervisor exited before starting the command")
	}
	_ = cmd.Wait()
	p.release()
	return nil, fmt.Errorf("start %s: %w", shell, err)
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

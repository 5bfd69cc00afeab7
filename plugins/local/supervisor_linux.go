package local

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// superviseCommands is true where the supervisor is known to work: it needs
// waitid and /proc/self/exe.
const superviseCommands = true

// supervise is the supervisor's main. args are the shell's path, then its
// argument list (the shell as the configuration names it, "-c", the
// command). It runs the shell in a new process group and returns the
// supervisor's exit code; the command's own status goes to the report
// pipe, never into that code, so that the plugin can tell the two apart.
func supervise(args []string) int {
	if len(args) < 2 || !isPipe(lifelineFD) || !isPipe(reportFD) {
		fmt.Fprintln(os.Stderr, "fanout: this is the local transport's command supervisor, which fanout runs itself")
		return 2
	}
	life := os.NewFile(lifelineFD, "lifeline")
	report := os.NewFile(reportFD, "report")
	// The command must not inherit either pipe: a child holding the report
	// open would hold the plugin's read of it, and one holding the
	// lifeline would outlive the plugin unnoticed.
	syscall.CloseOnExec(lifelineFD)
	syscall.CloseOnExec(reportFD)

	// The plugin looked the shell up in its own PATH, as it does when it
	// runs the shell itself; Args[0] stays as configured, for $0.
	cmd := &exec.Cmd{Path: args[0], Args: args[1:]}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(report, "error %s\n", oneLine(err.Error()))
		return exitNow(1)
	}
	pgid := cmd.Process.Pid
	fmt.Fprintf(report, "pid %d\n", pgid)

	var (
		mu     sync.Mutex
		exited bool // guarded by mu: the shell has exited, its group may be reused
	)
	// The watcher ends with the process: it is blocked on a read that only
	// the plugin's death completes.
	go func() {
		_, _ = io.Copy(io.Discard, life)
		mu.Lock()
		defer mu.Unlock()
		if !exited {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}()

	// The shell is waited for in two steps: first without reaping it, so
	// that its pid, which names the group the watcher may kill, cannot be
	// reused until exited is set.
	for {
		err := unix.Waitid(unix.P_PID, pgid, new(unix.Siginfo), unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	mu.Lock()
	exited = true
	mu.Unlock()
	_ = cmd.Wait()

	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		fmt.Fprintf(report, "signal %d\n", int(ws.Signal()))
	} else {
		fmt.Fprintf(report, "exit %d\n", ws.ExitStatus())
	}
	return exitNow(0)
}

// isPipe reports whether the file descriptor fd is an open pipe, as the
// plugin passes them.
func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// exitNow exits the supervisor at once with code, and returns code for the
// caller's sake when the exit is somehow refused. The supervisor has
// nothing to flush, and os.Exit would run the race detector's exit hook,
// which in a -race test binary sleeps a second per command.
func exitNow(code int) int {
	syscall.Exit(code)
	return code
}

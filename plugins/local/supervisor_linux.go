package local

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// superviseCommands is true where the supervisor is known to work: it needs
// waitid and /proc/self/exe.
const superviseCommands = true

// supervise is the supervisor's main; see supervisorArg0 for what it reads
// on controlFD. It returns once the plugin is gone and every group still
// registered has been sent SIGKILL.
func supervise() int {
	if !isPipe(controlFD) {
		fmt.Fprintln(os.Stderr, "fanout: this is the local transport's command supervisor, which fanout runs itself")
		return 2
	}
	// It sits in a process group of its own, but a terminal's hangup or a
	// stray interrupt must not end the one process that outlives the
	// plugin on purpose.
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT)
	control := os.NewFile(controlFD, "control")
	syscall.CloseOnExec(controlFD)

	groups := map[int]bool{}
	lines := bufio.NewScanner(control)
	for lines.Scan() {
		line := lines.Text()
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			// Never a group it cannot mean: kill(-1) would reach every
			// process of the user.
			continue
		}
		switch line[0] {
		case '+':
			groups[pgid] = true
		case '-':
			delete(groups, pgid)
		}
	}
	// End of file, or an error reading, which can only mean the same: the
	// plugin has no further say.
	for pgid := range groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return exitNow(0)
}

// killOnParentDeath asks the system to send the command SIGKILL if the
// thread that starts it dies: the supervisor learns of a command only once
// its shell has started, and this covers the shell until then. The caller
// starts the command from a thread that lives as long as the plugin.
func killOnParentDeath(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}

// waitExited blocks until the process pid has exited, without reaping it:
// until it is reaped, its pid, which is also its process group's id,
// cannot name another process.
func waitExited(pid int) error {
	for {
		err := unix.Waitid(unix.P_PID, pid, new(unix.Siginfo), unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// isPipe reports whether the file descriptor fd is an open pipe, as the
// plugin passes it.
func isPipe(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// exitNow exits the supervisor at once with code, and returns code for the
// caller's sake when the exit is somehow refused. The supervisor has
// nothing to flush, and os.Exit would run the race detector's exit hook,
// which in a -race test binary sleeps a second.
func exitNow(code int) int {
	syscall.Exit(code)
	return code
}

package sdktest

import (
	"syscall"

	"github.com/fanout/fanout/sdk/procstat"
)

func procReadable() bool { return true }

// processRuns reports whether pid exists and is not a zombie: a zombie
// has ended, whether or not its parent has reaped it yet.
func processRuns(pid int) bool {
	st, err := procstat.Read(pid)
	return err == nil && !st.Ended()
}

func killProcess(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

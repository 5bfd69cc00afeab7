package sdktest

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
)

func procReadable() bool { return true }

// processRuns reports whether pid exists and is not a zombie: a zombie
// has ended, whether or not its parent has reaped it yet.
func processRuns(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || len(b) < i+3 {
		return false
	}
	state := b[i+2]
	return state != 'Z' && state != 'X'
}

func killProcess(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

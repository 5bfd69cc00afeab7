package sshtest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/fanout/fanout/sdk/procstat"
)

type process struct {
	pid     int
	cmdline string
}

// findProcesses lists the processes whose environment holds an entry that
// starts with token ("NAME=value"). Processes that end while being read are
// skipped.
func findProcesses(token string) []process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var ps []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		found := false
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, []byte(token)) {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		ps = append(ps, process{pid: pid, cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))})
	}
	return ps
}

// killTokenProcesses SIGKILLs the processes carrying token until none is
// left. They are not our children (sshd forked them), so they cannot be
// waited for; a process is gone when /proc no longer shows its environment
// (zombies show an empty one). Bounded: 10 s.
func killTokenProcesses(token string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps := findProcesses(token)
		if len(ps) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes survive SIGKILL: %v", len(ps), ps)
		}
		for _, p := range ps {
			_ = syscall.Kill(p.pid, syscall.SIGKILL) // the next round sees what survives
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// descendants lists the processes below pid, children before their own
// children.
func descendants(pid int) []int {
	all, err := procstat.All()
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, p := range all {
		children[p.PPID] = append(children[p.PPID], p.PID)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk/sdktest"
)

// Fault injection against real sshd processes, through the real binary:
// each test breaks something in the middle of a run and asserts what
// fanout did, and that it did it in bounded time.

// sshCmd is fanoutSSH's command, for tests that run fanout in the
// background: its own process group, HOME in dir, the fleet's agent.
func sshCmd(dir, agent string, args ...string) *exec.Cmd {
	cmd := exec.Command(fanoutBin, args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSH_AUTH_SOCK=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "NO_COLOR=1", "HOME="+dir, "SSH_AUTH_SOCK="+agent)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// startedOn is a startBackground condition: task's run has started on
// each of hosts.
func startedOn(t *testing.T, rec *recording, task string, hosts ...string) func() bool {
	return func() bool {
		left := map[string]bool{}
		for _, h := range hosts {
			left[h] = true
		}
		for _, r := range rec.read(t) {
			if r.kind == "start" && r.phase == "run" && r.task == task {
				delete(left, r.host)
			}
		}
		return len(left) == 0
	}
}

// rolledBackOn lists "task/host" of the rollbacks the recorder saw.
func rolledBackOn(t *testing.T, rec *recording) []string {
	var out []string
	for _, r := range rec.read(t) {
		if r.kind == "start" && r.phase == "rollback" {
			out = append(out, r.task+"/"+r.host)
		}
	}
	return out
}

func TestFaultSSHDKilledMidTask(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	body := `
task "first" {
  on       = ["web"]
  run      = "REC start"
  rollback = "REC start"
}
task "slow" {
  on       = ["web"]
  run      = "REC start; if [ $FANOUT_HOST = host1 ]; then sleep 60; else sleep 1; fi; REC end"
  rollback = "REC start"
}`
	dir, rec := workdir(t, sshConfig(f, f.Hosts, `connect_timeout = "3s"`, body))
	b := startBG(t, sshCmd(dir, f.AgentSocket, "apply", "main.hcl"))
	sdktest.Eventually(t, e2eWait, "slow on host1", startedOn(t, rec, "slow", "host1"))
	f.Hosts[0].Stop(t)
	// host1's rollbacks fail (below): the undo is incomplete, exit 4.
	if code := b.wait(t, 60*time.Second); code != exitNotRolledBack {
		t.Fatalf("exit %d, want %d\n%s", code, exitNotRolledBack, b.out)
	}
	out := b.out.String()
	if !strings.Contains(out, `task "slow" failed on host "host1": unreachable`) {
		t.Errorf("the cause is not host1's lost connection:\n%s", out)
	}
	got := strings.Join(rolledBackOn(t, rec), " ")
	for _, want := range []string{"slow/host2", "slow/host3", "first/host2", "first/host3"} {
		if !strings.Contains(got, want) {
			t.Errorf("no rollback of %s (rolled back: %s)\n%s", want, got, out)
		}
	}
	// host1 is gone: its rollbacks fail and are reported, the others ran.
	if !strings.Contains(out, "slow on host1") {
		t.Errorf("the failed rollback on host1 is not reported:\n%s", out)
	}
}

// muteListener listens on 127.0.0.253 and accepts connections it never
// writes to: no SSH banner ever comes. It returns its port.
func muteListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.253:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	// The test is over: nothing is read or written on these any more.
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestRollbackSkipsHostFanoutDiedConnecting: fanout killed while one host
// still connects (no preflight) and another runs its task: `fanout
// rollback` undoes the task where it ran and leaves alone the host that
// never got a command, as the run itself would have.
func TestRollbackSkipsHostFanoutDiedConnecting(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 1})
	body := fmt.Sprintf(`
fanout {
  preflight = false
}
host "mute" {
  address = "127.0.0.253"
  port    = %s
  roles   = ["web"]
}
task "t" {
  on       = ["web"]
  run      = "REC start; sleep 30"
  rollback = "REC start"
}`, muteListener(t))
	dir, rec := workdir(t, sshConfig(f, f.Hosts, `connect_timeout = "60s"`, body))
	cmd := sshCmd(dir, f.AgentSocket, "apply", "main.hcl")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	b := startBG(t, cmd)
	sdktest.Eventually(t, e2eWait, "t on host1", startedOn(t, rec, "t", "host1"))
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.wait(t, 30*time.Second)
	id := runID(t, b.out.String())
	r := fanoutSSH(t, dir, f.AgentSocket, "rollback", "-dry-run", id)
	plan := lineWith(r.stdout, "task t on")
	if !strings.Contains(plan, "host1") || strings.Contains(plan, "mute") {
		t.Errorf("rollback plan %q: want host1 alone, not the host fanout died connecting to\n%s\n%s", plan, r.stdout, r.stderr)
	}
}

func TestFaultHostAcceptsButNeverAnswers(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 1})
	port := muteListener(t)
	body := fmt.Sprintf(`
host "mute" {
  address = "127.0.0.253"
  port    = %s
  roles   = ["web"]
}
task "t" {
  on  = ["web"]
  run = "REC start"
}`, port)
	dir, rec := workdir(t, sshConfig(f, f.Hosts, `connect_timeout = "2s"`, body))
	start := time.Now()
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	took := time.Since(start)
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if len(rec.read(t)) != 0 {
		t.Error("commands ran although preflight failed")
	}
	if !strings.Contains(r.stdout, "Preflight failed on 1 host") || !strings.Contains(r.stdout, " mute: ") {
		t.Errorf("preflight does not name the mute host:\n%s", r.stdout)
	}
	if took > 30*time.Second {
		t.Errorf("took %s for a 2s connect timeout", took)
	}
	t.Logf("mute host: %s", lineWith(r.stdout, " mute: "))
}

func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func TestFaultHostGoneAfterPreflight(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	body := `
task "first" {
  on       = ["host1"]
  run      = "REC start; sleep 2; REC end"
  rollback = "REC start"
}
task "second" {
  on       = ["host2"]
  run      = "REC start"
  rollback = "REC start"
}`
	dir, rec := workdir(t, sshConfig(f, f.Hosts, `connect_timeout = "2s"`, body))
	b := startBG(t, sshCmd(dir, f.AgentSocket, "apply", "main.hcl"))
	// Preflight connected both hosts before first started.
	sdktest.Eventually(t, e2eWait, "first on host1", startedOn(t, rec, "first", "host1"))
	f.Hosts[1].Stop(t)
	// second's rollback on the gone host fails: exit 4.
	if code := b.wait(t, 60*time.Second); code != exitNotRolledBack {
		t.Fatalf("exit %d, want %d\n%s", code, exitNotRolledBack, b.out)
	}
	out := b.out.String()
	if !strings.Contains(out, `task "second" failed on host "host2": unreachable`) {
		t.Errorf("cause is not host2 gone:\n%s", out)
	}
	if got := rolledBackOn(t, rec); len(got) != 1 || got[0] != "first/host1" {
		t.Errorf("rolled back %v, want [first/host1]\n%s", got, out)
	}
}

// pluginPIDs returns the pids of the ssh plugin processes whose parent is
// ppid, found through /proc by their command line.
func pluginPIDs(ppid int) []int {
	return childrenWith(ppid, "internal-plugin\x00ssh")
}

func TestFaultPluginKilled(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	body := `
task "first" {
  on       = ["web"]
  run      = "REC start"
  rollback = "REC start"
}
task "slow" {
  on       = ["web"]
  run      = "REC start; sleep 60"
  rollback = "REC start"
}`
	dir, rec := workdir(t, sshConfig(f, f.Hosts, "", body))
	b := startBG(t, sshCmd(dir, f.AgentSocket, "apply", "main.hcl"))
	sdktest.Eventually(t, e2eWait, "slow on both hosts", startedOn(t, rec, "slow", "host1", "host2"))
	pids := pluginPIDs(b.cmd.Process.Pid)
	if len(pids) != 1 {
		t.Fatalf("ssh plugin processes of fanout: %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t, 60*time.Second); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, b.out)
	}
	out := b.out.String()
	// The crash is the cause, with both pairs it interrupted.
	cause := lineWith(out, `plugin "ssh" crashed while`)
	for _, want := range []string{`task "slow" ran on host "host1"`, `task "slow" ran on host "host2"`, "transport plugin exited unexpectedly (signal: killed)"} {
		if !strings.Contains(cause, want) {
			t.Errorf("the crash's cause lacks %s:\n%s", want, out)
		}
	}
	// The dead plugin cannot reach the hosts; a new one can, and runs
	// every rollback.
	if strings.Contains(out, "Rollback FAILED") || strings.Contains(out, "unreachable") {
		t.Errorf("a rollback failed, or a host is called unreachable:\n%s", out)
	}
	if got := rolledBackOn(t, rec); len(got) != 4 {
		t.Errorf("the run rolled back %v, want slow and first on both hosts\n%s", got, out)
	}
	// Nothing is left for `fanout rollback`, which rolls nothing back twice.
	r := fanoutSSH(t, dir, f.AgentSocket, "rollback", "-auto-approve", runID(t, out))
	if got := rolledBackOn(t, rec); len(got) != 4 {
		t.Errorf("after fanout rollback (exit %d), rollbacks ran %v, want the 4 of the run\n%s\n%s", r.code, got, r.stdout, r.stderr)
	}
}

func TestFaultFanoutKilledThenRollback(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	body := `
task "first" {
  on       = ["web"]
  run      = "REC start"
  rollback = "REC start"
}
task "slow" {
  on       = ["web"]
  run      = "REC start; sleep 60"
  rollback = "REC start"
}`
	dir, rec := workdir(t, sshConfig(f, f.Hosts, "", body))
	b := startBG(t, sshCmd(dir, f.AgentSocket, "apply", "main.hcl"))
	sdktest.Eventually(t, e2eWait, "slow on both hosts", startedOn(t, rec, "slow", "host1", "host2"))
	// fanout alone: its plugin learns of it from the kernel.
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	b.wait(t, 20*time.Second)
	id := runID(t, b.out.String())
	r := fanoutSSH(t, dir, f.AgentSocket, "rollback", "-auto-approve", id)
	if r.code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := strings.Join(rolledBackOn(t, rec), " ")
	want := "slow/host"
	if !strings.HasPrefix(got, want) || !strings.Contains(got, "slow/host1") || !strings.Contains(got, "slow/host2") ||
		!strings.Contains(got, "first/host1") || !strings.Contains(got, "first/host2") || strings.Index(got, "first/") < strings.LastIndex(got, "slow/") {
		t.Errorf("rolled back %q, want slow on both hosts, then first on both", got)
	}
	again := fanoutSSH(t, dir, f.AgentSocket, "rollback", "-auto-approve", id)
	if again.code != 0 || len(rolledBackOn(t, rec)) != 4 {
		t.Errorf("second rollback: exit %d, %d rollbacks in all, want 4\n%s", again.code, len(rolledBackOn(t, rec)), again.stdout)
	}
}

// vmHWM reads a process's peak resident set size in bytes; 0 when gone.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func TestFaultHugeOutputMemoryBounded(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 1})
	// 100 MB of 100-byte lines.
	body := `
task "flood" {
  run = "head -c 99000000 /dev/zero | tr '\\0' x | fold -w 99"
}`
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", body))
	cmd := sshCmd(dir, f.AgentSocket, "apply", "main.hcl")
	counter := &lineCounter{substrs: []string{"│ xxxxxxxxxx"}}
	cmd.Stdout = counter
	b := startBG(t, cmd)
	var fanoutPeak, pluginPeak int64
	plugin := 0
	for done := false; !done; {
		select {
		case <-b.exited:
			done = true
		case <-time.After(50 * time.Millisecond):
		}
		fanoutPeak = max(fanoutPeak, vmHWM(b.cmd.Process.Pid))
		if plugin == 0 {
			if p := pluginPIDs(b.cmd.Process.Pid); len(p) == 1 {
				plugin = p[0]
			}
		}
		if plugin != 0 {
			pluginPeak = max(pluginPeak, vmHWM(plugin))
		}
	}
	if code := b.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit %d\n%s", code, b.out)
	}
	if n := counter.count("│ xxxxxxxxxx"); n != 1_000_000 {
		t.Errorf("%d lines of output, want 1000000", n)
	}
	t.Logf("peak RSS: fanout %d MiB, ssh plugin %d MiB", fanoutPeak>>20, pluginPeak>>20)
	const limit = 60 << 20
	if fanoutPeak == 0 || fanoutPeak > limit {
		t.Errorf("fanout's peak RSS is %d MiB, want under %d MiB", fanoutPeak>>20, limit>>20)
	}
	if plugin == 0 || pluginPeak > limit {
		t.Errorf("the ssh plugin's (pid %d) peak RSS is %d MiB, want under %d MiB", plugin, pluginPeak>>20, limit>>20)
	}
}

// lineCounter counts the lines written to it that contain each of
// substrs, keeping nothing else.
type lineCounter struct {
	substrs []string

	mu      sync.Mutex
	partial []byte
	n       map[string]int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		for _, s := range c.substrs {
			if bytes.Contains(c.partial[:i], []byte(s)) {
				c.n[s]++
			}
		}
		c.partial = c.partial[i+1:]
	}
	if len(c.partial) > 1<<20 {
		c.partial = nil
	}
	return len(p), nil
}

func (c *lineCounter) count(s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[s]
}

func TestFaultManyHostsManyLines(t *testing.T) {
	const hosts, lines = 10, 5000
	f := sshtest.Start(t, sshtest.Options{Hosts: hosts})
	const payload = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	body := fmt.Sprintf(`
task "chatty" {
  on  = ["web"]
  run = "seq 1 %d | sed \"s/.*/$FANOUT_HOST:&:%s/\""
}`, lines, payload)
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", body))
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lineRE := regexp.MustCompile(`^(host\d+)\s+│ chatty\s+│ (host\d+):(\d+):` + payload + `$`)
	seen := map[string]map[int]bool{}
	bad := 0
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		l := sc.Text()
		if !strings.Contains(l, ":"+payload[:8]) && !strings.Contains(l, payload[len(payload)-8:]) {
			continue
		}
		m := lineRE.FindStringSubmatch(l)
		if m == nil || m[1] != m[2] {
			if bad++; bad < 5 {
				t.Errorf("broken line %q", l)
			}
			continue
		}
		n, _ := strconv.Atoi(m[3])
		if seen[m[1]] == nil {
			seen[m[1]] = map[int]bool{}
		}
		if seen[m[1]][n] {
			t.Errorf("%s line %d twice", m[1], n)
		}
		seen[m[1]][n] = true
	}
	if len(seen) != hosts {
		t.Errorf("output from %d hosts, want %d", len(seen), hosts)
	}
	for h, ns := range seen {
		if len(ns) != lines {
			t.Errorf("%s: %d distinct lines, want %d", h, len(ns), lines)
		}
	}
	if bad > 0 {
		t.Errorf("%d broken or interleaved lines", bad)
	}
}

package local_test

// These tests run the local transport in a real plugin process, started
// through sdk/client as fanout starts it: the test binary re-executes
// itself with pluginEnv set, and TestMain serves the transport.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
	sdkclient "github.com/fanout/fanout/sdk/client"
	"github.com/fanout/fanout/sdk/procstat"
	"github.com/fanout/fanout/sdk/sdktest"
)

// plugin is a local transport plugin process started for one test.
type plugin struct {
	client *sdkclient.Client
	cmd    *exec.Cmd
	tr     sdk.Transport
	logs   *sdktest.Output
}

// startPlugin starts the plugin process; it is closed and killed when the
// test ends.
func startPlugin(t *testing.T) *plugin {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	// Under -race, a process sleeps a second at exit unless told not to.
	cmd.Env = append(os.Environ(), pluginEnv+"=1", "GORACE=atexit_sleep_ms=0")
	logs := &sdktest.Output{}
	client, err := sdkclient.New(sdkclient.Config{
		Cmd:    cmd,
		Logger: hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Debug, Output: logs}),
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	p := &plugin{client: client, cmd: cmd, tr: client.Transport(), logs: logs}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if !client.Exited() {
			if _, err := p.tr.Close(ctx, &sdk.CloseRequest{}); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		client.Kill()
	})
	return p
}

func TestPluginExec(t *testing.T) {
	p := startPlugin(t)
	ctx := context.Background()
	d, err := p.tr.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil || d.Name != "local" {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	if _, err := p.tr.Configure(ctx, &sdk.ConfigureRequest{RunID: "r1"}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if _, err := p.tr.Connect(ctx, &sdk.ConnectRequest{Host: sdk.Host{Name: "localhost"}}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	tests := []struct {
		name           string
		req            sdk.ExecRequest
		want           sdk.ExecResponse
		stdout, stderr string
	}{
		{name: "success", req: sdk.ExecRequest{Command: "true"}},
		{name: "exit code", req: sdk.ExecRequest{Command: "exit 42"}, want: sdk.ExecResponse{ExitCode: 42}},
		{
			name:   "stdout and stderr apart",
			req:    sdk.ExecRequest{Command: "echo out; echo err >&2; echo out2; echo err2 >&2"},
			stdout: "out\nout2\n", stderr: "err\nerr2\n",
		},
		{
			name:   "env",
			req:    sdk.ExecRequest{Command: `printf '%s' "$FANOUT_TASK:$FANOUT_PHASE"`, Env: map[string]string{"FANOUT_TASK": "deploy", "FANOUT_PHASE": "run"}},
			stdout: "deploy:run",
		},
		{name: "killed", req: sdk.ExecRequest{Command: "kill -TERM $$"}, want: sdk.ExecResponse{ExitCode: -1, Signal: "TERM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.ID, req.Host = tt.name, "localhost"
			var stdout, stderr sdktest.Output
			resp, err := p.tr.Exec(ctx, &req, sdk.ExecOutput{Stdout: &stdout, Stderr: &stderr})
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if *resp != tt.want {
				t.Errorf("response = %+v, want %+v", *resp, tt.want)
			}
			if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("stdout, stderr = %q, %q; want %q, %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
		})
	}
	// The plugin logs JSON to its stderr at the host's level; the client
	// re-emits it through the host's logger.
	sdktest.WaitSeen(t, p.logs, "exec started", 5*time.Second)
}

func TestPluginStreamsBeforeExit(t *testing.T) {
	p := startPlugin(t)
	// The command cannot exit before the test creates the file, and the
	// test creates it only once it has read the first line: output that
	// waited for the exit would deadlock here.
	gate := filepath.Join(t.TempDir(), "gate")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run := sdktest.StartExec(ctx, p.tr, &sdk.ExecRequest{
		ID:      "stream",
		Command: fmt.Sprintf("echo first; echo first-err >&2; while [ ! -e %s ]; do sleep 0.01; done; echo second", sq(gate)),
	})
	sdktest.WaitSeen(t, run.Stdout, "first\n", 10*time.Second)
	sdktest.WaitSeen(t, run.Stderr, "first-err\n", 10*time.Second)
	if r, ok := returned(t, run); ok {
		t.Fatalf("Exec returned before its gate opened: %+v, %v", r.Resp, r.Err)
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := run.Wait(t, 10*time.Second)
	if r.Err != nil || r.Resp.ExitCode != 0 {
		t.Fatalf("Exec = %+v, %v", r.Resp, r.Err)
	}
	if got := run.Stdout.String(); got != "first\nsecond\n" {
		t.Errorf("stdout = %q", got)
	}
}

func TestPluginTimeoutKillsGroup(t *testing.T) {
	p := startPlugin(t)
	// The shell's child sleeps in the background; the timeout must reach
	// it too, not only the shell.
	run := sdktest.StartExec(context.Background(), p.tr, &sdk.ExecRequest{
		ID: "timeout", Command: "sleep 30 & echo $!; echo $$; wait", Timeout: 300 * time.Millisecond,
	})
	r := run.Wait(t, 10*time.Second)
	if r.Err != nil {
		t.Fatalf("Exec: %v", r.Err)
	}
	if !r.Resp.TimedOut || r.Resp.ExitCode != -1 || r.Resp.Signal != "TERM" {
		t.Errorf("response = %+v, want timed out by TERM", *r.Resp)
	}
	out := strings.Fields(run.Stdout.String())
	if len(out) != 2 {
		t.Fatalf("stdout = %q, want two pids", run.Stdout.String())
	}
	child, pgid := firstInt(t, out[0]), firstInt(t, out[1])
	t.Cleanup(func() { killGroup(pgid) })
	waitGroupGone(t, pgid, 5*time.Second)
	// Signal 0 checks existence; the orphaned sleep may linger as a zombie
	// until pid 1 reaps it, which liveGroupMembers allows for.
	if err := syscall.Kill(child, 0); err == nil {
		for _, pid := range liveGroupMembers(t, pgid) {
			if pid == child {
				t.Errorf("background child %d survived the timeout", child)
			}
		}
	}
}

func TestPluginSignal(t *testing.T) {
	p := startPlugin(t)
	ctx := context.Background()
	run := sdktest.StartExec(ctx, p.tr, &sdk.ExecRequest{
		ID: "sig", Command: "trap 'echo got TERM; exit 9' TERM; echo ready; while :; do sleep 0.05; done",
	})
	sdktest.WaitSeen(t, run.Stdout, "ready\n", 10*time.Second)
	if _, err := p.tr.Signal(ctx, &sdk.SignalRequest{ExecID: "sig", Signal: "TERM"}); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	r := run.Wait(t, 10*time.Second)
	if r.Err != nil || r.Resp.ExitCode != 9 {
		t.Fatalf("Exec = %+v, %v; want exit 9", r.Resp, r.Err)
	}
	if got := run.Stdout.String(); got != "ready\ngot TERM\n" {
		t.Errorf("stdout = %q", got)
	}
	if _, err := p.tr.Signal(ctx, &sdk.SignalRequest{ExecID: "sig", Signal: "NOPE"}); err == nil || err.Error() != `unknown signal "NOPE"` {
		t.Errorf("Signal error = %v, want the plugin's message alone", err)
	}
}

// TestPluginSignalBeforeExec: a signal that reaches the plugin before the
// Exec it names (fanout interrupts a run while some of its Execs are on
// their way) keeps the command from starting: the Exec reports it ended by
// the signal. It was lost, and the command ran to its end.
func TestPluginSignalBeforeExec(t *testing.T) {
	p := startPlugin(t)
	ctx := context.Background()
	ran := filepath.Join(t.TempDir(), "ran")
	if _, err := p.tr.Signal(ctx, &sdk.SignalRequest{ExecID: "early", Signal: "INT"}); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	resp, err := p.tr.Exec(ctx, &sdk.ExecRequest{ID: "early", Command: "touch " + sq(ran)}, sdk.ExecOutput{})
	if err != nil || resp.Signal != "INT" {
		t.Fatalf("Exec = %+v, %v; want ended by INT", resp, err)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the command ran")
	}
	// The signal was the Exec's alone: the next one runs.
	if resp, err := p.tr.Exec(ctx, &sdk.ExecRequest{ID: "later", Command: "touch " + sq(ran)}, sdk.ExecOutput{}); err != nil || resp.ExitCode != 0 {
		t.Fatalf("the next Exec = %+v, %v", resp, err)
	}
	if _, err := os.Stat(ran); err != nil {
		t.Error("the next command did not run")
	}
}

func TestPluginConcurrentExecs(t *testing.T) {
	const n = 20
	p := startPlugin(t)
	// Each command records when it starts, then waits until all n have
	// started before it records its end: the Execs can only succeed if all
	// n run at once in the one plugin process.
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	runs := make([]*sdktest.Running, n)
	for i := range n {
		cmd := fmt.Sprintf(`date +%%s%%N; touch %s/%d; i=0
while [ "$(ls %s | wc -l)" -lt %d ]; do i=$((i+1)); [ $i -gt 1000 ] && exit 1; sleep 0.01; done
date +%%s%%N`, sq(dir), i, sq(dir), n)
		runs[i] = sdktest.StartExec(ctx, p.tr, &sdk.ExecRequest{ID: fmt.Sprint("c", i), Host: "localhost", Command: cmd})
	}
	results := make([]sdktest.Result, n)
	for i, run := range runs {
		results[i] = run.Wait(t, 30*time.Second)
	}
	var lastStart, firstEnd int64
	for i, r := range results {
		switch {
		case r.Err != nil:
			t.Fatalf("exec %d: %v", i, r.Err)
		case r.Resp.ExitCode != 0:
			t.Fatalf("exec %d: exit %d, stdout %q", i, r.Resp.ExitCode, r.Stdout.String())
		}
		var start, end int64
		if _, err := fmt.Sscan(r.Stdout.String(), &start, &end); err != nil {
			t.Fatalf("exec %d: stdout %q: %v", i, r.Stdout.String(), err)
		}
		lastStart = max(lastStart, start)
		if firstEnd == 0 || end < firstEnd {
			firstEnd = end
		}
	}
	// The commands' own clocks: every one started before any ended.
	if lastStart >= firstEnd {
		t.Errorf("execs did not overlap: last start %d ns, first end %d ns", lastStart, firstEnd)
	}
}

func TestPluginKilledMidExec(t *testing.T) {
	p := startPlugin(t)
	run := sdktest.StartExec(context.Background(), p.tr, &sdk.ExecRequest{ID: "doomed", Command: "echo $$; sleep 30 & sleep 30"})
	// The plugin dies without a chance to stop its command: the command's
	// supervisor must, and fast, since fanout starts the rollback next.
	pgid := startedGroup(t, run.Stdout)

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := run.Wait(t, 5*time.Second)
	if !errors.Is(r.Err, sdkclient.ErrPluginExited) {
		t.Errorf("Exec error = %v, want ErrPluginExited", r.Err)
	}
	if _, err := p.tr.Describe(context.Background(), &sdk.DescribeRequest{}); !errors.Is(err, sdkclient.ErrPluginExited) {
		t.Errorf("Describe after the crash: error = %v, want ErrPluginExited", err)
	}
	if !p.client.Exited() {
		t.Errorf("client does not report the exit")
	}
	p.client.Kill()
	p.client.Kill() // idempotent
	if runtime.GOOS == "linux" {
		waitGroupGone(t, pgid, 5*time.Second)
	}
}

func TestPluginCancel(t *testing.T) {
	p := startPlugin(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := sdktest.StartExec(ctx, p.tr, &sdk.ExecRequest{ID: "cancel", Command: "echo $$; sleep 30 & sleep 30"})
	pgid := startedGroup(t, run.Stdout)
	cancel()
	r := run.Wait(t, 2*time.Second)
	if !errors.Is(r.Err, context.Canceled) {
		t.Errorf("Exec error = %v, want context.Canceled", r.Err)
	}
	// The cancellation reached the plugin, which stopped the command.
	waitGroupGone(t, pgid, 5*time.Second)
}

func TestPluginClose(t *testing.T) {
	p := startPlugin(t)
	run := sdktest.StartExec(context.Background(), p.tr, &sdk.ExecRequest{ID: "long", Command: "echo $$; sleep 30"})
	pgid := startedGroup(t, run.Stdout)
	if _, err := p.tr.Close(context.Background(), &sdk.CloseRequest{}); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := run.Wait(t, 5*time.Second)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "local transport is closed") {
		t.Errorf("Exec running at Close = %+v, %v; want the closed error", r.Resp, r.Err)
	}
	waitGroupGone(t, pgid, 5*time.Second)
	p.client.Kill()
	if !p.client.Exited() {
		t.Errorf("plugin still running after Kill")
	}
	if _, err := p.tr.Describe(context.Background(), &sdk.DescribeRequest{}); !errors.Is(err, sdkclient.ErrPluginExited) {
		t.Errorf("Describe after Kill: error = %v, want ErrPluginExited", err)
	}
}

func TestConformance(t *testing.T) {
	t.Run("direct", func(t *testing.T) {
		sdktest.Conformance(t, local.New(nil), sdk.Host{Name: "localhost"})
	})
	t.Run("plugin process", func(t *testing.T) {
		p := startPlugin(t)
		sdktest.Conformance(t, p.tr, sdk.Host{Name: "localhost"})
	})
}

// supervisorsOf lists the children of ppid that run as the local
// transport's command supervisor.
func supervisorsOf(t *testing.T, ppid int) []int {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var sups []int
	for _, p := range cmdlines {
		b, err := os.ReadFile(p)
		if err != nil || !strings.HasPrefix(string(b), "fanout-local-supervisor\x00") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if parentOf(pid) == ppid {
			sups = append(sups, pid)
		}
	}
	return sups
}

// parentOf returns pid's parent, 0 if it has gone.
func parentOf(pid int) int {
	s, err := procstat.Read(pid)
	if err != nil {
		return 0
	}
	return s.PPID
}

func TestPluginOneSupervisor(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("commands are supervised on Linux only")
	}
	const n = 3
	p := startPlugin(t)
	plugin := p.cmd.Process.Pid
	runs := make([]*sdktest.Running, n)
	for i := range n {
		runs[i] = sdktest.StartExec(context.Background(), p.tr, &sdk.ExecRequest{
			ID: fmt.Sprint("c", i), Command: "echo $$; echo $PPID; sleep 30 & sleep 30",
		})
		stdout := runs[i].Stdout
		startedGroup(t, stdout)
		sdktest.Eventually(t, 10*time.Second, fmt.Sprintf("command %d's shell pid and parent pid on stdout", i), func() bool {
			return len(strings.Fields(stdout.String())) >= 2
		})
		// The shell runs right under the plugin: no process of its own
		// stands between them.
		if f := strings.Fields(stdout.String()); len(f) < 2 || firstInt(t, f[1]) != plugin {
			t.Errorf("command %d: stdout %q, want its shell's parent to be the plugin %d", i, stdout.String(), plugin)
		}
	}
	// n commands running, one supervisor for them all.
	if sups := supervisorsOf(t, plugin); len(sups) != 1 {
		t.Errorf("the plugin runs %d supervisors %v for %d commands, want 1", len(sups), sups, n)
	}

	// A normal end leaves nothing behind: Close stops the commands and
	// ends the supervisor before it returns.
	if _, err := p.tr.Close(context.Background(), &sdk.CloseRequest{}); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, run := range runs {
		run.Wait(t, 10*time.Second)
	}
	if sups := supervisorsOf(t, plugin); len(sups) != 0 {
		t.Errorf("supervisor %v still runs after Close", sups)
	}
}

func TestPluginSupervisorReplaced(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("commands are supervised on Linux only")
	}
	p := startPlugin(t)
	plugin := p.cmd.Process.Pid
	run := sdktest.StartExec(context.Background(), p.tr, &sdk.ExecRequest{ID: "long", Command: "echo $$; sleep 30 & sleep 30"})
	pgid := startedGroup(t, run.Stdout)
	sups := supervisorsOf(t, plugin)
	if len(sups) != 1 {
		t.Fatalf("supervisors %v, want 1", sups)
	}
	// Someone kills the supervisor: another takes its place, and learns of
	// the command already running.
	if err := syscall.Kill(sups[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := supervisorsOf(t, plugin)
		if len(now) == 1 && now[0] != sups[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisors %v 10s after %d was killed, want one other", now, sups[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
	sdktest.WaitSeen(t, p.logs, "starting another", 5*time.Second)
	r, err := p.tr.Exec(context.Background(), &sdk.ExecRequest{ID: "next", Command: "true"}, sdk.ExecOutput{})
	if err != nil || r.ExitCode != 0 {
		t.Fatalf("Exec after the supervisor was replaced = %+v, %v", r, err)
	}

	// The plugin dies: the first command, background child and all, dies
	// with it, at the hands of the new supervisor.
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	run.Wait(t, 5*time.Second)
	waitGroupGone(t, pgid, 5*time.Second)
}

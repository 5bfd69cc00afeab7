package client_test

// These tests start real plugin processes through New: the test
// binary re-executed with pluginModeEnv set (see main_test.go).

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
	"github.com/fanout/fanout/sdk/internal/wire"
	"github.com/fanout/fanout/sdk/sdktest"
)

// pluginCmd returns the command that runs the test binary as a plugin of
// the given mode.
func pluginCmd(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	// Under -race, a process sleeps a second at exit unless told not to.
	cmd.Env = append(os.Environ(), pluginModeEnv+"="+mode, "GORACE=atexit_sleep_ms=0")
	return cmd
}

// logBuffer is an io.Writer safe for the client's concurrent logging.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start starts a plugin client, killed when the test ends.
func start(t *testing.T, cfg client.Config) (*client.Client, error) {
	t.Helper()
	c, err := client.New(cfg)
	if err == nil {
		t.Cleanup(c.Kill)
	}
	return c, err
}

// assertGone fails the test if cmd's process still runs: New must
// leave none behind when it fails.
func assertGone(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if cmd.Process == nil {
		return // never started
	}
	if cmd.ProcessState == nil {
		t.Errorf("plugin process %d was not waited for", cmd.Process.Pid)
	}
	if err := syscall.Kill(cmd.Process.Pid, 0); err == nil {
		_ = cmd.Process.Kill()
		t.Errorf("plugin process %d is still running", cmd.Process.Pid)
	}
}

// inSession starts cmd in a session of its own, as fanout's launcher
// does, and kills what is left of the session when the test ends: the
// children some plugin modes leave behind.
func inSession(t *testing.T, cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // ESRCH: none left
		}
	})
}

func TestClientServes(t *testing.T) {
	logs := &logBuffer{}
	c, err := start(t, client.Config{
		Cmd:    pluginCmd("serve"),
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := c.ProtocolVersion(); v != wire.ProtocolVersion {
		t.Errorf("ProtocolVersion() = %d, want %d", v, wire.ProtocolVersion)
	}
	d, err := c.Transport().Describe(context.Background(), &sdk.DescribeRequest{})
	if err != nil || d.Name != "echo" || d.Version != "1.2.3" {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
}

func TestClientVersionMismatch(t *testing.T) {
	cmd := pluginCmd("v2")
	_, err := start(t, client.Config{Cmd: cmd})
	var ve *client.VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *client.VersionError", err)
	}
	if ve.Plugin != 2 || len(ve.Host) != 1 || ve.Host[0] != wire.ProtocolVersion {
		t.Errorf("VersionError = %+v", *ve)
	}
	want := "the plugin speaks transport protocol version 2, but this fanout speaks version 1"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	assertGone(t, cmd)
}

func TestClientHandshakeFailures(t *testing.T) {
	tests := []struct {
		mode    string
		timeout time.Duration
		want    []string
	}{
		{mode: "garbage", want: []string{`wrote "hello from a plugin that prints" to its standard output`}},
		{mode: "exit", want: []string{"exited before completing it", "exit status 3", "boom: cannot read my settings"}},
		// Its child holds the pipes for 30 s: the exit is seen at once
		// all the same, not as a plugin that never answered.
		{mode: "exitchild", timeout: 25 * time.Second, want: []string{"exited before completing it", "exit status 3", "boom: cannot read my settings"}},
		{mode: "hang", timeout: time.Second, want: []string{"no handshake within 1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			cmd := pluginCmd(tt.mode)
			inSession(t, cmd)
			begin := time.Now()
			_, err := start(t, client.Config{Cmd: cmd, StartTimeout: tt.timeout})
			if !errors.Is(err, client.ErrHandshake) {
				t.Fatalf("err = %v, want one wrapping ErrHandshake", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if took := time.Since(begin); took > 20*time.Second {
				t.Errorf("New took %s", took)
			}
			assertGone(t, cmd)
		})
	}
}

func TestClientPluginCrash(t *testing.T) {
	t.Run("alone", func(t *testing.T) { testClientPluginCrash(t, "serve") })
	// A child of the plugin holds its stdout and stderr for 30 s after the
	// crash: the crash is reported as promptly, and Kill does not wait
	// for the child.
	t.Run("child holds its pipes", func(t *testing.T) { testClientPluginCrash(t, "servechild") })
}

func testClientPluginCrash(t *testing.T, mode string) {
	logs := &logBuffer{}
	cmd := pluginCmd(mode)
	inSession(t, cmd)
	c, err := client.New(client.Config{
		Cmd:    cmd,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		begin := time.Now()
		c.Kill()
		if took := time.Since(begin); took > 10*time.Second {
			t.Errorf("Kill after the crash took %s", took)
		}
	}()
	tr := c.Transport()
	ctx := context.Background()
	if _, err := tr.Exec(ctx, &sdk.ExecRequest{ID: "1", Command: "hi"}, sdk.ExecOutput{}); err != nil {
		t.Fatalf("first Exec: %v", err)
	}
	begin := time.Now()
	_, err = tr.Exec(ctx, &sdk.ExecRequest{ID: "2", Command: "panic"}, sdk.ExecOutput{})
	if !errors.Is(err, client.ErrPluginExited) {
		t.Fatalf("Exec err = %v, want one wrapping ErrPluginExited", err)
	}
	for _, w := range []string{"exit status 2", "panic: echo: asked to panic"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Errorf("the crash took %s to be reported", took)
	}
	if !c.Exited() {
		t.Error("Exited() = false after the crash")
	}
	// Later calls fail the same way, at once.
	if _, err := tr.Describe(ctx, &sdk.DescribeRequest{}); !errors.Is(err, client.ErrPluginExited) {
		t.Errorf("Describe after the crash: %v", err)
	}
	// The panic and its stack trace reached the logger, at error level, as
	// Config.Logger's doc says.
	var panicLine, traceLine string
	for _, l := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(l, "panic: echo: asked to panic"):
			panicLine = l
		case strings.Contains(l, "goroutine ") && traceLine == "":
			traceLine = l
		}
	}
	if !strings.Contains(panicLine, "[ERROR]") || !strings.Contains(traceLine, "[ERROR]") {
		t.Errorf("the plugin's panic (%q) and stack trace (%q) were not logged at error level:\n%s", panicLine, traceLine, logs.String())
	}
}

func TestServeClosesOnTerm(t *testing.T) {
	closed := filepath.Join(t.TempDir(), "closed")
	cmd := pluginCmd("serve")
	cmd.Env = append(cmd.Env, closedFileEnv+"="+closed)
	c, err := start(t, client.Config{Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sdktest.Eventually(t, 10*time.Second, "the plugin to exit on SIGTERM", c.Exited)
	if b, err := os.ReadFile(closed); err != nil || string(b) != "closed" {
		t.Errorf("the transport was not closed before exiting: %v", err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit code %d, want 143", code)
	}
}

// TestClientKillStoppedPlugin: a plugin that no longer answers (stopped
// here, as a wedged process would be) is killed after Kill's wait: Kill
// returns, and the process is gone.
func TestClientKillStoppedPlugin(t *testing.T) {
	cmd := pluginCmd("serve")
	inSession(t, cmd)
	c, err := client.New(client.Config{Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		c.Kill()
	}()
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("Kill of a stopped plugin did not return in 30s")
	}
	assertGone(t, cmd)
}

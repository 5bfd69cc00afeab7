package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// transports returns the local transport called directly and the same
// called through the gRPC wire in this process, so that every behaviour is
// checked on both paths.
func transports(t *testing.T) map[string]func(t *testing.T) sdk.Transport {
	return map[string]func(t *testing.T) sdk.Transport{
		"direct": func(t *testing.T) sdk.Transport {
			tr := local.New(hclog.NewNullLogger())
			t.Cleanup(func() { _, _ = tr.Close(context.Background(), &sdk.CloseRequest{}) })
			return tr
		},
		"grpc": func(t *testing.T) sdk.Transport {
			impl := local.New(hclog.NewNullLogger())
			t.Cleanup(func() { _, _ = impl.Close(context.Background(), &sdk.CloseRequest{}) })
			return sdktest.NewHarness(t, impl).Transport()
		},
	}
}

func TestExec(t *testing.T) {
	tests := []struct {
		name     string
		req      sdk.ExecRequest
		want     sdk.ExecResponse
		stdout   string
		stderr   string
		stdoutLn int // when > 0, check the length of stdout instead
	}{
		{name: "success", req: sdk.ExecRequest{Command: "true"}, want: sdk.ExecResponse{ExitCode: 0}},
		{name: "exit code", req: sdk.ExecRequest{Command: "exit 3"}, want: sdk.ExecResponse{ExitCode: 3}},
		{
			name:   "stdout and stderr apart",
			req:    sdk.ExecRequest{Command: "echo out; echo err >&2; echo out2"},
			stdout: "out\nout2\n",
			stderr: "err\n",
		},
		{
			name:   "env added",
			req:    sdk.ExecRequest{Command: `printf '%s|%s' "$GREETING" "$FANOUT_HOST"`, Env: map[string]string{"GREETING": "hello world", "FANOUT_HOST": "web1"}},
			stdout: "hello world|web1",
		},
		{
			name:   "env overrides the parent's",
			req:    sdk.ExecRequest{Command: `printf %s "$HOME"`, Env: map[string]string{"HOME": "/nowhere"}},
			stdout: "/nowhere",
		},
		{name: "parent env kept", req: sdk.ExecRequest{Command: `test -n "$PATH"`}},
		{name: "$0 is the shell as configured", req: sdk.ExecRequest{Command: `printf %s "$0"`}, stdout: "sh"},
		{name: "stdin is empty", req: sdk.ExecRequest{Command: "cat; echo done"}, stdout: "done\n"},
		{name: "shell syntax", req: sdk.ExecRequest{Command: "for i in 1 2 3; do echo $i; done | tail -n 2"}, stdout: "2\n3\n"},
		{
			name: "killed by a signal",
			req:  sdk.ExecRequest{Command: "kill -KILL $$"},
			want: sdk.ExecResponse{ExitCode: -1, Signal: "KILL"},
		},
		{
			// Named by the system's table, not a hand-written one that
			// had no SEGV and answered "11".
			name: "killed by SIGSEGV",
			req:  sdk.ExecRequest{Command: "ulimit -c 0; kill -SEGV $$"},
			want: sdk.ExecResponse{ExitCode: -1, Signal: "SEGV"},
		},
		{
			name: "timeout",
			req:  sdk.ExecRequest{Command: "sleep 30", Timeout: 200 * time.Millisecond},
			want: sdk.ExecResponse{ExitCode: -1, Signal: "TERM", TimedOut: true},
		},
		{
			name: "timeout not reached",
			req:  sdk.ExecRequest{Command: "echo fast", Timeout: time.Minute},
			want: sdk.ExecResponse{ExitCode: 0}, stdout: "fast\n",
		},
		{
			name:     "large output",
			req:      sdk.ExecRequest{Command: "head -c 3000000 /dev/zero"},
			stdoutLn: 3000000,
		},
	}
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			tr := newTransport(t)
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					req := tt.req
					req.ID = tt.name
					req.Host = "localhost"
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					var stdout, stderr sdktest.Output
					resp, err := tr.Exec(ctx, &req, sdk.ExecOutput{Stdout: &stdout, Stderr: &stderr})
					if err != nil {
						t.Fatalf("Exec: %v", err)
					}
					if *resp != tt.want {
						t.Errorf("response = %+v, want %+v", *resp, tt.want)
					}
					if tt.stdoutLn > 0 {
						if got := len(stdout.String()); got != tt.stdoutLn {
							t.Errorf("stdout has %d bytes, want %d", got, tt.stdoutLn)
						}
					} else if got := stdout.String(); got != tt.stdout {
						t.Errorf("stdout = %q, want %q", got, tt.stdout)
					}
					if got := stderr.String(); got != tt.stderr {
						t.Errorf("stderr = %q, want %q", got, tt.stderr)
					}
					_ = i
				})
			}
		})
	}
}

// TestExecWithoutPath: with no PATH to find sh by (env -i, a bare cron
// job), commands run under /bin/sh, still called sh. Every command failed
// to start, its rollback too.
func TestExecWithoutPath(t *testing.T) {
	t.Setenv("PATH", "")
	tr := transports(t)["direct"](t)
	var stdout sdktest.Output
	resp, err := tr.Exec(context.Background(), &sdk.ExecRequest{ID: "1", Host: "localhost", Command: `printf '%s ok' "$0"`}, sdk.ExecOutput{Stdout: &stdout})
	if err != nil || resp.ExitCode != 0 || stdout.String() != "sh ok" {
		t.Fatalf("Exec = %+v, %v, stdout %q; want sh ok", resp, err, stdout.String())
	}
}

func TestExecTimeoutEscalatesToKill(t *testing.T) {
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			tr := newTransport(t)
			// The shell and its sleep ignore SIGTERM (an ignored signal
			// stays ignored across exec), so only SIGKILL ends them.
			start := time.Now()
			run := sdktest.StartExec(context.Background(), tr, &sdk.ExecRequest{
				ID: "stubborn", Command: "trap '' TERM; echo $$; sleep 30; echo survived", Timeout: 200 * time.Millisecond,
			})
			r := run.Wait(t, 10*time.Second)
			if r.Err != nil {
				t.Fatalf("Exec: %v", r.Err)
			}
			want := sdk.ExecResponse{ExitCode: -1, Signal: "KILL", TimedOut: true}
			if *r.Resp != want {
				t.Errorf("response = %+v, want %+v", *r.Resp, want)
			}
			if took := time.Since(start); took < 2*time.Second {
				t.Errorf("killed after %s, before the 2s grace period", took)
			}
			if strings.Contains(run.Stdout.String(), "survived") {
				t.Errorf("the command went on after the timeout: %q", run.Stdout.String())
			}
			waitGroupGone(t, firstInt(t, run.Stdout.String()), 5*time.Second)
		})
	}
}

func TestExecCancel(t *testing.T) {
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			tr := newTransport(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			run := sdktest.StartExec(ctx, tr, &sdk.ExecRequest{ID: "c", Command: "echo $$; sleep 30 & sleep 30"})
			pgid := startedGroup(t, run.Stdout)
			cancel()
			r := run.Wait(t, 5*time.Second)
			if !errors.Is(r.Err, context.Canceled) {
				t.Errorf("Exec error = %v, want context.Canceled", r.Err)
			}
			waitGroupGone(t, pgid, 5*time.Second)
		})
	}
}

func TestExecCancelWhileBackgroundHoldsOutput(t *testing.T) {
	// The shell exits at once; its background children keep its output
	// open, which Exec reads for up to a second more. A cancellation in
	// that second still stops them, as it would while the shell ran. One
	// child says when the shell is gone (reaped: kill -0 fails).
	tr := local.New(nil)
	t.Cleanup(func() { _, _ = tr.Close(context.Background(), &sdk.CloseRequest{}) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := sdktest.StartExec(ctx, tr, &sdk.ExecRequest{
		ID:      "bg",
		Command: `echo $$; sleep 30 & s=$$; (while kill -0 $s 2>/dev/null; do sleep 0.01; done; echo shell-gone; exec sleep 30) &`,
	})
	pgid := startedGroup(t, run.Stdout)
	sdktest.WaitSeen(t, run.Stdout, "shell-gone\n", 10*time.Second)
	if r, ok := returned(t, run); ok {
		t.Skipf("Exec returned before the test could cancel it (%+v, %v): the machine is too slow for this test", r.Resp, r.Err)
	}
	cancel()
	r := run.Wait(t, 5*time.Second)
	if !errors.Is(r.Err, context.Canceled) {
		t.Errorf("Exec = %+v, %v; want context.Canceled", r.Resp, r.Err)
	}
	waitGroupGone(t, pgid, 5*time.Second)
}

func TestSignal(t *testing.T) {
	tests := []struct {
		name    string
		command string
		signal  string
		want    sdk.ExecResponse
		stdout  string
	}{
		{name: "term", command: "echo ready; sleep 30", signal: "TERM", want: sdk.ExecResponse{ExitCode: -1, Signal: "TERM"}, stdout: "ready\n"},
		{name: "sig prefix", command: "echo ready; sleep 30", signal: "SIGHUP", want: sdk.ExecResponse{ExitCode: -1, Signal: "HUP"}, stdout: "ready\n"},
		{
			name:    "trapped",
			command: "trap 'echo got INT; exit 7' INT; echo ready; while :; do sleep 0.05; done",
			signal:  "INT",
			want:    sdk.ExecResponse{ExitCode: 7},
			stdout:  "ready\ngot INT\n",
		},
	}
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			tr := newTransport(t)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := context.Background()
					run := sdktest.StartExec(ctx, tr, &sdk.ExecRequest{ID: tt.name, Command: tt.command})
					sdktest.WaitSeen(t, run.Stdout, "ready\n", 10*time.Second)
					if _, err := tr.Signal(ctx, &sdk.SignalRequest{ExecID: tt.name, Signal: tt.signal}); err != nil {
						t.Fatalf("Signal: %v", err)
					}
					r := run.Wait(t, 10*time.Second)
					if r.Err != nil {
						t.Fatalf("Exec: %v", r.Err)
					}
					if *r.Resp != tt.want {
						t.Errorf("response = %+v, want %+v", *r.Resp, tt.want)
					}
					if got := run.Stdout.String(); got != tt.stdout {
						t.Errorf("stdout = %q, want %q", got, tt.stdout)
					}
				})
			}
			t.Run("finished exec", func(t *testing.T) {
				if _, err := tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: "term", Signal: "TERM"}); err != nil {
					t.Errorf("Signal of a finished exec: %v, want no error", err)
				}
			})
			t.Run("unknown signal", func(t *testing.T) {
				_, err := tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: "x", Signal: "BOGUS"})
				if err == nil || err.Error() != `unknown signal "BOGUS"` {
					t.Errorf("Signal error = %v, want unknown signal \"BOGUS\"", err)
				}
			})
		})
	}
}

func TestSignalEndsBackgroundChildren(t *testing.T) {
	// A non-interactive shell starts its background jobs with SIGINT
	// ignored: the interrupt ends the shell's wait, not the sleep. An
	// interrupt is a request to end the command, so Exec must end the rest
	// of its group before it returns, as a timeout does.
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			tr := newTransport(t)
			ctx := context.Background()
			run := sdktest.StartExec(ctx, tr, &sdk.ExecRequest{ID: "bg", Command: "echo $$; sleep 30 & echo $!; wait"})
			pgid := startedGroup(t, run.Stdout)
			sdktest.Eventually(t, 10*time.Second, "the shell's and the sleep's pids on stdout", func() bool {
				return len(strings.Fields(run.Stdout.String())) >= 2
			})
			pids := strings.Fields(run.Stdout.String())
			child := firstInt(t, pids[1])
			if _, err := tr.Signal(ctx, &sdk.SignalRequest{ExecID: "bg", Signal: "INT"}); err != nil {
				t.Fatalf("Signal: %v", err)
			}
			r := run.Wait(t, 10*time.Second)
			if r.Err != nil {
				t.Fatalf("Exec: %v", r.Err)
			}
			if want := (sdk.ExecResponse{ExitCode: -1, Signal: "INT"}); *r.Resp != want {
				t.Errorf("response = %+v, want %+v", *r.Resp, want)
			}
			// No waiting: Exec has returned, so the group must be gone.
			if live := liveGroupMembers(t, pgid); len(live) > 0 {
				t.Errorf("processes %v of the interrupted command (background sleep %d) outlived its Exec", live, child)
			}
		})
	}
}

func TestSignalOtherThanEndKeepsBackgroundChildren(t *testing.T) {
	// USR1 does not ask the command to end: what it started in the
	// background lives on after the shell exits, as after any command.
	tr := local.New(nil)
	t.Cleanup(func() { _, _ = tr.Close(context.Background(), &sdk.CloseRequest{}) })
	ctx := context.Background()
	run := sdktest.StartExec(ctx, tr, &sdk.ExecRequest{
		// The sleep starts with USR1 ignored, the shell then traps it;
		// both are in place before the first line is written.
		ID: "usr1", Command: "trap '' USR1; sleep 30 & trap 'exit 0' USR1; echo $$; wait",
	})
	pgid := startedGroup(t, run.Stdout)
	if _, err := tr.Signal(ctx, &sdk.SignalRequest{ExecID: "usr1", Signal: "USR1"}); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	r := run.Wait(t, 10*time.Second)
	if r.Err != nil || r.Resp.ExitCode != 0 {
		t.Fatalf("Exec = %+v, %v; want exit 0", r.Resp, r.Err)
	}
	if live := liveGroupMembers(t, pgid); len(live) != 1 {
		t.Errorf("live processes of the group after USR1: %v, want the background sleep alone", live)
	}
}

func TestExecDuplicateID(t *testing.T) {
	tr := local.New(nil)
	t.Cleanup(func() { _, _ = tr.Close(context.Background(), &sdk.CloseRequest{}) })
	run := sdktest.StartExec(context.Background(), tr, &sdk.ExecRequest{ID: "same", Command: "echo ready; sleep 30"})
	sdktest.WaitSeen(t, run.Stdout, "ready", 10*time.Second)
	_, err := tr.Exec(context.Background(), &sdk.ExecRequest{ID: "same", Command: "true"}, sdk.ExecOutput{})
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Exec with the same ID: error = %v, want already running", err)
	}
	if _, err := tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: "same", Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	run.Wait(t, 5*time.Second)
}

func TestClose(t *testing.T) {
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			tr := newTransport(t)
			run := sdktest.StartExec(context.Background(), tr, &sdk.ExecRequest{ID: "long", Command: "echo $$; sleep 30"})
			pgid := startedGroup(t, run.Stdout)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := tr.Close(ctx, &sdk.CloseRequest{}); err != nil {
				t.Fatalf("Close: %v", err)
			}
			// Close waits for the running Exec, so it has returned.
			r := run.Wait(t, time.Second)
			if r.Err == nil || !strings.Contains(r.Err.Error(), "closed") {
				t.Errorf("running Exec returned %+v, %v; want a closed error", r.Resp, r.Err)
			}
			waitGroupGone(t, pgid, 5*time.Second)

			if _, err := tr.Exec(ctx, &sdk.ExecRequest{Command: "true"}, sdk.ExecOutput{}); err == nil {
				t.Errorf("Exec after Close succeeded")
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			d, err := newTransport(t).Describe(context.Background(), &sdk.DescribeRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != "local" || d.Version != local.Version || !d.Capabilities.Signal {
				t.Errorf("Describe = %+v", d)
			}
			if len(d.TransportSchema.Attributes) != 1 || d.TransportSchema.Attributes[0].Name != "shell" ||
				!d.TransportSchema.Attributes[0].Type.Equals(cty.String) {
				t.Errorf("transport schema = %+v, want one string attribute shell", d.TransportSchema)
			}
			if len(d.HostSchema.Attributes) != 0 {
				t.Errorf("host schema = %+v, want none", d.HostSchema)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	shellType := cty.Object(map[string]cty.Type{"shell": cty.String})
	tests := []struct {
		name     string
		config   cty.Value
		summary  string // of the one error diagnostic expected, if any
		command  string // run after a successful Configure
		wantExit int
	}{
		{name: "no config", config: cty.NilVal, command: "true"},
		{name: "null shell", config: cty.NullVal(shellType), command: "true"},
		{name: "null shell attribute", config: cty.ObjectVal(map[string]cty.Value{"shell": cty.NullVal(cty.String)}), command: "true"},
		{name: "shell by path", config: cty.ObjectVal(map[string]cty.Value{"shell": cty.StringVal("/bin/sh")}), command: "exit 4", wantExit: 4},
		{name: "empty shell", config: cty.ObjectVal(map[string]cty.Value{"shell": cty.StringVal("")}), summary: "Empty shell"},
		{name: "missing shell", config: cty.ObjectVal(map[string]cty.Value{"shell": cty.StringVal("no-such-shell-here")}), summary: "Shell not found"},
	}
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					tr := newTransport(t)
					ctx := context.Background()
					resp, err := tr.Configure(ctx, &sdk.ConfigureRequest{Config: tt.config, RunID: "r1"})
					if err != nil {
						t.Fatalf("Configure: %v", err)
					}
					if tt.summary != "" {
						if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != tt.summary ||
							resp.Diagnostics[0].Severity != sdk.Error || resp.Diagnostics[0].Attribute.String() != "shell" {
							t.Errorf("diagnostics = %+v, want one error %q on shell", resp.Diagnostics, tt.summary)
						}
						return
					}
					if len(resp.Diagnostics) != 0 {
						t.Fatalf("diagnostics = %+v, want none", resp.Diagnostics)
					}
					if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: sdk.Host{Name: "anything", Address: "10.9.9.9"}}); err != nil {
						t.Fatalf("Connect: %v", err)
					}
					r, err := tr.Exec(ctx, &sdk.ExecRequest{Host: "anything", Command: tt.command}, sdk.ExecOutput{})
					if err != nil {
						t.Fatalf("Exec: %v", err)
					}
					if r.ExitCode != tt.wantExit {
						t.Errorf("exit code = %d, want %d", r.ExitCode, tt.wantExit)
					}
				})
			}
		})
	}
}

func TestExecWriterFailureStopsCommand(t *testing.T) {
	for tname, newTransport := range transports(t) {
		t.Run(tname, func(t *testing.T) {
			tr := newTransport(t)
			failing := writerFunc(func([]byte) (int, error) { return 0, errors.New("terminal gone") })
			pidFile := filepath.Join(t.TempDir(), "pid")
			start := time.Now()
			_, err := tr.Exec(context.Background(), &sdk.ExecRequest{ID: "w", Command: "echo $$ > " + sq(pidFile) + "; echo hi; sleep 30"},
				sdk.ExecOutput{Stdout: failing})
			if err == nil || !strings.Contains(err.Error(), "terminal gone") {
				t.Errorf("Exec error = %v, want the writer's", err)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Exec took %s: the command was not stopped", took)
			}
			pid, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			waitGroupGone(t, firstInt(t, string(pid)), 5*time.Second)
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

package sdktest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// shellOnly is a transport with the commonest kill bug: Exec runs the
// command with exec.CommandContext, which on cancel or timeout kills the
// shell alone, and whatever the command started runs on.
type shellOnly struct{ sdk.Transport }

// Describe declares what this Exec does: commands, no stdin, signals,
// lists or files.
func (s shellOnly) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	resp, err := s.Transport.Describe(ctx, req)
	if err == nil {
		resp.Capabilities = sdk.Capabilities{Exec: true}
	}
	return resp, err
}

func (shellOnly) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", req.Command)
	cmd.Stdout, cmd.Stderr = out.Stdout, out.Stderr
	cmd.WaitDelay = time.Second // the child holds the pipes
	err := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &sdk.ExecResponse{ExitCode: -1, Signal: "KILL", TimedOut: true}, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &sdk.ExecResponse{ExitCode: ee.ExitCode()}, nil
	}
	return &sdk.ExecResponse{}, err
}

// TestConformanceCatchesShellOnlyKill: the kit fails a transport that
// stops only a command's shell on cancel and on timeout, naming the child
// left running (it passed such a transport before). The kit runs in a
// child test process, whose failure is the point.
func TestConformanceCatchesShellOnlyKill(t *testing.T) {
	if os.Getenv("SDKTEST_SHELL_ONLY") == "1" {
		tr := sdktest.NewHarness(t, shellOnly{New(hclog.NewNullLogger())}).Transport()
		desc := sdktest.Configure(t, tr, map[string]cty.Value{"shell": cty.StringVal("/bin/sh")})
		host := sdk.Host{Name: "box", Config: sdktest.Object(t, desc.HostSchema, nil)}
		sdktest.Conformance(t, tr, host, sdktest.Options{Wait: 3 * time.Second})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConformanceCatchesShellOnlyKill$", "-test.v")
	cmd.Env = append(os.Environ(), "SDKTEST_SHELL_ONLY=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the kit passed a transport that kills only the shell:\n%s", out)
	}
	for _, want := range []string{"after the cancel, the command's background child", "after the timeout, the command's background child"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the kit's output lacks %q:\n%s", want, out)
		}
	}
}

// hangingConnect is a transport whose Connect never returns, its ctx
// ignored.
type hangingConnect struct{ sdk.Transport }

func (hangingConnect) Connect(context.Context, *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	select {}
}

// failingExec is a transport whose Exec fails at once.
type failingExec struct{ sdk.Transport }

func (failingExec) Exec(context.Context, *sdk.ExecRequest, sdk.ExecOutput) (*sdk.ExecResponse, error) {
	return nil, errors.New("test: this transport cannot start a command")
}

// listGoesOn runs a command list one command at a time, the next one
// whatever became of the last: a cancelled list goes on.
type listGoesOn struct{ sdk.Transport }

// Describe declares commands and lists, nothing else.
func (l listGoesOn) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	resp, err := l.Transport.Describe(ctx, req)
	if err == nil {
		resp.Capabilities = sdk.Capabilities{Exec: true, CommandList: true}
	}
	return resp, err
}

func (l listGoesOn) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if len(req.Commands) == 0 {
		return l.Transport.Exec(ctx, req, out)
	}
	var resp *sdk.ExecResponse
	for i, command := range req.Commands {
		one := *req
		one.Commands, one.Command, one.ID = nil, command, req.ID
		var err error
		if resp, err = l.Transport.Exec(ctx, &one, out); err != nil && i == len(req.Commands)-1 {
			return nil, err
		}
		ctx = context.Background() // the bug
	}
	return resp, nil
}

// TestConformanceSays runs the kit, in a child test process, against
// transports that break it in ways that once made it hang or say the
// wrong thing, and against a sound one with one check picked by -run as
// the package doc says: a Connect that never returns fails at the suite's
// wait (it waited for go test's timeout, 10 minutes), an Exec that fails
// at once is shown its error (the kit said its output did not stream),
// and `-run 'TestConformanceSays/sound/timeout'` passes (Connect was a
// check of its own, which -run left out).
func TestConformanceSays(t *testing.T) {
	transports := map[string]func(sdk.Transport) sdk.Transport{
		"hanging": func(tr sdk.Transport) sdk.Transport { return hangingConnect{tr} },
		"failing": func(tr sdk.Transport) sdk.Transport { return failingExec{tr} },
		"sound":   func(tr sdk.Transport) sdk.Transport { return tr },
		"list":    func(tr sdk.Transport) sdk.Transport { return listGoesOn{tr} },
	}
	if name := os.Getenv("SDKTEST_SAYS"); name != "" {
		tr := transports[name](New(hclog.NewNullLogger()))
		desc := sdktest.Configure(t, tr, map[string]cty.Value{"shell": cty.StringVal("/bin/sh")})
		host := sdk.Host{Name: "box", Config: sdktest.Object(t, desc.HostSchema, nil)}
		t.Run(name, func(t *testing.T) { sdktest.Conformance(t, tr, host, sdktest.Options{Wait: 2 * time.Second}) })
		return
	}
	for _, tt := range []struct {
		name, run string
		pass      bool
		want      string
	}{
		{"hanging", "^TestConformanceSays$", false, "Connect did not return within 2s"},
		{"failing", "^TestConformanceSays$", false, "Exec returned before the command wrote \"ready \": response <nil>, error test: this transport cannot start a command"},
		{"sound", "^TestConformanceSays$/^sound$/^timeout$", true, "--- PASS: TestConformanceSays/sound/timeout"},
		{"list", "^TestConformanceSays$/^list$/^command_list$", false, "a list whose first command was stopped (cancel) went on to the next"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+tt.run, "-test.v")
		cmd.Env = append(os.Environ(), "SDKTEST_SAYS="+tt.name)
		out, err := cmd.CombinedOutput()
		cancel()
		if (err == nil) != tt.pass || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s: error %v, want passed %v and %q in its output:\n%s", tt.name, err, tt.pass, tt.want, out)
		}
	}
}

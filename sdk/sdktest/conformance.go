package sdktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk"
)

// patience bounds every wait of the conformance suite: a transport that
// needs longer than this to start a command or report its end fails.
const patience = 15 * time.Second

// Conformance checks that tr keeps the sdk.Transport contract when running
// commands on host, which must have a POSIX sh, sleep, mktemp and ls. tr
// must already be configured. Each check is a subtest; Connect is called
// first and Close last, so tr cannot be used afterwards. Pass a Transport
// from NewHarness or sdk.Client to check the wire path too.
func Conformance(t *testing.T, tr sdk.Transport, host sdk.Host) {
	t.Helper()
	c := &conformance{tr: tr, host: host}
	ctx := context.Background()

	desc, err := tr.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	t.Run("describe", func(t *testing.T) { checkDescribe(t, desc) })
	t.Run("connect", func(t *testing.T) {
		for range 2 { // idempotent
			if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: host}); err != nil {
				t.Fatalf("Connect(%s): %v", host.Name, err)
			}
		}
	})
	t.Run("exit codes", c.exitCodes)
	t.Run("stdout and stderr apart", c.stdoutStderr)
	t.Run("env", c.env)
	t.Run("stdin empty", c.stdin)
	t.Run("streams before exit, then cancel", c.streamAndCancel)
	t.Run("timeout", c.timeout)
	t.Run("signal", func(t *testing.T) {
		if !desc.Capabilities.Signal {
			t.Skip("the transport does not declare the Signal capability")
		}
		c.signal(t)
	})
	t.Run("concurrent execs", c.concurrent)
	t.Run("close", c.close)
}

func checkDescribe(t *testing.T, d *sdk.DescribeResponse) {
	if d.Name == "" {
		t.Error("Describe: empty name")
	}
	for _, s := range []struct {
		name   string
		schema sdk.Schema
	}{{"transport", d.TransportSchema}, {"host", d.HostSchema}} {
		seen := map[string]bool{}
		for _, a := range s.schema.Attributes {
			if a.Name == "" || seen[a.Name] {
				t.Errorf("%s schema: empty or duplicate attribute name %q", s.name, a.Name)
			}
			seen[a.Name] = true
		}
	}
}

type conformance struct {
	tr   sdk.Transport
	host sdk.Host

	mu  sync.Mutex
	seq int // guarded by mu
}

// request returns an ExecRequest with a fresh ID.
func (c *conformance) request(command string) *sdk.ExecRequest {
	c.mu.Lock()
	c.seq++
	id := fmt.Sprintf("conformance-%d", c.seq)
	c.mu.Unlock()
	return &sdk.ExecRequest{ID: id, Host: c.host.Name, Command: command}
}

type result struct {
	resp           *sdk.ExecResponse
	err            error
	stdout, stderr *Output
}

// start runs req in a goroutine that sends the result on the returned
// channel; the buffers fill as the command writes.
func (c *conformance) start(ctx context.Context, req *sdk.ExecRequest) (*Output, <-chan result) {
	stdout, stderr := &Output{}, &Output{}
	ch := make(chan result, 1)
	go func() {
		resp, err := c.tr.Exec(ctx, req, sdk.ExecOutput{Stdout: stdout, Stderr: stderr})
		ch <- result{resp: resp, err: err, stdout: stdout, stderr: stderr}
	}()
	return stdout, ch
}

func wait(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(patience):
		t.Fatalf("Exec did not return within %s", patience)
		return result{}
	}
}

func waitFor(t *testing.T, o *Output, s string) {
	t.Helper()
	select {
	case <-o.Seen(s):
	case <-time.After(patience):
		t.Fatalf("%q was not written within %s (output was not streamed?); got %q", s, patience, o.String())
	}
}

// run runs command and fails the test on an Exec error.
func (c *conformance) run(t *testing.T, req *sdk.ExecRequest) result {
	t.Helper()
	_, ch := c.start(context.Background(), req)
	r := wait(t, ch)
	if r.err != nil {
		t.Fatalf("Exec(%q): %v", req.Command, r.err)
	}
	return r
}

func (c *conformance) exitCodes(t *testing.T) {
	for _, code := range []int{0, 1, 3, 255} {
		r := c.run(t, c.request(fmt.Sprintf("exit %d", code)))
		if r.resp.ExitCode != code || r.resp.Signal != "" || r.resp.TimedOut {
			t.Errorf("exit %d: response %+v", code, *r.resp)
		}
	}
}

func (c *conformance) stdoutStderr(t *testing.T) {
	r := c.run(t, c.request("echo out1; echo err1 >&2; echo out2; echo err2 >&2"))
	if got := r.stdout.String(); got != "out1\nout2\n" {
		t.Errorf("stdout = %q, want %q", got, "out1\nout2\n")
	}
	if got := r.stderr.String(); got != "err1\nerr2\n" {
		t.Errorf("stderr = %q, want %q", got, "err1\nerr2\n")
	}
}

func (c *conformance) env(t *testing.T) {
	req := c.request(`printf '%s|%s' "$FANOUT_CONFORMANCE_A" "$FANOUT_CONFORMANCE_B"`)
	req.Env = map[string]string{"FANOUT_CONFORMANCE_A": "two words", "FANOUT_CONFORMANCE_B": `it's "quoted" $HOME`}
	r := c.run(t, req)
	if want := `two words|it's "quoted" $HOME`; r.stdout.String() != want {
		t.Errorf("stdout = %q, want %q", r.stdout.String(), want)
	}
}

func (c *conformance) stdin(t *testing.T) {
	r := c.run(t, c.request("cat; echo end"))
	if r.stdout.String() != "end\n" {
		t.Errorf("stdout = %q, want only %q: stdin must be empty", r.stdout.String(), "end\n")
	}
}

func (c *conformance) streamAndCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, ch := c.start(ctx, c.request("echo ready; sleep 30; echo too-late"))
	// "ready" can only arrive now if output streams as it is produced.
	waitFor(t, stdout, "ready\n")
	start := time.Now()
	cancel()
	r := wait(t, ch)
	if r.err == nil {
		t.Errorf("Exec returned %+v after its ctx was cancelled, want an error", *r.resp)
	} else if !errors.Is(r.err, context.Canceled) {
		t.Errorf("Exec error = %v, want one matching context.Canceled", r.err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Exec took %s to return after cancel", took)
	}
	if strings.Contains(stdout.String(), "too-late") {
		t.Error("the command ran to its end despite the cancel")
	}
}

func (c *conformance) timeout(t *testing.T) {
	req := c.request("sleep 30")
	req.Timeout = 500 * time.Millisecond
	start := time.Now()
	r := c.run(t, req)
	if !r.resp.TimedOut {
		t.Errorf("response = %+v, want TimedOut", *r.resp)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a 500ms timeout took %s", took)
	}
}

func (c *conformance) signal(t *testing.T) {
	req := c.request("echo ready; sleep 30")
	stdout, ch := c.start(context.Background(), req)
	waitFor(t, stdout, "ready\n")
	if _, err := c.tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: req.ID, Signal: "TERM"}); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	r := wait(t, ch)
	if r.err != nil {
		t.Fatalf("Exec: %v", r.err)
	}
	if r.resp.ExitCode == 0 && r.resp.Signal == "" {
		t.Errorf("response = %+v, want the command ended by TERM", *r.resp)
	}
	if _, err := c.tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: req.ID, Signal: "TERM"}); err != nil {
		t.Errorf("Signal of a finished exec: %v, want no error", err)
	}
}

func (c *conformance) concurrent(t *testing.T) {
	const n = 10
	dir := strings.TrimSpace(c.run(t, c.request("mktemp -d")).stdout.String())
	if dir == "" {
		t.Fatal("mktemp -d printed nothing")
	}
	defer c.run(t, c.request("rm -rf '"+dir+"'"))
	// Each command waits until all n have started: they succeed only if
	// the transport runs them at once.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			cmd := fmt.Sprintf(`touch '%s/%d'; i=0
while [ "$(ls '%s' | wc -l)" -lt %d ]; do i=$((i+1)); [ $i -gt 1000 ] && exit 1; sleep 0.01; done`, dir, i, dir, n)
			_, ch := c.start(context.Background(), c.request(cmd))
			select {
			case r := <-ch:
				switch {
				case r.err != nil:
					errs[i] = r.err
				case r.resp.ExitCode != 0:
					errs[i] = fmt.Errorf("exit %d: not all %d commands ran at once", r.resp.ExitCode, n)
				}
			case <-time.After(patience):
				errs[i] = fmt.Errorf("did not return within %s", patience)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("exec %d: %v", i, err)
		}
	}
}

func (c *conformance) close(t *testing.T) {
	stdout, ch := c.start(context.Background(), c.request("echo ready; sleep 30"))
	waitFor(t, stdout, "ready\n")
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := c.tr.Close(ctx, &sdk.CloseRequest{}); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close terminates what still runs: the Exec ends, however it reports it.
	wait(t, ch)
}

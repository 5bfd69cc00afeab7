package sdktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/fanout/fanout/sdk"
)

// DefaultWait is how long Conformance waits, by default, for a command to
// start writing or for an Exec to return.
const DefaultWait = 15 * time.Second

// Options tune Conformance.
type Options struct {
	// Wait bounds every wait of the suite: a transport that needs longer
	// to start a command, stream its output or report its end fails the
	// check at that wait. Default: DefaultWait. A suite run against many
	// transports or under a debugger may want another.
	Wait time.Duration
}

// Conformance checks that tr keeps the sdk.Transport contract when running
// commands on host, which must have a POSIX sh, sleep, mktemp, ls, cat,
// test and kill. The clauses of protocols 1.2 (stdin bytes, Upload,
// Download) and 1.3 (Release) run for the capabilities tr declares and are skipped, saying
// so, for the others. tr must already be configured (see Configure). Each check is a
// subtest; Connect is called first and Close last, so tr cannot be used
// afterwards. Pass a Transport from NewHarness or from sdk/client to check
// the wire path too. opts, at most one, tune the suite.
func Conformance(t *testing.T, tr sdk.Transport, host sdk.Host, opts ...Options) {
	t.Helper()
	c := &conformance{tr: tr, host: host, wait: DefaultWait}
	for _, o := range opts {
		if o.Wait > 0 {
			c.wait = o.Wait
		}
	}
	desc, err := within(t, c.wait, "Describe", func(ctx context.Context) (*sdk.DescribeResponse, error) {
		return tr.Describe(ctx, &sdk.DescribeRequest{})
	})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	c.signals = desc.Capabilities.Signal
	t.Run("describe", func(t *testing.T) { checkDescribe(t, desc) })
	declared(t, "validate host", desc.Capabilities.ValidateHost, "ValidateHost", func(t *testing.T) {
		checkValidateHost(t, tr, host, desc)
	})
	// Connected before the checks, not in one of them: `go test -run
	// 'TestConformance/timeout'` runs that check alone.
	connect := func(t *testing.T) {
		t.Helper()
		if _, err := within(t, c.wait, "Connect", func(ctx context.Context) (*sdk.ConnectResponse, error) {
			return tr.Connect(ctx, &sdk.ConnectRequest{Host: host})
		}); err != nil {
			t.Fatalf("Connect(%s): %v", host.Name, err)
		}
	}
	connect(t)
	t.Run("connect", connect) // again: idempotent
	t.Run("exit codes", c.exitCodes)
	t.Run("stdout and stderr apart", c.stdoutStderr)
	t.Run("env", c.env)
	t.Run("stdin empty", c.stdin)
	t.Run("streams before exit, then cancel", c.streamAndCancel)
	t.Run("background child holding stdout", c.backgroundChild)
	t.Run("failing writer stops the command", c.failingWriter)
	t.Run("timeout", c.timeout)
	declared(t, "signal", desc.Capabilities.Signal, "Signal", c.signal)
	declared(t, "command list", desc.Capabilities.CommandList, "CommandList", c.commandList)
	t.Run("concurrent execs", c.concurrent)
	c.fileClauses(t, desc)
	declared(t, "release", desc.Capabilities.Release, "Release", c.release)
	t.Run("close", c.close)
}

// within returns what call returns, failing t if it has not returned
// within wait: a transport's Describe or Connect that hangs fails the
// suite at its wait, as its commands do, rather than at go test's
// timeout. ctx, which call is given, ends at wait.
func within[R any](t testing.TB, wait time.Duration, what string, call func(ctx context.Context) (R, error)) (R, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	type result struct {
		r   R
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := call(ctx)
		done <- result{r, err}
	}()
	timer := time.NewTimer(wait + time.Second)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.r, res.err
	case <-timer.C:
		t.Fatalf("%s did not return within %s, its context's deadline: it must return when its ctx ends", what, wait)
		var zero R
		return zero, nil
	}
}

// declared runs check as t's subtest name when the transport declares
// the capability what (ok), and skips it, saying so, otherwise.
func declared(t *testing.T, name string, ok bool, what string, check func(*testing.T)) {
	t.Run(name, func(t *testing.T) {
		if !ok {
			t.Skipf("the transport does not declare the %s capability", what)
		}
		check(t)
	})
}

// release checks Release (protocol 1.3): releasing the host, twice, and a
// host never connected, is no error; a released host is connected again
// by Connect, as fanout does before a rollback needs it, and runs
// commands as before.
func (c *conformance) release(t *testing.T) {
	rel, ok := c.tr.(sdk.Releaser)
	if !ok {
		t.Fatalf("Describe declares Release, but %T does not implement sdk.Releaser", c.tr)
	}
	ctx := context.Background()
	for _, hosts := range [][]string{{c.host.Name}, {c.host.Name, "fanout-conformance-never-connected"}} {
		if _, err := rel.Release(ctx, &sdk.ReleaseRequest{Hosts: hosts}); err != nil {
			t.Fatalf("Release(%q): %v", hosts, err)
		}
	}
	for i := range 2 { // released and connected again, twice
		if _, err := c.tr.Connect(ctx, &sdk.ConnectRequest{Host: c.host}); err != nil {
			t.Fatalf("Connect(%s) after Release: %v", c.host.Name, err)
		}
		r := c.run(t, c.request("echo again"))
		if r.Resp.ExitCode != 0 || r.Stdout.String() != "again\n" {
			t.Fatalf("Exec after Release and Connect: exit %d, stdout %q; want 0 and \"again\\n\"", r.Resp.ExitCode, r.Stdout.String())
		}
		if i == 0 {
			if _, err := rel.Release(ctx, &sdk.ReleaseRequest{Hosts: []string{c.host.Name}}); err != nil {
				t.Fatalf("Release(%s): %v", c.host.Name, err)
			}
		}
	}
}

// commandList checks ExecRequest.Commands: each command runs as a lone
// Command would (nothing but Env carries over), in order, the first that
// fails ending the list, named by ExecResponse.Command with its status.
func (c *conformance) commandList(t *testing.T) {
	for _, tt := range []struct {
		commands      []string
		stdout        string
		command, exit int
	}{
		{[]string{"echo a", `X=1; cd /; echo b >&2`, `echo "${X:-unset} $FANOUT_CONFORMANCE_A"`}, "a\nunset v\n", 2, 0},
		{[]string{"echo a", "exit 3", "echo never"}, "a\n", 1, 3},
		{[]string{"true", "false"}, "", 1, 1},
	} {
		req := c.request("")
		req.Command, req.Commands = "", tt.commands
		req.Env = map[string]string{"FANOUT_CONFORMANCE_A": "v"}
		r := c.run(t, req)
		if r.Resp.Command != tt.command || r.Resp.ExitCode != tt.exit || r.Resp.Signal != "" || r.Resp.TimedOut {
			t.Errorf("%q: response %+v, want command %d, exit %d", tt.commands, *r.Resp, tt.command, tt.exit)
		}
		if got := r.Stdout.String(); got != tt.stdout {
			t.Errorf("%q: stdout = %q, want %q", tt.commands, got, tt.stdout)
		}
	}
	c.listStops(t)
}

// listStops checks that a command list stopped while its first command
// runs starts no other: cancelled, and signalled with TERM when the
// transport declares Signal. The first command catches the signal and
// exits 0, as a graceful shutdown does, so a transport that goes on to the
// next command on a 0 ran the rest of a list the operator had stopped.
func (c *conformance) listStops(t *testing.T) {
	first := "trap 'exit 0' INT TERM; echo ready; while :; do sleep 0.1; done"
	for _, how := range []string{"cancel", "signal"} {
		if how == "signal" && !c.signals {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		req := c.request("")
		req.Command, req.Commands = "", []string{first, "echo second"}
		run := StartExec(ctx, c.tr, req)
		run.Seen(t, "ready\n", c.wait)
		if how == "cancel" {
			cancel()
		} else if _, err := c.tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: req.ID, Signal: "TERM"}); err != nil {
			t.Errorf("Signal: %v", err)
		}
		r := run.Wait(t, c.wait)
		cancel()
		if strings.Contains(r.Stdout.String(), "second") {
			t.Errorf("a list whose first command was stopped (%s) went on to the next: stdout %q", how, r.Stdout.String())
		}
	}
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
			} else if !validIdentifier(a.Name) {
				t.Errorf("%s schema: %q is not a name HCL can write (letters, digits, _ and -, not starting with a digit or -); fanout refuses the plugin", s.name, a.Name)
			}
			if slices.Contains(reserved[s.name], a.Name) {
				t.Errorf("%s schema: %q is reserved: fanout reads it from every %s block itself and refuses a plugin that declares it", s.name, a.Name, s.name)
			}
			seen[a.Name] = true
		}
	}
}

// reserved are the attributes fanout reads from transport and host blocks
// itself, by block (package config's ReservedTransportAttributes and
// ReservedHostAttributes, which sdk cannot import;
// TestReservedMatchesConfig fails when the two lists differ).
var reserved = map[string][]string{
	"transport": {"sha256"},
	"host":      {"address", "roles", "transport", "for_each", "vars"},
}

// checkValidateHost checks that a transport declaring ValidateHost serves
// it, and finds no error in the host the suite runs on, which is valid;
// its diagnostics must name attributes of the host schema.
func checkValidateHost(t *testing.T, tr sdk.Transport, host sdk.Host, desc *sdk.DescribeResponse) {
	hv, ok := tr.(sdk.HostValidator)
	if !ok {
		t.Fatalf("Describe declares ValidateHost, but %T does not implement sdk.HostValidator", tr)
	}
	resp, err := hv.ValidateHost(context.Background(), &sdk.ValidateHostRequest{Host: host})
	if err != nil {
		t.Fatalf("ValidateHost(%s): %v", host.Name, err)
	}
	if err := resp.Diagnostics.Err(); err != nil {
		t.Errorf("ValidateHost(%s) finds the host the suite runs on invalid: %v", host.Name, err)
	}
	for _, d := range resp.Diagnostics {
		if len(d.Attribute) > 0 && !slices.ContainsFunc(desc.HostSchema.Attributes, func(a sdk.Attribute) bool { return a.Name == d.Attribute[0] }) {
			t.Errorf("ValidateHost diagnostic %q names %q, which the host schema does not declare", d.Summary, d.Attribute)
		}
	}
}

type conformance struct {
	tr   sdk.Transport
	host sdk.Host
	wait time.Duration
	// signals says tr declares the Signal capability.
	signals bool

	// files is tr's FileTransport, when it declares file transfers.
	files sdk.FileTransport

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

// start starts req. An Exec still running when the test ends, having
// hung, is cancelled then and waited for (within the suite's wait), so
// that it does not hold the transport up for the checks that follow.
func (c *conformance) start(t *testing.T, req *sdk.ExecRequest) *Running {
	ctx, cancel := context.WithCancel(context.Background())
	run := StartExec(ctx, c.tr, req)
	t.Cleanup(func() {
		cancel()
		timer := time.NewTimer(c.wait)
		defer timer.Stop()
		select {
		case <-run.Done():
		case <-timer.C:
			t.Logf("Exec(%q) did not return within %s of its cancellation either", req.Command, c.wait)
		}
	})
	return run
}

// run runs command and fails the test on an Exec error.
func (c *conformance) run(t *testing.T, req *sdk.ExecRequest) Result {
	t.Helper()
	r := c.start(t, req).Wait(t, c.wait)
	if r.Err != nil {
		t.Fatalf("Exec(%q): %v", req.Command, r.Err)
	}
	return r
}

// tempDir makes a directory on the host, removed when t ends.
func (c *conformance) tempDir(t *testing.T) string {
	t.Helper()
	dir := strings.TrimSpace(c.run(t, c.request("mktemp -d")).Stdout.String())
	if dir == "" {
		t.Fatal("mktemp -d printed nothing")
	}
	t.Cleanup(func() { c.run(t, c.request("rm -rf '"+dir+"'")) })
	return dir
}

func (c *conformance) exitCodes(t *testing.T) {
	for _, code := range []int{0, 1, 3, 255} {
		r := c.run(t, c.request(fmt.Sprintf("exit %d", code)))
		if r.Resp.ExitCode != code || r.Resp.Signal != "" || r.Resp.TimedOut {
			t.Errorf("exit %d: response %+v", code, *r.Resp)
		}
	}
}

func (c *conformance) stdoutStderr(t *testing.T) {
	r := c.run(t, c.request("echo out1; echo err1 >&2; echo out2; echo err2 >&2"))
	if got := r.Stdout.String(); got != "out1\nout2\n" {
		t.Errorf("stdout = %q, want %q", got, "out1\nout2\n")
	}
	if got := r.Stderr.String(); got != "err1\nerr2\n" {
		t.Errorf("stderr = %q, want %q", got, "err1\nerr2\n")
	}
}

func (c *conformance) env(t *testing.T) {
	req := c.request(`printf '%s|%s' "$FANOUT_CONFORMANCE_A" "$FANOUT_CONFORMANCE_B"`)
	req.Env = map[string]string{"FANOUT_CONFORMANCE_A": "two words", "FANOUT_CONFORMANCE_B": `it's "quoted" $HOME`}
	r := c.run(t, req)
	if want := `two words|it's "quoted" $HOME`; r.Stdout.String() != want {
		t.Errorf("stdout = %q, want %q", r.Stdout.String(), want)
	}
}

func (c *conformance) stdin(t *testing.T) {
	r := c.run(t, c.request("cat; echo end"))
	if r.Stdout.String() != "end\n" {
		t.Errorf("stdout = %q, want only %q: stdin must be empty", r.Stdout.String(), "end\n")
	}
}

func (c *conformance) streamAndCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := StartExec(ctx, c.tr, c.request("sleep 30 & echo ready $!; wait; echo too-late"))
	// "ready" can only arrive now if output streams as it is produced.
	run.Seen(t, "ready ", c.wait)
	child := childPID(t, run.Stdout.String())
	start := time.Now()
	cancel()
	r := run.Wait(t, c.wait)
	if r.Err == nil {
		t.Errorf("Exec returned %+v after its ctx was cancelled, want an error", *r.Resp)
	} else if !errors.Is(r.Err, context.Canceled) {
		t.Errorf("Exec error = %v, want one matching context.Canceled", r.Err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Exec took %s to return after cancel", took)
	}
	if strings.Contains(r.Stdout.String(), "too-late") {
		t.Error("the command ran to its end despite the cancel")
	}
	c.childGone(t, child, "cancel")
}

// childPID reads the pid a check's command printed after "ready ".
func childPID(t *testing.T, out string) string {
	t.Helper()
	_, rest, _ := strings.Cut(out, "ready ")
	pid, _, _ := strings.Cut(rest, "\n")
	if _, err := strconv.Atoi(pid); err != nil {
		t.Fatalf("the command printed %q, want \"ready PID\"", out)
	}
	return pid
}

// childGone checks, through the transport, that the command's child pid
// is gone, within the suite's wait, after the command was stopped (how
// names what stopped it): a transport must stop the command's whole
// process group, not only its shell, or what the command started runs on
// unseen beside the rollback that undoes it.
func (c *conformance) childGone(t *testing.T, pid, how string) {
	t.Helper()
	deadline := time.Now().Add(c.wait)
	for {
		out := c.run(t, c.request("kill -0 "+pid+" 2>/dev/null && echo alive || echo gone")).Stdout.String()
		if strings.TrimSpace(out) == "gone" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("after the %s, the command's background child %s still runs: stop the command's whole process group, not only its shell", how, pid)
			c.run(t, c.request("kill -9 "+pid+" 2>/dev/null; true"))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// backgroundChild: a command that leaves a child holding its stdout
// (`sleep 30 & echo x`, a daemon started by a task) has ended when its
// shell exits. Exec must then return, after at most a bounded grace for
// the output still in flight, with the shell's exit status: it must not
// wait for the child, which may run for ever. (fanout's local transport
// waits 1s for the output, then stops reading it and leaves the child.)
func (c *conformance) backgroundChild(t *testing.T) {
	hold := max(30*time.Second, 2*c.wait)
	cmd := fmt.Sprintf("sleep %d & echo x", int(hold.Seconds()))
	start := time.Now()
	r := c.run(t, c.request(cmd))
	if r.Resp.ExitCode != 0 || r.Resp.Signal != "" {
		t.Errorf("response = %+v, want exit 0, the shell's", *r.Resp)
	}
	if got := r.Stdout.String(); got != "x\n" {
		t.Errorf("stdout = %q, want %q", got, "x\n")
	}
	if took := time.Since(start); took >= hold {
		t.Errorf("Exec took %s: it waited for the background child", took)
	}
}

// failingWriter: when writing a command's output fails (fanout could not
// deliver it), Exec stops the command and returns an error.
func (c *conformance) failingWriter(t *testing.T) {
	dir := c.tempDir(t)
	pidFile := dir + "/pid"
	// The shell records its pid, prints, then becomes a long sleep under
	// the same pid, so that the pid says whether the command still runs.
	cmd := fmt.Sprintf("echo $$ > '%s'; echo x; exec sleep 30", pidFile)
	var failed atomic.Bool
	out := sdk.ExecOutput{Stdout: writerFunc(func([]byte) (int, error) {
		failed.Store(true)
		return 0, errWrite
	})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.tr.Exec(ctx, c.request(cmd), out)
		done <- err
	}()
	timer := time.NewTimer(c.wait)
	defer timer.Stop()
	select {
	case err := <-done:
		cancel()
		if err == nil {
			t.Error("Exec returned no error when writing its output failed")
		}
	case <-timer.C:
		// Cancelled and waited for, as start does, before the next check.
		cancel()
		select {
		case _ = <-done: // its error does not matter now: it hung
		case <-time.After(c.wait):
		}
		t.Fatalf("Exec did not return within %s after writing its output failed: it must stop the command then "+
			"(%s)", c.wait, hangHint)
	}
	if !failed.Load() {
		t.Fatal("the command's output was never written")
	}
	pid := strings.TrimSpace(c.run(t, c.request("cat '"+pidFile+"'")).Stdout.String())
	if pid == "" {
		t.Fatal("the command did not record its pid")
	}
	Eventually(t, c.wait, "the command (pid "+pid+") to be stopped after its output failed", func() bool {
		r := c.run(t, c.request("kill -0 "+pid+" 2>/dev/null"))
		return r.Resp.ExitCode != 0
	})
}

var errWrite = errors.New("sdktest: this writer fails")

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *conformance) timeout(t *testing.T) {
	req := c.request("sleep 30 & echo ready $!; wait")
	req.Timeout = 500 * time.Millisecond
	start := time.Now()
	r := c.run(t, req)
	if !r.Resp.TimedOut {
		t.Errorf("response = %+v, want TimedOut", *r.Resp)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a 500ms timeout took %s", took)
	}
	c.childGone(t, childPID(t, r.Stdout.String()), "timeout")
}

func (c *conformance) signal(t *testing.T) {
	req := c.request("echo ready; sleep 30")
	run := c.start(t, req)
	run.Seen(t, "ready\n", c.wait)
	if _, err := c.tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: req.ID, Signal: "TERM"}); err != nil {
		t.Fatalf("Signal: %v", err)
	}
	r := run.Wait(t, c.wait)
	if r.Err != nil {
		t.Fatalf("Exec: %v", r.Err)
	}
	if r.Resp.ExitCode == 0 && r.Resp.Signal == "" {
		t.Errorf("response = %+v, want the command ended by TERM", *r.Resp)
	}
	if r.Resp.Signal != "" && r.Resp.Signal != "TERM" {
		t.Errorf("Signal = %q, want \"TERM\" (sdk.SignalName's form)", r.Resp.Signal)
	}
	if _, err := c.tr.Signal(context.Background(), &sdk.SignalRequest{ExecID: req.ID, Signal: "TERM"}); err != nil {
		t.Errorf("Signal of a finished exec: %v, want no error", err)
	}
}

func (c *conformance) concurrent(t *testing.T) {
	const n = 10
	dir := c.tempDir(t)
	// Each command waits until all n have started: they succeed only if
	// the transport runs them at once.
	runs := make([]*Running, n)
	for i := range n {
		cmd := fmt.Sprintf(`touch '%s/%d'; i=0
while [ "$(ls '%s' | wc -l)" -lt %d ]; do i=$((i+1)); [ $i -gt 1000 ] && exit 1; sleep 0.01; done`, dir, i, dir, n)
		runs[i] = c.start(t, c.request(cmd))
	}
	for i, run := range runs {
		r := run.Wait(t, c.wait)
		switch {
		case r.Err != nil:
			t.Errorf("exec %d: %v", i, r.Err)
		case r.Resp.ExitCode != 0:
			t.Errorf("exec %d: exit %d: not all %d commands ran at once", i, r.Resp.ExitCode, n)
		}
	}
}

func (c *conformance) close(t *testing.T) {
	run := c.start(t, c.request("echo ready; sleep 30"))
	run.Seen(t, "ready\n", c.wait)
	ctx, cancel := context.WithTimeout(context.Background(), c.wait)
	defer cancel()
	if _, err := c.tr.Close(ctx, &sdk.CloseRequest{}); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close terminates what still runs: the Exec ends, however it reports it.
	run.Wait(t, c.wait)
}

// validIdentifier reports whether name is an HCL identifier, as fanout
// checks a schema's names (hclsyntax.ValidIdentifier): a letter or _ first,
// then letters, digits, _ and -.
func validIdentifier(name string) bool {
	for i, r := range name {
		switch {
		case r == '_', unicode.IsLetter(r):
		case i > 0 && (r == '-' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return name != ""
}

package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// testSetup is a transport under test: impl is the Transport itself, tr the
// same one reached through the real gRPC path of sdktest.Harness.
type testSetup struct {
	t     *testing.T
	fleet *sshtest.Fleet
	impl  *Transport
	tr    sdk.Transport
}

// setupOpts shape a test transport.
type setupOpts struct {
	// settings are transport block attributes; known_hosts defaults to
	// the fleet's file.
	settings map[string]cty.Value
	// noAgent hides the fleet's agent (SSH_AUTH_SOCK unset).
	noAgent bool
	// direct skips the gRPC harness: tr is impl.
	direct bool
	// logger replaces the test logger (FANOUT_LOG=1 shows it).
	logger hclog.Logger
}

func testLogger() hclog.Logger {
	if os.Getenv("FANOUT_LOG") == "" {
		return hclog.NewNullLogger()
	}
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: os.Stderr})
}

// newTransport returns a configured transport for fleet. Its environment
// is the fleet's: the agent (unless noAgent), an empty home (no
// ~/.ssh/config, no default keys), the fleet's user.
func newTransport(t *testing.T, fleet *sshtest.Fleet, o setupOpts) *testSetup {
	t.Helper()
	logger := o.logger
	if logger == nil {
		logger = testLogger()
	}
	impl := New(logger)
	agentSock := fleet.AgentSocket
	if o.noAgent {
		agentSock = ""
	}
	impl.env = environment{
		getenv: func(k string) string {
			if k == "SSH_AUTH_SOCK" {
				return agentSock
			}
			return ""
		},
		home: t.TempDir(),
		user: fleet.User,
	}
	s := &testSetup{t: t, fleet: fleet, impl: impl, tr: impl}
	if !o.direct {
		s.tr = sdktest.NewHarness(t, impl).Transport()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := impl.Close(ctx, &sdk.CloseRequest{}); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	settings := map[string]cty.Value{"known_hosts": cty.ListVal([]cty.Value{cty.StringVal(fleet.KnownHosts)})}
	for k, v := range o.settings {
		settings[k] = v
	}
	resp, err := s.tr.Configure(context.Background(), &sdk.ConfigureRequest{Config: object(t, transportSchema(), settings)})
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if resp.Diagnostics.HasErrors() {
		t.Fatalf("Configure: %v", resp.Diagnostics.Err())
	}
	return s
}

// object builds a value of schema's object type: given attributes set,
// the others null.
func object(t *testing.T, schema sdk.Schema, attrs map[string]cty.Value) cty.Value {
	t.Helper()
	vals := map[string]cty.Value{}
	for _, a := range schema.Attributes {
		if v, ok := attrs[a.Name]; ok {
			vals[a.Name] = v
		} else {
			vals[a.Name] = cty.NullVal(a.Type)
		}
	}
	for k := range attrs {
		if _, ok := vals[k]; !ok {
			t.Fatalf("attribute %q is not in the schema", k)
		}
	}
	return cty.ObjectVal(vals)
}

// host returns the sdk.Host of a fleet host: its name, its address, its
// port as a host setting, plus extra settings.
func (s *testSetup) host(h *sshtest.Host, extra map[string]cty.Value) sdk.Host {
	attrs := map[string]cty.Value{"port": cty.NumberIntVal(int64(h.Port))}
	for k, v := range extra {
		attrs[k] = v
	}
	return sdk.Host{Name: h.Name, Address: h.Addr, Config: object(s.t, hostSchema(), attrs)}
}

func (s *testSetup) connect(h sdk.Host) error {
	_, err := s.tr.Connect(context.Background(), &sdk.ConnectRequest{Host: h})
	return err
}

// newConnected returns a transport for fleet (as newTransport) connected
// to the fleet's first host, and that host; it fails the test unless
// Connect succeeds.
func newConnected(t *testing.T, fleet *sshtest.Fleet, o setupOpts) (*testSetup, *sshtest.Host) {
	t.Helper()
	s := newTransport(t, fleet, o)
	h := fleet.Hosts[0]
	if err := s.connect(s.host(h, nil)); err != nil {
		t.Fatal(err)
	}
	return s, h
}

// result is what an Exec returned, with its output.
type result struct {
	resp   *sdk.ExecResponse
	err    error
	stdout string
	stderr string
}

var execSeq struct {
	sync.Mutex
	n int
}

func nextID() string {
	execSeq.Lock()
	defer execSeq.Unlock()
	execSeq.n++
	return "exec-" + strconv.Itoa(execSeq.n)
}

// exec runs command on host through the transport.
func (s *testSetup) exec(ctx context.Context, host, command string, mod func(*sdk.ExecRequest)) result {
	req := &sdk.ExecRequest{ID: nextID(), Host: host, Command: command}
	if mod != nil {
		mod(req)
	}
	return s.execReq(ctx, req)
}

// execReq runs req through the transport.
func (s *testSetup) execReq(ctx context.Context, req *sdk.ExecRequest) result {
	var stdout, stderr sdktest.Output
	resp, err := s.tr.Exec(ctx, req, sdk.ExecOutput{Stdout: &stdout, Stderr: &stderr})
	return result{resp: resp, err: err, stdout: stdout.String(), stderr: stderr.String()}
}

// execRunning starts command on host through the transport and returns
// once the host runs it (a process's command line contains command);
// receive waits for the Exec's result.
func (s *testSetup) execRunning(host, command string) *sdktest.Running {
	s.t.Helper()
	run := sdktest.StartExec(context.Background(), s.tr, &sdk.ExecRequest{ID: nextID(), Host: host, Command: command})
	sdktest.Eventually(s.t, 5*time.Second, fmt.Sprintf("%q to run on %s", command, host), func() bool {
		return len(s.fleet.Processes(s.t, command)) > 0
	})
	return run
}

// mustExec runs command and fails the test unless it exits 0.
func (s *testSetup) mustExec(host, command string) string {
	s.t.Helper()
	r := s.exec(context.Background(), host, command, nil)
	if r.err != nil {
		s.t.Fatalf("%s: %q: %v", host, command, r.err)
	}
	if r.resp.ExitCode != 0 {
		s.t.Fatalf("%s: %q: exit %d, stderr %q", host, command, r.resp.ExitCode, r.stderr)
	}
	return r.stdout
}

// loadedMargin bounds what takes milliseconds on an idle machine and may
// take seconds on a loaded CI machine under -race: an upper bound of a
// test is there to tell "done by the mechanism under test" from "done by
// a later one" (a default timeout, a TCP timeout, never), not to measure.
const loadedMargin = 10 * time.Second

// receive returns how run's Exec returned, failing the test at once if
// it has not within 60 s: no test waits forever.
func receive(t *testing.T, run *sdktest.Running) result {
	t.Helper()
	r := run.Wait(t, 60*time.Second)
	return result{resp: r.Resp, err: r.Err, stdout: r.Stdout.String(), stderr: r.Stderr.String()}
}

// marker returns a command-line-unique sleep duration, so that a test finds
// its own remote process and nothing else.
func marker() string {
	return fmt.Sprintf("%d.%06d", 3000+time.Now().UnixNano()%1000, time.Now().UnixNano()%1000000)
}

// onEachServer runs test, in parallel, as a subtest for each of servers,
// with a fleet of one host on that server and a transport connected to it
// (see newConnected).
func onEachServer(t *testing.T, test func(t *testing.T, server sshtest.Server, f *sshtest.Fleet, s *testSetup, h *sshtest.Host)) {
	t.Helper()
	for _, server := range servers {
		t.Run(string(server), func(t *testing.T) {
			t.Parallel()
			f := sshtest.Start(t, sshtest.Options{Server: server})
			s, h := newConnected(t, f, setupOpts{})
			test(t, server, f, s, h)
		})
	}
}

// killAll kills (KILL) the fleet's processes whose command line contains
// substr: a test's command it ends itself or leaves at cleanup.
func killAll(t *testing.T, f *sshtest.Fleet, substr string) {
	for _, pid := range f.Processes(t, substr) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// sshClient returns OpenSSH's ssh, which tests compare fanout with, or
// skips t where it is not installed.
func sshClient(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no ssh client (make test-deps installs openssh-client)")
	}
	return bin
}

// newEd25519Signer is a fresh Ed25519 key, for tests that need one no
// server or agent holds.
func newEd25519Signer(t *testing.T) ssh.Signer {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

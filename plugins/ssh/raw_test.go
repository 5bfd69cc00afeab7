package ssh

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// applianceCLI stands in for a device with no /bin/sh of its own (a
// switch, a router): sshd's ForceCommand hands it every command, which it
// reads as its own language, as such a device's login shell does.
const applianceCLI = `#!/bin/sh
case $SSH_ORIGINAL_COMMAND in
"show version") echo "ApplianceOS 1.0" ;;
"show host") echo "host=$FANOUT_HOST" ;;
"show fail") echo "% failed" >&2; exit 3 ;;
"load") cat ;;
*) echo "% Unknown command: $SSH_ORIGINAL_COMMAND" >&2; exit 1 ;;
esac
`

// applianceFleet starts an OpenSSH host whose commands all go to
// applianceCLI, and which takes the FANOUT_* variables (AcceptEnv).
func applianceFleet(t *testing.T) *sshtest.Fleet {
	t.Helper()
	cli := filepath.Join(t.TempDir(), "cli")
	if err := os.WriteFile(cli, []byte(applianceCLI), 0o755); err != nil {
		t.Fatal(err)
	}
	return sshtest.Start(t, sshtest.Options{SSHDConfig: "ForceCommand " + cli + "\nAcceptEnv FANOUT_*\n"})
}

// TestRawAppliance: with raw, a device that reads commands in its own
// language runs them as given, with the FANOUT_* variables its server
// accepts, stdin, and a command list one session per command; without
// raw, fanout's /bin/sh wrapper is what it gets, and refuses.
func TestRawAppliance(t *testing.T) {
	t.Parallel()
	f := applianceFleet(t)
	h := f.Hosts[0]
	raw := cty.BoolVal(true)

	plain := newTransport(t, f, setupOpts{})
	if err := plain.connect(plain.host(h, nil)); err != nil {
		t.Fatal(err)
	}
	r := plain.exec(context.Background(), h.Name, "show version", nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "wrapper did not run") || !strings.Contains(r.err.Error(), "raw = true") ||
		!strings.Contains(r.stderr, "% Unknown command: exec /bin/sh") {
		t.Fatalf("without raw: %+v, %v, stderr %q; want the device to refuse fanout's wrapper and the error to name raw = true (the case is wrong)", r.resp, r.err, r.stderr)
	}

	// raw set on the host block here, on the transport block below.
	s := newTransport(t, f, setupOpts{})
	if err := s.connect(s.host(h, map[string]cty.Value{"raw": raw})); err != nil {
		t.Fatal(err)
	}
	viaTransport := newTransport(t, f, setupOpts{settings: map[string]cty.Value{"raw": raw}})
	if err := viaTransport.connect(viaTransport.host(h, nil)); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		s      *testSetup
		req    sdk.ExecRequest
		stdout string
		exit   int
		index  int
	}{
		{name: "a command", s: s, req: sdk.ExecRequest{Command: "show version"}, stdout: "ApplianceOS 1.0\n"},
		{name: "raw on the transport", s: viaTransport, req: sdk.ExecRequest{Command: "show version"}, stdout: "ApplianceOS 1.0\n"},
		{name: "FANOUT_* as env requests", s: s, req: sdk.ExecRequest{Command: "show host", Env: map[string]string{"FANOUT_HOST": "sw1"}}, stdout: "host=sw1\n"},
		{name: "stdin, then its end", s: s, req: sdk.ExecRequest{Command: "load", Stdin: []byte("interface eth0\n shutdown\n")}, stdout: "interface eth0\n shutdown\n"},
		{name: "a list stops at its first failure", s: s, req: sdk.ExecRequest{Commands: []string{"show version", "show fail", "show version"}}, stdout: "ApplianceOS 1.0\n", exit: 3, index: 1},
		{name: "a list to its end", s: s, req: sdk.ExecRequest{Commands: []string{"show version", "show host"}}, stdout: "ApplianceOS 1.0\nhost=\n", index: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.ID, req.Host = nextID(), h.Name
			r := tt.s.execReq(context.Background(), &req)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.stdout != tt.stdout || r.resp.ExitCode != tt.exit || r.resp.Command != tt.index || r.resp.Signal != "" {
				t.Errorf("stdout %q, %+v (stderr %q); want stdout %q, exit %d, command %d", r.stdout, *r.resp, r.stderr, tt.stdout, tt.exit, tt.index)
			}
		})
	}

	r = s.exec(context.Background(), h.Name, "show version", func(r *sdk.ExecRequest) {
		r.Env = map[string]string{"FANOUT_HOST": "sw1", "RELEASE": "42"}
	})
	if r.err == nil || !strings.Contains(r.err.Error(), "raw = true") || !strings.Contains(r.err.Error(), "RELEASE") || r.stdout != "" {
		t.Errorf("env RELEASE on a raw host: %v, stdout %q; want an error naming RELEASE and raw, nothing run", r.err, r.stdout)
	}
}

// TestRawStop: a raw command is stopped by SSH signal requests. dropbear
// delivers them (to the shell, which `sleep` replaced here); OpenSSH
// refuses them for root logins, which ends the wait at once: the
// connection is closed, as ssh's is when interrupted, without the graces
// for TERM and KILL, and the next command connects again.
func TestRawStop(t *testing.T) {
	t.Parallel()
	for _, server := range servers {
		t.Run(string(server), func(t *testing.T) {
			t.Parallel()
			f := sshtest.Start(t, sshtest.Options{Server: server})
			s := newTransport(t, f, setupOpts{settings: map[string]cty.Value{"raw": cty.BoolVal(true)}})
			h := f.Hosts[0]
			if err := s.connect(s.host(h, nil)); err != nil {
				t.Fatal(err)
			}
			m := marker()
			t.Cleanup(func() { killAll(t, f, "sleep "+m) })
			start := time.Now()
			r := s.exec(context.Background(), h.Name, "sleep "+m, func(r *sdk.ExecRequest) { r.Timeout = 300 * time.Millisecond })
			took := time.Since(start)
			if r.err != nil || !r.resp.TimedOut {
				t.Fatalf("got %+v, %v; want timed out", r.resp, r.err)
			}
			refused := f.User == "root" && server == sshtest.OpenSSH
			switch {
			case refused && took >= termGrace+killGrace:
				t.Errorf("took %s: the server refused the signals, the session should close at once", took)
			case refused && !strings.Contains(r.stderr, "refused the signal") || refused && !strings.Contains(r.stderr, "may still run there"):
				t.Errorf("stderr %q: want it to say the command may still run", r.stderr)
			case !refused && r.resp.Signal != "TERM":
				t.Errorf("got %+v; want ended by TERM", *r.resp)
			case !refused:
				sdktest.Eventually(t, 5*time.Second, "the command to end", func() bool { return len(f.Processes(t, "sleep "+m)) == 0 })
			}
			// Closed or not, the host's connection serves the next command.
			if out := s.mustExec(h.Name, "echo next"); out != "next\n" {
				t.Errorf("next command: %q", out)
			}
		})
	}
}

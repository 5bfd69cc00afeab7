package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// TestSecretsOffCommandLine runs a command with a sensitive environment
// value on a real sshd of this machine: while it runs, no process's
// command line (what every user sees in ps) shows the value, nor the
// command's own text; the command still sees the value.
func TestSecretsOffCommandLine(t *testing.T) {
	t.Parallel()
	onEachServer(t, func(t *testing.T, server sshtest.Server, f *sshtest.Fleet, s *testSetup, h *sshtest.Host) {
		secret, comment := randomHex(t), randomHex(t)
		// A duration of its own, to find this process (see marker);
		// killed once ps has been read.
		sleep := "sleep " + marker()
		t.Cleanup(func() { killAll(t, f, sleep) })
		run := sdktest.StartExec(context.Background(), s.tr, &sdk.ExecRequest{ID: nextID(), Host: h.Name,
			Command: sleep + ` # ` + comment + "\n" + `printf %s "$DB_PASSWORD"`, Env: map[string]string{"DB_PASSWORD": secret}})
		sdktest.Eventually(t, 30*time.Second, "the command to start", func() bool { return len(f.ProcessesRunning(t, sleep)) > 0 })
		ps, err := exec.Command("ps", "-eo", "args").Output()
		killAll(t, f, sleep)
		if err != nil {
			t.Fatalf("ps: %v", err)
		}
		if !bytes.Contains(ps, []byte(sleep)) {
			t.Fatalf("ps -eo args does not show %q: cannot tell what it shows", sleep)
		}
		if bytes.Contains(ps, []byte(secret)) {
			t.Errorf("ps -eo args shows the value of DB_PASSWORD:\n%s", grepLines(ps, secret))
		}
		if bytes.Contains(ps, []byte(comment)) {
			t.Errorf("ps -eo args shows the command's text:\n%s", grepLines(ps, comment))
		}
		r := receive(t, run)
		if r.err != nil || r.resp.ExitCode != 0 || r.stdout != secret {
			t.Errorf("got %+v, %v, stdout %q; want exit 0 and the value", r.resp, r.err, r.stdout)
		}
	})
}

// TestCommandList runs command lists in one Exec on real servers: each
// command as its own `sh -c` would run (nothing carries over but the
// environment), the first failure ending the list and named by its index,
// with its exit status or signal, the output whole and without markers,
// and all of it in one shell of one session.
func TestCommandList(t *testing.T) {
	t.Parallel()
	onEachServer(t, func(t *testing.T, server sshtest.Server, f *sshtest.Fleet, s *testSetup, h *sshtest.Host) {
		home := s.mustExec(h.Name, "pwd")
		for _, tt := range []struct {
			name     string
			commands []string
			stdout   string
			stderr   string
			command  int
			exit     int
			signal   string
		}{
			{
				name:     "all succeed, nothing carries over",
				commands: []string{"echo one", `cd /; X=2; set -- a b; echo two >&2`, `pwd; echo "${X:-unset} $T $# $0"`},
				stdout:   "one\n" + home + "unset v 0 sh\n",
				stderr:   "two\n",
				command:  2,
			},
			{name: "the second fails", commands: []string{"echo a", "exit 3", "echo never"}, stdout: "a\n", command: 1, exit: 3},
			{name: "the last fails", commands: []string{"true", "echo b; false"}, stdout: "b\n", command: 1, exit: 1},
			{name: "a status above 128 is a status", commands: []string{"exit 130", "true"}, command: 0, exit: 130},
			{name: "a signal is a signal", commands: []string{"true", `exec sh -c 'kill -TERM $$'`, "true"}, command: 1, exit: -1, signal: "TERM"},
			{name: "output without newlines", commands: []string{"printf x", "printf y >&2", "printf z"}, stdout: "xz", stderr: "y", command: 2},
			{name: "one shell", commands: []string{"echo $$", "echo $$", "echo $$"}, command: 2},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := s.execReq(context.Background(), &sdk.ExecRequest{ID: nextID(), Host: h.Name, Commands: tt.commands, Env: map[string]string{"T": "v"}})
				if r.err != nil {
					t.Fatal(r.err)
				}
				if tt.name == "one shell" {
					pids := strings.Fields(r.stdout)
					if len(pids) != 3 || pids[0] != pids[1] || pids[1] != pids[2] {
						t.Errorf("the commands ran in shells %q, want one", pids)
					}
					tt.stdout = r.stdout
				}
				if r.resp.Command != tt.command || r.resp.ExitCode != tt.exit || r.resp.Signal != tt.signal || r.resp.TimedOut {
					t.Errorf("response %+v, want command %d, exit %d, signal %q", *r.resp, tt.command, tt.exit, tt.signal)
				}
				if r.stdout != tt.stdout || r.stderr != tt.stderr {
					t.Errorf("stdout %q, stderr %q; want %q, %q", r.stdout, r.stderr, tt.stdout, tt.stderr)
				}
			})
		}
		t.Run("timeout", func(t *testing.T) {
			sleep := "sleep " + marker()
			start := time.Now()
			r := s.execReq(context.Background(), &sdk.ExecRequest{ID: nextID(), Host: h.Name, Commands: []string{"true", sleep, "echo never"}, Timeout: 500 * time.Millisecond})
			if r.err != nil || !r.resp.TimedOut || r.resp.Command != 1 || r.stdout != "" {
				t.Errorf("got %+v, %v, stdout %q; want the second command timed out", r.resp, r.err, r.stdout)
			}
			if took := time.Since(start); took > termGrace+loadedMargin {
				t.Errorf("took %s", took)
			}
			sdktest.Eventually(t, 5*time.Second, sleep+" to end after the timeout", func() bool { return len(f.ProcessesRunning(t, sleep)) == 0 })
		})
	})
}

// TestProgress feeds the markers of a command list to progress cut at
// every byte: they are read and removed, the rest passes unchanged.
func TestProgress(t *testing.T) {
	p, nonce := newProgress()
	m := func(s string) string { return "\037fanout:" + nonce + ":" + s + "\n" }
	in := "a\037b" + m("s 1") + "out\x1ffanout:" + m("e 1 130") + "tail\x1f"
	var got bytes.Buffer
	p.w = &got
	for i := range len(in) {
		if _, err := p.Write([]byte{in[i]}); err != nil {
			t.Fatal(err)
		}
	}
	p.flush()
	if want := "a\037bout\x1ffanout:tail\x1f"; got.String() != want {
		t.Errorf("output %q, want %q", got.String(), want)
	}
	if p.current != 1 || p.exited != 1 || p.status != 130 {
		t.Errorf("current %d, exited %d, status %d; want 1, 1, 130", p.current, p.exited, p.status)
	}
}

func randomHex(t *testing.T) string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// grepLines returns the lines of out that contain s.
func grepLines(out []byte, s string) string {
	var b strings.Builder
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, s) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestCommandListLargeOutput: a command list's output, read in growing
// pieces through the marker filter, arrives whole and in order, the
// markers gone, however the reads cut it.
func TestCommandListLargeOutput(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{})
	s, h := newConnected(t, f, setupOpts{})
	r := s.execReq(context.Background(), &sdk.ExecRequest{ID: nextID(), Host: h.Name,
		Commands: []string{"seq 1 200000", "seq 5 7", "seq 1 100000"}})
	if r.err != nil || r.resp.ExitCode != 0 {
		t.Fatalf("Exec: %+v, %v", r.resp, r.err)
	}
	var want strings.Builder
	for _, c := range [][2]int{{1, 200000}, {5, 7}, {1, 100000}} {
		for i := c[0]; i <= c[1]; i++ {
			fmt.Fprintf(&want, "%d\n", i)
		}
	}
	if r.stdout != want.String() {
		t.Errorf("stdout: %d bytes, want %d, the same", len(r.stdout), want.Len())
	}
}

package ssh

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// allBytes holds every byte value, NUL, newline, quote, backslash and
// percent among them, and ends without a newline.
func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestStdin runs commands with ExecRequest.Stdin on real servers: the
// bytes arrive exactly, whatever they are, as each command's stdin (each
// command of a list reads all of them, as each would alone), the command
// keeps its own exit status and signal, and a nil Stdin is still an empty
// stdin.
func TestStdin(t *testing.T) {
	t.Parallel()
	large := make([]byte, 300<<10) // more than a pipe holds
	r := rand.NewChaCha8([32]byte{15})
	_, _ = r.Read(large)
	largeSum := sha256.Sum256(large)
	onEachServer(t, func(t *testing.T, server sshtest.Server, f *sshtest.Fleet, s *testSetup, h *sshtest.Host) {
		for _, tt := range []struct {
			name     string
			command  string
			commands []string
			stdin    []byte
			stdout   string
			index    int
			exit     int
			signal   string
		}{
			{name: "every byte value", command: "cat", stdin: allBytes(), stdout: string(allBytes())},
			{name: "no trailing newline", command: `cat; echo "|$0|$#"`, stdin: []byte("pass word"), stdout: "pass word|sh|0\n"},
			{name: "a line, read by read", command: `read -r x; printf '<%s>' "$x"; cat`, stdin: []byte("s3cr'et %s \\n\nrest"), stdout: "<s3cr'et %s \\n>rest"},
			{name: "empty", command: "cat; echo end", stdin: []byte{}, stdout: "end\n"},
			{name: "nil is empty", command: "cat; echo end", stdout: "end\n"},
			{name: "large", command: "sha256sum | cut -c1-64", stdin: large, stdout: hex.EncodeToString(largeSum[:]) + "\n"},
			{name: "large, not read", command: "exit 4", stdin: large, exit: 4},
			{name: "a status above 128 is a status", command: "cat >/dev/null; exit 130", stdin: []byte("x"), exit: 130},
			{name: "a signal is a signal", command: `exec sh -c 'kill -TERM $$'`, stdin: []byte("x"), exit: -1, signal: "TERM"},
			{name: "each command of a list reads it all", commands: []string{"cat", "echo; cat", "wc -c"}, stdin: []byte("ab"), stdout: "ab\nab2\n", index: 2},
			{name: "a list stops at the first failure", commands: []string{"cat", "read -r x; exit 3", "echo never"}, stdin: []byte("ab"), stdout: "ab", index: 1, exit: 3},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := s.execReq(context.Background(), &sdk.ExecRequest{ID: nextID(), Host: h.Name, Command: tt.command, Commands: tt.commands, Stdin: tt.stdin, Timeout: time.Minute})
				if r.err != nil {
					t.Fatal(r.err)
				}
				if r.resp.Command != tt.index || r.resp.ExitCode != tt.exit || r.resp.Signal != tt.signal || r.resp.TimedOut {
					t.Errorf("response %+v, want command %d, exit %d, signal %q", *r.resp, tt.index, tt.exit, tt.signal)
				}
				if r.stdout != tt.stdout || r.stderr != "" {
					t.Errorf("stdout %q, stderr %q; want %q and nothing", r.stdout, r.stderr, tt.stdout)
				}
			})
		}
		t.Run("timeout", func(t *testing.T) {
			sleep := "sleep " + marker()
			r := s.execReq(context.Background(), &sdk.ExecRequest{ID: nextID(), Host: h.Name, Command: "cat; " + sleep, Stdin: []byte("x"), Timeout: 500 * time.Millisecond})
			if r.err != nil || !r.resp.TimedOut || r.stdout != "x" {
				t.Errorf("got %+v, %v, stdout %q; want it timed out after printing x", r.resp, r.err, r.stdout)
			}
			sdktest.Eventually(t, 5*time.Second, sleep+" to end after the timeout", func() bool { return len(f.ProcessesRunning(t, sleep)) == 0 })
		})
		t.Run("too large", func(t *testing.T) {
			r := s.exec(context.Background(), h.Name, "cat", func(r *sdk.ExecRequest) { r.Stdin = make([]byte, maxStdin+1) })
			if r.err == nil || !strings.Contains(r.err.Error(), "at most") {
				t.Errorf("got %+v, %v; want an error saying how much stdin the transport sends", r.resp, r.err)
			}
		})
	})
}

// TestStdinOffCommandLine runs a command with a secret on its stdin on a
// real sshd of this machine: while it runs, no process's command line or
// environment (what ps shows) holds the secret, nor does any file in the
// host's temporary directories; the command still reads it.
func TestStdinOffCommandLine(t *testing.T) {
	t.Parallel()
	onEachServer(t, func(t *testing.T, server sshtest.Server, f *sshtest.Fleet, s *testSetup, h *sshtest.Host) {
		secret := randomHex(t)
		// A duration of its own (see marker); ended once ps has run.
		sleep := "sleep " + marker()
		t.Cleanup(func() { killAll(t, f, sleep) })
		// More than a pipe holds: what writes it into the command's
		// stdin is still there, blocked, while sleep runs.
		stdin := secret + strings.Repeat("x", 100<<10)
		run := sdktest.StartExec(context.Background(), s.tr, &sdk.ExecRequest{ID: nextID(), Host: h.Name,
			Command: sleep + "; cat", Stdin: []byte(stdin)})
		var pids []int
		sdktest.Eventually(t, 30*time.Second, "the command to start", func() bool {
			pids = f.ProcessesRunning(t, sleep)
			return len(pids) > 0
		})
		ps, err := exec.Command("ps", "-e", "-ww", "-o", "args", "e").Output()
		if err != nil {
			t.Fatalf("ps: %v", err)
		}
		if !bytes.Contains(ps, []byte(sleep)) || !bytes.Contains(ps, []byte("FANOUT_SSHTEST")) {
			t.Fatalf("ps -e -ww -o args e does not show %q and the environment: cannot tell what it shows", sleep)
		}
		if bytes.Contains(ps, []byte(secret)) {
			t.Errorf("ps shows the command's stdin:\n%s", grepLines(ps, secret))
		}
		if out, _ := exec.Command("grep", "-rlF", "--", secret, "/tmp", "/var/tmp", "/dev/shm", f.Dir).Output(); len(out) > 0 {
			t.Errorf("files hold the command's stdin:\n%s", out)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGTERM) // the command goes on to cat
		}
		r := receive(t, run)
		if r.err != nil || r.resp.ExitCode != 0 || r.stdout != stdin {
			t.Errorf("got %+v, %v, stdout of %d bytes; want exit 0 and the stdin", r.resp, r.err, len(r.stdout))
		}
	})
}

func TestPrintfFormat(t *testing.T) {
	got := printfFormat([]byte("a b\x00\n'%\\\xff~"))
	if want := `a b\000\012\047\045\134\377~`; got != want {
		t.Errorf("printfFormat = %s, want %s", got, want)
	}
	// What the shell prints from it, for every byte value.
	out, err := exec.Command("/bin/sh", "-c", `printf "$1"`, "sh", printfFormat(allBytes())).Output()
	if err != nil || !bytes.Equal(out, allBytes()) {
		t.Errorf("/bin/sh's printf prints %q, %v; want every byte value", out, err)
	}
}

// TestStdinNeedsBuiltinPrintf runs the check SCRIPT makes before it
// passes stdin: a shell whose printf is a builtin goes on; one whose
// printf would be exec'd (bash with the builtin disabled stands for mksh,
// say) runs nothing and exits 126, saying why.
func TestStdinNeedsBuiltinPrintf(t *testing.T) {
	out, err := exec.Command("/bin/sh", "-c", builtinPrintf+"echo ran").CombinedOutput()
	if err != nil || string(out) != "ran\n" {
		t.Errorf("/bin/sh: %v, output %q; want it to go on", err, out)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to disable printf in")
	}
	cmd := exec.Command(bash, "-c", "enable -n printf\n"+builtinPrintf+"echo ran")
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 126 || strings.Contains(string(out), "ran") ||
		!strings.Contains(string(out), "no builtin printf") {
		t.Errorf("bash without a builtin printf: %v, output %q; want exit 126 and why, nothing run", err, out)
	}
}

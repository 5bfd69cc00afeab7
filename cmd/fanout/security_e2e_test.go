//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// These tests look at a run as another local user would (issue 18): the
// plugins' sockets, what is left of a killed run, the modes of what fanout
// writes.

// probeSocketEnv makes the test binary, copied where another user can run
// it and run as that user, probe the plugin socket it names instead of
// running tests. It is checked in init, before TestMain builds fanout.
const probeSocketEnv = "FANOUT_E2E_PROBE_SOCKET"

func init() {
	if path := os.Getenv(probeSocketEnv); path != "" {
		os.Exit(probeSocket(path))
	}
}

// probeSocket tries to reach the plugin socket at path and to be answered
// in gRPC, in plaintext and in TLS without the client certificate, as a
// stranger would. It prints "answered: ..." if any call got an answer from
// the server, else "refused: ..." with every reason.
func probeSocket(path string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var reasons []string
	for _, c := range []struct {
		name  string
		creds credentials.TransportCredentials
	}{
		{"plaintext", insecure.NewCredentials()},
		{"TLS without the client certificate", credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})},
	} {
		conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(c.creds))
		if err != nil {
			reasons = append(reasons, c.name+": "+err.Error())
			continue
		}
		// go-plugin serves the health service on every plugin.
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "plugin"}, grpc.WaitForReady(false))
		_ = conn.Close() // the answer, or its absence, is what counts
		// Any status but the transport's own failures came from the
		// plugin's server: it answered.
		if code := status.Code(err); err == nil || (code != codes.Unavailable && code != codes.DeadlineExceeded) {
			fmt.Printf("answered: %s: %v %v\n", c.name, resp, err)
			return 0
		}
		reasons = append(reasons, c.name+": "+err.Error())
	}
	fmt.Printf("refused: %s\n", strings.Join(reasons, "; "))
	return 0
}

// strangerProbe returns a function that probes a socket as user nobody,
// with a copy of the test binary that nobody can run.
func strangerProbe(t *testing.T) func(socket string) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("probing as another user needs root (to run the probe as nobody); CI and the dev box run tests as root")
	}
	dir := openTempDir(t, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "probe")
	copyFile(t, self, bin, 0o755)
	return func(socket string) string {
		cmd := exec.Command(bin)
		cmd.Env = []string{probeSocketEnv + "=" + socket}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("probe as nobody: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

// openTempDir returns a new directory of the given mode (01777 for one as
// shared as /tmp), removed at the end of the test. Not t.TempDir, whose
// parent only root can enter.
func openTempDir(t *testing.T, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fanout-e2e-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }() // read only: nothing to lose
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// securityHCL runs one task on a host of the built-in local transport and
// one of the third-party echo plugin: each marks that it started, then
// waits (at most 30 s) until the test lets it finish.
const securityHCL = `transport "echo" {
  greeting = "hi"
}

host "here" {
  transport = "local"
}

host "box" {
  transport = "echo"
}

task "wait" {
  run = "touch DIR/started-$FANOUT_HOST && i=0 && while [ ! -e DIR/go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done && test -e DIR/go"
}
`

// umaskCommand is e's fanout command, run under the given umask.
func umaskCommand(e *pluginEnv, umask string, args ...string) *exec.Cmd {
	base := e.command(args...)
	cmd := exec.Command("/bin/sh", append([]string{"-c", "umask " + umask + ` && exec "$0" "$@"`, fanoutBin}, args...)...)
	cmd.Dir, cmd.Env = base.Dir, base.Env
	return cmd
}

// listeningSockets returns the paths of the unix sockets process pid has
// open that are bound to a path: found through its file descriptors in
// /proc, wherever the socket file is.
func listeningSockets(t *testing.T, pid int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/unix", pid))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		f := strings.Fields(sc.Text())
		// A listening socket and the connections it accepted share the
		// path: list it once.
		if len(f) == 8 && inodes[f[6]] && strings.HasPrefix(f[7], "/") && !slices.Contains(paths, f[7]) {
			paths = append(paths, f[7])
		}
	}
	return paths
}

// socketsUnder returns every socket file under dir.
func socketsUnder(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSocket != 0 {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// Another local user can neither reach the plugins of a running fanout
// nor be answered by them, whatever the operator's umask; what fanout
// writes is private; nothing of the run's sockets is left after it.
func TestStrangerCannotDrivePlugins(t *testing.T) {
	probe := strangerProbe(t)
	for _, umask := range []string{"000", "022"} {
		t.Run("umask "+umask, func(t *testing.T) {
			tmp := openTempDir(t, 0o1777)
			e := newPluginEnv(t, securityHCL)
			e.extra = append(e.extra, "TMPDIR="+tmp)
			installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
			// Left by an older fanout, or made by hand, too open.
			if err := os.MkdirAll(filepath.Join(e.dir, ".fanout", "runs"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(e.dir, ".fanout", "lock"), nil, 0o644); err != nil {
				t.Fatal(err)
			}

			b := startBG(t, umaskCommand(e, umask, "apply", "main.hcl"))
			for _, h := range []string{"here", "box"} {
				waitForFile(t, filepath.Join(e.dir, "started-"+h))
			}
			pids := childrenOf(b.cmd.Process.Pid)
			if len(pids) != 2 {
				t.Fatalf("plugin processes %v, want local's and echo's", e.leftovers())
			}
			runDirs, _ := filepath.Glob(filepath.Join(tmp, "fanout-0", strconv.Itoa(b.cmd.Process.Pid)+"-*"))
			if len(runDirs) != 1 {
				t.Fatalf("run directories %v, want one", runDirs)
			}
			for _, d := range []string{filepath.Dir(runDirs[0]), runDirs[0]} {
				if m := mode(t, d); m != 0o700 {
					t.Errorf("%s: mode %v, want 0700", d, m)
				}
			}
			for _, pid := range pids {
				socks := listeningSockets(t, pid)
				if len(socks) == 0 {
					t.Errorf("plugin %d has no socket bound to a path", pid)
				}
				for _, s := range socks {
					if filepath.Dir(s) != runDirs[0] {
						t.Errorf("plugin %d's socket %s is outside the run's directory %s", pid, s, runDirs[0])
					}
					if got := probe(s); !strings.HasPrefix(got, "refused: ") {
						t.Errorf("user nobody probing plugin %d's socket %s: %s", pid, s, got)
					}
				}
			}
			if umask == "000" {
				// The directory is one guard; mutual TLS is the other. With
				// the directories opened, the socket (0777 under umask
				// 000) lets nobody connect, and TLS must still refuse it.
				for _, d := range []string{filepath.Dir(runDirs[0]), runDirs[0]} {
					if err := os.Chmod(d, 0o711); err != nil {
						t.Fatal(err)
					}
				}
				for _, pid := range pids {
					for _, s := range listeningSockets(t, pid) {
						got := probe(s)
						if !strings.HasPrefix(got, "refused: ") || strings.Contains(got, "permission denied") {
							t.Errorf("user nobody probing plugin %d's socket %s through opened directories: %s; want TLS to refuse it", pid, s, got)
						}
						t.Logf("nobody -> %s, directories opened: %s", s, got)
					}
				}
				for _, d := range []string{runDirs[0], filepath.Dir(runDirs[0])} {
					if err := os.Chmod(d, 0o700); err != nil {
						t.Fatal(err)
					}
				}
			}

			if err := os.WriteFile(filepath.Join(e.dir, "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if code := b.wait(t, 30*time.Second); code != 0 {
				t.Fatalf("exit %d\n%s", code, b.out)
			}
			if left, _ := os.ReadDir(filepath.Join(tmp, "fanout-0")); len(left) != 0 {
				t.Errorf("left in %s/fanout-0 after the run: %v", tmp, left)
			}
			if s := socketsUnder(tmp); len(s) != 0 {
				t.Errorf("sockets left after the run: %v", s)
			}
			journal := journalOf(t, e.dir)
			for p, want := range map[string]os.FileMode{
				journal:                                 0o600,
				filepath.Dir(journal):                   0o700,
				filepath.Join(e.dir, ".fanout", "lock"): 0o600,
			} {
				if m := mode(t, p); m != want {
					t.Errorf("%s: mode %v, want %v", p, m, want)
				}
			}
			e.assertNoLeftovers(t)
		})
	}
}

// A fanout killed with SIGKILL cleans nothing up; the next run removes
// what it left of its plugins' sockets.
func TestKilledRunSocketsRemovedByNextRun(t *testing.T) {
	tmp := openTempDir(t, 0o1777)
	e := newPluginEnv(t, securityHCL)
	e.extra = append(e.extra, "TMPDIR="+tmp)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	b := startBG(t, e.command("apply", "main.hcl"))
	for _, h := range []string{"here", "box"} {
		waitForFile(t, filepath.Join(e.dir, "started-"+h))
	}
	killed := b.cmd.Process.Pid
	runDirs, _ := filepath.Glob(filepath.Join(tmp, "fanout-*", strconv.Itoa(killed)+"-*"))
	if len(runDirs) != 1 || len(socketsUnder(runDirs[0])) != 2 {
		t.Fatalf("run directories %v holding sockets %v; want one holding the two plugins'", runDirs, socketsUnder(tmp))
	}
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	b.wait(t, 10*time.Second)
	e.assertNoLeftovers(t) // the plugins follow it (parent-death signal)
	if _, err := os.Stat(runDirs[0]); err != nil {
		t.Fatalf("the killed run's directory is already gone (%v): nothing for the next run to do", err)
	}

	next := newPluginEnv(t, `task "quick" {
  run = "true"
}
`)
	next.extra = append(next.extra, "TMPDIR="+tmp)
	if _, stderr, code := next.run(t, "apply", "main.hcl"); code != 0 {
		t.Fatalf("next run: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(runDirs[0]); !os.IsNotExist(err) {
		t.Errorf("the killed run's directory %s: %v; want it removed by the next run", runDirs[0], err)
	}
	if s := socketsUnder(tmp); len(s) != 0 {
		t.Errorf("sockets left in %s: %v", tmp, s)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "fanout-*", "*")); len(left) != 0 {
		t.Errorf("left in %s: %v", tmp, left)
	}
}

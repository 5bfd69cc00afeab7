// Command sshfleet runs a fleet of test sshd servers on this machine, for
// trying fanout over SSH without servers of your own:
//
//	go run ./internal/sshtest/cmd/sshfleet -hosts 3 [-dir fleet]
//
// It starts the fleet of package sshtest (real OpenSSH sshd processes on
// 127.0.0.x, an ssh-agent holding the one key they accept, a known_hosts
// file listing them), writes into DIR a configuration that runs the tasks
// of examples/ssh.hcl on them (see sshtest's Fleet.WriteConfig), prints the
// commands to try, and runs until Ctrl-C, SIGTERM, SIGHUP or the end of its
// parent process (go run), when it stops every process it started and
// removes what it wrote.
//
// It needs /usr/sbin/sshd and /usr/bin/ssh-agent (Debian's openssh-server
// and openssh-client) and listens only on 127.0.0.0/8.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/fanout/fanout/internal/sshtest"
)

func main() {
	fs := flag.NewFlagSet("sshfleet", flag.ExitOnError)
	hosts := fs.Int("hosts", 3, "number of sshd servers (host1, host2, ...)")
	dir := fs.String("dir", "fleet", "directory to write the configuration into: absent, empty, or an earlier sshfleet's")
	example := fs.String("example", "", "configuration whose tasks run on the fleet (default: the repository's examples/ssh.hcl)")
	base := fs.Int("base", 0, "last octet of the first server's address, 127.0.0.BASE (default: $"+sshtest.BaseEnv+" or 100)")
	fs.Usage = func() {
		_, _ = fmt.Fprintf(fs.Output(), "Usage: sshfleet [-hosts N] [-dir DIR]\n\nRuns N test sshd servers on 127.0.0.x and an ssh-agent until Ctrl-C, and\nwrites into DIR a fanout configuration that runs examples/ssh.hcl's tasks\non them: `fanout apply DIR`.\n\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:]) // ExitOnError: an error exits, after the usage
	if fs.NArg() > 0 || *hosts < 1 || *hosts > 100 {
		fs.Usage()
		os.Exit(2)
	}
	os.Exit(run(*hosts, *base, *dir, *example, os.Stdout))
}

func run(hosts, base int, dir, example string, out io.Writer) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	if err := checkDir(dir); err != nil {
		fmt.Fprintln(os.Stderr, "sshfleet:", err)
		return 2
	}
	t := &programT{}
	defer func() {
		t.runCleanups()
		if t.Failed() && code == 0 {
			code = 1 // the teardown failed: it said why
		}
	}()
	f := sshtest.Start(t, sshtest.Options{Hosts: hosts, Base: base})
	t.Cleanup(func() { removeConfig(dir) }) // runs before the fleet's teardown
	if err := f.WriteConfig(dir, example); err != nil {
		fmt.Fprintln(os.Stderr, "sshfleet:", err)
		return 1
	}
	printUsage(out, f, dir, example)

	select {
	case <-ctx.Done():
	case <-orphaned(ctx):
		// `go run` does not pass SIGTERM on: when it dies, so does the fleet.
		say(out, "\nsshfleet: the parent process is gone\n")
	}
	stop() // a second Ctrl-C kills at once
	say(out, "\nsshfleet: stopping the servers and the agent, removing %s\n", slashed(dir))
	return 0
}

// orphaned is closed when the process that started this one (go run, a
// shell) ends, until ctx is done.
func orphaned(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{})
	ppid := os.Getppid()
	go func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if os.Getppid() != ppid {
					close(ch)
					return
				}
			}
		}
	}()
	return ch
}

// checkDir refuses a directory that is neither absent, empty, nor an
// earlier sshfleet's: the tool writes into it and removes what it wrote.
func checkDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, sshtest.HostsFile)); err == nil {
		return nil // an earlier run's, killed before it could clean up
	}
	return fmt.Errorf("%s is not empty and not an earlier sshfleet's: give an absent or empty -dir", dir)
}

// removeConfig removes what WriteConfig wrote into dir, then dir if that
// leaves it empty, saying on stderr what it could not remove.
func removeConfig(dir string) {
	for _, name := range []string{sshtest.HostsFile, sshtest.TasksFile, sshtest.SSHConfigFile, sshtest.SystemctlFile} {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			say(os.Stderr, "sshfleet: %v\n", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, sshtest.StateDir)); err != nil {
		say(os.Stderr, "sshfleet: %v\n", err)
	}
	// Only when empty: the operator may have put files of their own there.
	_ = os.Remove(filepath.Join(dir, filepath.Dir(filepath.FromSlash(sshtest.SystemctlFile))))
	_ = os.Remove(dir)
}

// say writes to the terminal sshfleet runs in; when that fails there is
// nowhere else to say so.
func say(w io.Writer, format string, a ...any) {
	_, _ = fmt.Fprintf(w, format, a...)
}

func printUsage(w io.Writer, f *sshtest.Fleet, dir, example string) {
	d := slashed(dir)
	fo := fanoutCommand()
	say(w, "sshfleet: %d sshd servers and an ssh-agent are running; the configuration in %s runs %s's tasks on them.\n\n", len(f.Hosts), d, exampleName(example))
	for _, h := range f.Hosts {
		say(w, "  %-6s  %-21s  roles %s\n", h.Name, h.HostPort(), strings.Join(h.Roles(), ", "))
	}
	release := exampleDefault(filepath.Join(dir, sshtest.TasksFile), "release")
	broken := f.Hosts[len(f.Hosts)/2].Name
	say(w, `
In another terminal, in this directory:

  %[1]s plan %[2]s
  %[1]s apply %[2]s
  cat %[2]s%[3]s/journal        # what the stand-in systemctl did, host by host

A failed release and its rollback (%[4]s cannot start app@bad):

  echo 'app@bad' > %[2]s%[3]s/%[4]s/broken
  %[1]s apply %[5]s-var release=bad %[2]s

%[2]s%[6]s names the fleet's agent itself; for ssh(1), or a configuration of your own:

  export SSH_AUTH_SOCK=%[7]s
  ssh -o UserKnownHostsFile=%[8]s -p %[9]d %[10]s@%[11]s 'echo hello from $(hostname)'

Ctrl-C stops the servers and the agent and removes what it wrote in %[2]s.
`, fo, d, sshtest.StateDir, broken, previousVar(release), sshtest.HostsFile,
		f.AgentSocket, f.KnownHosts, f.Hosts[0].Port, f.User, f.Hosts[0].Addr)
}

func exampleName(example string) string {
	if example == "" {
		return "examples/ssh.hcl"
	}
	return example
}

func previousVar(release string) string {
	if release == "" {
		return ""
	}
	return "-var previous=" + release + " "
}

// exampleDefault is the default of variable name in the HCL file at path
// when it is a plain string, else "".
func exampleDefault(path, name string) string {
	src, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	file, diags := hclwrite.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return ""
	}
	b := file.Body().FirstMatchingBlock("variable", []string{name})
	if b == nil || b.Body().GetAttribute("default") == nil {
		return ""
	}
	s, err := strconv.Unquote(strings.TrimSpace(string(b.Body().GetAttribute("default").Expr().BuildTokens(nil).Bytes())))
	if err != nil || strings.ContainsAny(s, "$%'\" ") {
		return ""
	}
	return s
}

// fanoutCommand is how to run fanout from here: a built bin/fanout, one
// on PATH, or go run.
func fanoutCommand() string {
	if fi, err := os.Stat(filepath.Join("bin", "fanout")); err == nil && !fi.IsDir() {
		return "bin/fanout"
	}
	if _, err := exec.LookPath("fanout"); err == nil {
		return "fanout"
	}
	if _, err := os.Stat(filepath.Join("cmd", "fanout", "main.go")); err == nil {
		return "go run ./cmd/fanout"
	}
	return "fanout"
}

func slashed(dir string) string {
	d := filepath.ToSlash(filepath.Clean(dir))
	if !strings.HasSuffix(d, "/") {
		d += "/"
	}
	return d
}

// programT is the testing.TB that sshtest.Start takes, for a program: a
// failure prints its message, runs the cleanups registered so far (newest
// first, as testing does) and exits 1. The embedded TB is nil: sshtest
// calls only the methods defined here (Helper, Errorf, Fatalf, Skipf,
// TempDir, Cleanup), and any other would panic.
type programT struct {
	testing.TB

	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// Helper does nothing: there are no test lines to attribute.
func (t *programT) Helper() {}

// Name names the program.
func (t *programT) Name() string { return "sshfleet" }

// Cleanup registers f to run at exit, before the ones registered earlier.
func (t *programT) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// TempDir returns a new directory removed at exit.
func (t *programT) TempDir() string {
	d, err := os.MkdirTemp("", "sshfleet-")
	if err != nil {
		t.Fatalf("sshfleet: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(d); err != nil {
			t.Errorf("sshfleet: %v", err)
		}
	})
	return d
}

// Log prints its arguments on stderr.
func (t *programT) Log(args ...any) { fmt.Fprintln(os.Stderr, args...) }

// Logf prints a message on stderr.
func (t *programT) Logf(format string, args ...any) {
	fmt.Fprintln(os.Stderr, strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}

// Fail marks the run failed.
func (t *programT) Fail() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
}

// Failed reports whether Fail, Error or Errorf was called.
func (t *programT) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// Error prints its arguments and marks the run failed.
func (t *programT) Error(args ...any) { t.Log(args...); t.Fail() }

// Errorf prints a message and marks the run failed.
func (t *programT) Errorf(format string, args ...any) { t.Logf(format, args...); t.Fail() }

// FailNow runs the cleanups and exits 1.
func (t *programT) FailNow() {
	t.runCleanups()
	os.Exit(1)
}

// Fatal prints its arguments, runs the cleanups and exits 1.
func (t *programT) Fatal(args ...any) { t.Log(args...); t.FailNow() }

// Fatalf prints a message, runs the cleanups and exits 1.
func (t *programT) Fatalf(format string, args ...any) { t.Logf(format, args...); t.FailNow() }

// Skip is Fatal: a program cannot be skipped (sshtest skips when sshd is
// missing and FANOUT_SKIP_SSHD=1).
func (t *programT) Skip(args ...any) { t.Fatal(args...) }

// Skipf is Fatalf.
func (t *programT) Skipf(format string, args ...any) { t.Fatalf(format, args...) }

// SkipNow is FailNow.
func (t *programT) SkipNow() { t.FailNow() }

// Skipped is false: see Skip.
func (t *programT) Skipped() bool { return false }

// runCleanups runs the registered cleanups, newest first. A cleanup is
// taken off the list before it runs, so a failure inside one (FailNow
// runs the cleanups) goes on with the rest.
func (t *programT) runCleanups() {
	for {
		t.mu.Lock()
		n := len(t.cleanups)
		if n == 0 {
			t.mu.Unlock()
			return
		}
		f := t.cleanups[n-1]
		t.cleanups = t.cleanups[:n-1]
		t.mu.Unlock()
		f()
	}
}

package local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/sdk/sdktest"
)

// startGroup starts `sh -c script` in a process group of its own and
// returns the group; the test reaps the shell and kills the group when it
// ends.
func startGroup(t *testing.T, script string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return pgid
}

// startSupervisorProcess starts the supervisor, this test binary
// re-executed (TestMain calls SupervisorMain), and returns the write end of
// its control pipe and a channel that receives its Wait error.
func startSupervisorProcess(t *testing.T) (*os.File, <-chan error) {
	t.Helper()
	if !supervisorReady.Load() {
		t.Fatal("TestMain did not call SupervisorMain")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{supervisorArg0},
		ExtraFiles:  []*os.File{controlFD - 3: r},
		Stderr:      os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = r.Close() // the supervisor has its copy
	exited := make(chan error, 1)
	reaped := make(chan struct{})
	go func() {
		exited <- cmd.Wait()
		close(reaped)
	}()
	t.Cleanup(func() {
		_ = w.Close() // may be closed by the test already
		_ = cmd.Process.Kill()
		<-reaped
	})
	return w, exited
}

// waitGone fails the test if a process of group pgid still runs after d.
func waitGone(t *testing.T, pgid int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still runs after %s", pgid, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSupervisorKillsRegisteredGroupsAtEOF(t *testing.T) {
	// Each group has a background child besides its shell: the whole
	// group must go, not only its leader.
	const script = "sleep 30 & exec sleep 30"
	a, b := startGroup(t, script), startGroup(t, script)
	done := startGroup(t, script) // its shell "exited": unregistered
	control, exited := startSupervisorProcess(t)
	if _, err := fmt.Fprintf(control, "+%d\n+%d\n+%d\n-%d\n", a, done, b, done); err != nil {
		t.Fatal(err)
	}
	// Nonsense is ignored, -1 above all: kill(-1) would reach every
	// process of the user.
	if _, err := fmt.Fprint(control, "+-1\n+1\n+0\n+x\n\n?5\n"); err != nil {
		t.Fatal(err)
	}

	// The plugin is gone: its end of the pipe closes.
	if err := control.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the supervisor exited with %v, want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the supervisor did not exit within 10s of the end of its control pipe")
	}
	waitGone(t, a, 5*time.Second)
	waitGone(t, b, 5*time.Second)
	if !groupAlive(done) {
		t.Errorf("the supervisor killed group %d, which was unregistered", done)
	}
}

func TestSupervisorRefusesToRunByHand(t *testing.T) {
	// Without its control pipe, as when someone runs the binary under the
	// supervisor's name, it says what it is and does nothing.
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{supervisorArg0}}
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit %d (%v), want 2", code, err)
	}
	if want := "command supervisor, which fanout runs itself"; !strings.Contains(string(out), want) {
		t.Errorf("output %q does not say %q", out, want)
	}
}

func TestSupervisorCannotStart(t *testing.T) {
	// A supervisor that cannot run does not stop the command: it runs
	// unsupervised, and the log says why.
	var logs sdktest.Output
	s := newSupervisor(hclog.New(&hclog.LoggerOptions{Output: &logs}), filepath.Join(t.TempDir(), "missing"))
	defer s.close()
	for range 2 {
		cmd := exec.Command("sh", "-c", "exit 7")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		supervised, err := s.start(cmd)
		if err != nil || supervised {
			t.Fatalf("start = %v, %v; want unsupervised, no error", supervised, err)
		}
		if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 7 {
			t.Errorf("command: %v, want exit 7", err)
		}
	}
	if !strings.Contains(logs.String(), "cannot start the commands' supervisor") {
		t.Errorf("log %q does not say the supervisor could not start", logs.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.groups) != 0 {
		t.Errorf("groups %v stay registered with no supervisor to know of them", s.groups)
	}
}

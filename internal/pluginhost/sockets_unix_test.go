//go:build unix

package pluginhost

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// sharedTemp returns a directory as open as /tmp, so that only what the
// launcher makes inside it can keep other users out.
func sharedTemp(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSocketDirIsPrivateWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	base := sharedTemp(t)
	l := &Launcher{TempDir: base}
	dir, err := l.socketDir()
	if err != nil {
		t.Fatal(err)
	}
	parent := filepath.Join(base, "fanout-"+strconv.Itoa(os.Getuid()))
	if filepath.Dir(dir) != parent || !strings.HasPrefix(filepath.Base(dir), strconv.Itoa(os.Getpid())+"-") {
		t.Errorf("socket dir = %s, want %s/%d-*", dir, parent, os.Getpid())
	}
	for _, d := range []string{parent, dir} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, %v; want 0700", d, fi.Mode().Perm(), err)
		}
	}
	if again, err := l.socketDir(); again != dir || err != nil {
		t.Errorf("second call = %s, %v; want the same directory", again, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("after Close, %s: %v; want it gone", dir, err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A parent left with a wider mode is narrowed; one of another user's, or
// a symbolic link (a trap in a shared /tmp), is refused.
func TestSocketDirParent(t *testing.T) {
	base := sharedTemp(t)
	parent := filepath.Join(base, "fanout-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(parent, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(parent, 0o777); err != nil {
		t.Fatal(err)
	}
	l := &Launcher{TempDir: base}
	if _, err := l.socketDir(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if fi, _ := os.Stat(parent); fi.Mode().Perm() != 0o700 {
		t.Errorf("parent mode %v, want 0700", fi.Mode().Perm())
	}

	link := sharedTemp(t)
	if err := os.Symlink(t.TempDir(), filepath.Join(link, "fanout-"+strconv.Itoa(os.Getuid()))); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Launcher{TempDir: link}).socketDir(); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a symbolic link as the parent: err = %v", err)
	}

	if os.Getuid() != 0 {
		t.Skip("making a directory of another user's needs root")
	}
	other := sharedTemp(t)
	p := filepath.Join(other, "fanout-0")
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Launcher{TempDir: other}).socketDir(); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Errorf("a parent of another user's: err = %v", err)
	}
}

// The directories of dead fanout processes are removed by the next
// launcher; those of live ones stay.
func TestSocketDirSweepsTheDead(t *testing.T) {
	base := sharedTemp(t)
	parent := filepath.Join(base, "fanout-"+strconv.Itoa(os.Getuid()))
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = live.Process.Kill(); _ = live.Wait() }()
	mk := func(name string) string {
		p := filepath.Join(parent, name)
		if err := os.MkdirAll(filepath.Join(p, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "plugin123"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deadDir := mk(strconv.Itoa(dead.Process.Pid) + "-1")
	liveDir := mk(strconv.Itoa(live.Process.Pid) + "-2")
	otherDir := mk("not-a-run")

	l := &Launcher{TempDir: base}
	if _, err := l.socketDir(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	if _, err := os.Stat(deadDir); !os.IsNotExist(err) {
		t.Errorf("the dead run's %s: %v; want it removed", deadDir, err)
	}
	for _, d := range []string{liveDir, otherDir} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
}

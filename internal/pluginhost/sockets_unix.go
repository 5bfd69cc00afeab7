//go:build unix

package pluginhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// newRunDir makes the socket directory of one launcher:
// base/fanout-UID/PID-RANDOM. The parent is the operator's alone (0700,
// checked to be theirs), so no other local user can reach a socket in it
// whatever the umask the plugins create their sockets with; the PID in
// the name lets a later run tell a directory whose fanout died (SIGKILL,
// a crash) from a live one, and remove it.
func newRunDir(base string) (string, error) {
	parent, err := privateDir(filepath.Join(base, "fanout-"+strconv.Itoa(os.Getuid())))
	if err != nil {
		return "", err
	}
	sweepStale(parent)
	dir, err := os.MkdirTemp(parent, strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", err
	}
	// MkdirTemp asks for 0700 but the umask may take from it; the
	// mode is set, not left to the umask.
	if err := os.Chmod(dir, 0o700); err != nil {
		_ = os.Remove(dir) // empty; the chmod's error is the one to report
		return "", err
	}
	return dir, nil
}

// privateDir makes dir with mode 0700, or checks that the existing one is
// a directory (not a link) of this user's and makes its mode 0700. A dir
// another user made is refused: in a shared directory such as /tmp, it
// could be a trap laid to receive fanout's sockets.
func privateDir(dir string) (string, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory (%s); remove it, or point TMPDIR elsewhere", dir, fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("%s belongs to uid %d, not to this user (uid %d), so fanout will not put its plugins' sockets there; "+
			"remove it, or point TMPDIR elsewhere", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// sweepStale removes the run directories in parent whose fanout process
// is gone: what a run killed with SIGKILL left behind. A directory whose
// PID lives is kept, even if the PID was reused by another process: a
// later run removes it. Failures are ignored: a directory left is no
// reason not to run.
func sweepStale(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		pidText, _, ok := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || !e.IsDir() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(parent, e.Name()))
	}
}

// processAlive reports whether a process of that PID exists. EPERM means
// one does, of another user.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

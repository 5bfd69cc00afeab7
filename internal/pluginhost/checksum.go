package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// verify checks the binary at path against what the configuration expects
// of it and returns the checksum it was checked against, empty when
// nothing pins it.
func (l *Launcher) verify(req Request, path string) (string, error) {
	want, err := l.expectedSum(req, path)
	if err != nil || want.sum == "" {
		return "", err
	}
	got, err := SHA256File(path)
	if err != nil || got != want.sum {
		return "", &ChecksumMismatchError{Name: req.Name, Path: path, Want: want.sum, Got: got, LockFile: want.lockFile}
	}
	return want.sum, nil
}

// expected is the checksum a third-party binary must have, and where it
// comes from: the lock file, or (lockFile empty) the transport block.
type expected struct {
	sum      string
	lockFile string
}

// expectedSum works out what the binary at path must hash to. The block's
// pin and the lock file must agree when both exist: a lock file that
// records a transport the configuration pins differently is stale.
func (l *Launcher) expectedSum(req Request, path string) (expected, error) {
	want := expected{sum: strings.ToLower(req.SHA256)}
	lock, err := l.lockFile()
	if err != nil || lock == nil {
		return want, err
	}
	locked, ok := lock.Transports[req.Name]
	switch {
	case !ok:
		return want, &LockError{Name: req.Name, Path: path, LockFile: lock.Path}
	case want.sum != "" && locked.SHA256 != want.sum:
		return want, &LockError{Name: req.Name, Path: path, LockFile: lock.Path, Pinned: want.sum, Locked: locked.SHA256}
	case want.sum == "":
		want = expected{sum: locked.SHA256, lockFile: lock.Path}
	}
	return want, nil
}

// SHA256File returns the SHA-256 of the file at path in lower-case
// hexadecimal: the form a transport block's sha256 and the lock file take,
// and sha256sum prints.
func SHA256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

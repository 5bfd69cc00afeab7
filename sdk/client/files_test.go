package client

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestLocalPathIsTheOpenedFile: the path handed to the plugin names the
// file fanout opened, not whatever its name names by the time the plugin
// opens it: a file renamed over the name in between is not sent.
func TestLocalPathIsTheOpenedFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("open files are named under /proc on Linux only")
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "release.tgz")
	opened, other := []byte("the file fanout opened"), []byte("a file renamed over it")
	if err := os.WriteFile(name, opened, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	path := localPath(f, int64(len(opened)))
	if path == "" {
		t.Fatal("no local path for an unread regular file")
	}
	if err := os.WriteFile(filepath.Join(dir, "other"), other, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "other"), name); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, opened) {
		t.Errorf("the plugin would read %q through %s, want the opened file's %q", got, path, opened)
	}
}

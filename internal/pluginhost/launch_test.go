package pluginhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/sdk/client"
)

// writeExec writes an executable file at dir/name.
func writeExec(t *testing.T, dir, name, body string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFindSearchOrder(t *testing.T) {
	root := t.TempDir()
	local, env1, env2, home, sys := filepath.Join(root, "local"), filepath.Join(root, "env1"),
		filepath.Join(root, "env2"), filepath.Join(root, "home"), filepath.Join(root, "sys")
	l := &Launcher{SearchPath: []string{local, env1, "", env2, home}, SystemPath: []string{sys}}

	// Each step makes an earlier directory hold the plugin, which must
	// then win over the later ones.
	steps := []struct {
		dir  string
		want string
	}{
		{sys, filepath.Join(sys, "fanout-transport-x")},
		{home, filepath.Join(home, "fanout-transport-x")},
		{env2, filepath.Join(env2, "fanout-transport-x")},
		{env1, filepath.Join(env1, "fanout-transport-x")},
		{local, filepath.Join(local, "fanout-transport-x")},
	}
	for _, s := range steps {
		writeExec(t, s.dir, "fanout-transport-x", "#!/bin/sh\n")
		got, err := l.Find("x")
		if err != nil || got != s.want {
			t.Errorf("after adding %s: Find = %q, %v; want %q", s.dir, got, err, s.want)
		}
	}

	// Neither a file that is not executable nor a directory is a plugin.
	if err := os.WriteFile(filepath.Join(local, "fanout-transport-y"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(env1, "fanout-transport-y"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := writeExec(t, sys, "fanout-transport-y", "#!/bin/sh\n")
	if got, err := l.Find("y"); err != nil || got != want {
		t.Errorf("Find(y) = %q, %v; want %q", got, err, want)
	}

	found := l.Discover()
	wantFound := []FoundPlugin{
		{Name: "x", Path: filepath.Join(local, "fanout-transport-x"), Shadowed: []string{
			filepath.Join(env1, "fanout-transport-x"), filepath.Join(env2, "fanout-transport-x"),
			filepath.Join(home, "fanout-transport-x"), filepath.Join(sys, "fanout-transport-x"),
		}},
		{Name: "y", Path: want},
	}
	if diff := cmp.Diff(wantFound, found); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}
}

func TestFindRelativeDirIsMadeAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeExec(t, filepath.Join(".fanout", "plugins"), "fanout-transport-x", "#!/bin/sh\n")
	l := &Launcher{SearchPath: []string{filepath.Join(".fanout", "plugins")}, SystemPath: []string{}}
	got, err := l.Find("x")
	if err != nil || !filepath.IsAbs(got) || !strings.HasSuffix(got, "/.fanout/plugins/fanout-transport-x") {
		t.Errorf("Find = %q, %v; want an absolute path", got, err)
	}
}

// TestFindNotExecutable: a plugin binary of the right name that may not
// be executed is not run, and the error says so, with the chmod that
// fixes it, rather than "not found" for a file that is there.
func TestFindNotExecutable(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fanout-transport-x")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &Launcher{SearchPath: []string{dir}, SystemPath: []string{}}
	_, err := l.Find("x")
	var nf *PluginNotFoundError
	if !errors.As(err, &nf) || !strings.Contains(nf.Detail(), p+" is there and may not be executed: chmod +x "+p) {
		t.Errorf("err = %v, want the file named with its fix", err)
	}
}

func TestFindNotFound(t *testing.T) {
	l := &Launcher{SearchPath: []string{".fanout/plugins", "/opt/fanout", "/home/u/.fanout/plugins"}, SystemPath: []string{"/usr/bin", "/bin"}}
	_, err := l.Find("nope")
	var nf *PluginNotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want a *PluginNotFoundError", err)
	}
	want := "no plugin binary fanout-transport-nope in .fanout/plugins, /opt/fanout, /home/u/.fanout/plugins, $PATH (/usr/bin, /bin)"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	// The diagnostic on the transport block lists every directory.
	var le core.LaunchError = nf
	if le.Summary() != `Transport plugin "nope" not found` {
		t.Errorf("Summary = %q", le.Summary())
	}
	for _, w := range []string{"fanout-transport-nope", "  - .fanout/plugins\n", "  - /opt/fanout\n", "  - /usr/bin (from $PATH)\n", "$FANOUT_PLUGIN_PATH"} {
		if !strings.Contains(le.Detail(), w) {
			t.Errorf("detail lacks %q:\n%s", w, le.Detail())
		}
	}
	empty := &PluginNotFoundError{Name: "nope"}
	if !strings.Contains(empty.Detail(), "$PATH, which is empty") {
		t.Errorf("detail without $PATH:\n%s", empty.Detail())
	}
}

func TestLaunchChecksum(t *testing.T) {
	dir := t.TempDir()
	// The binary is never started: a mismatch is found before.
	path := writeExec(t, dir, "fanout-transport-x", "#!/bin/sh\necho started >&2\nexit 1\n")
	sum, err := SHA256File(path)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("0", 64)
	lockPath := filepath.Join(dir, LockFileName)
	writeLock := func(t *testing.T, sums map[string]string) {
		t.Helper()
		lf := &LockFile{Path: lockPath, Transports: map[string]*LockedTransport{}}
		for n, s := range sums {
			lf.Transports[n] = &LockedTransport{Name: n, SHA256: s}
		}
		if err := lf.Write(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("pinned by the block", func(t *testing.T) {
		l := &Launcher{SearchPath: []string{dir}, SystemPath: []string{}}
		_, err := l.Start(context.Background(), Request{Name: "x", SHA256: other})
		var cm *ChecksumMismatchError
		if !errors.As(err, &cm) || cm.Got != sum || cm.Want != other || cm.LockFile != "" {
			t.Fatalf("err = %v (%+v), want a ChecksumMismatchError from the block", err, cm)
		}
		for _, s := range []string{sum, other, path, "transport block"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q lacks %q", err, s)
			}
		}
	})
	t.Run("lock file", func(t *testing.T) {
		writeLock(t, map[string]string{"x": other})
		l := &Launcher{SearchPath: []string{dir}, SystemPath: []string{}, LockFile: lockPath}
		_, err := l.Start(context.Background(), Request{Name: "x"})
		var cm *ChecksumMismatchError
		if !errors.As(err, &cm) || cm.LockFile != lockPath {
			t.Fatalf("err = %v, want a ChecksumMismatchError from the lock file", err)
		}
		for _, s := range []string{sum, other, lockPath, "fanout plugins lock"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q lacks %q", err, s)
			}
		}
	})
	t.Run("not in the lock file", func(t *testing.T) {
		writeLock(t, map[string]string{"other": sum})
		l := &Launcher{SearchPath: []string{dir}, SystemPath: []string{}, LockFile: lockPath}
		_, err := l.Start(context.Background(), Request{Name: "x"})
		var le *LockError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), "does not record transport \"x\"") {
			t.Fatalf("err = %v, want a LockError", err)
		}
	})
	t.Run("block and lock file disagree", func(t *testing.T) {
		writeLock(t, map[string]string{"x": sum})
		l := &Launcher{SearchPath: []string{dir}, SystemPath: []string{}, LockFile: lockPath}
		_, err := l.Start(context.Background(), Request{Name: "x", SHA256: other})
		var le *LockError
		if !errors.As(err, &le) || le.Pinned != other || le.Locked != sum {
			t.Fatalf("err = %v, want a LockError naming both sums", err)
		}
	})
	t.Run("matching lock file starts the binary", func(t *testing.T) {
		writeLock(t, map[string]string{"x": sum})
		l := &Launcher{SearchPath: []string{dir}, SystemPath: []string{}, LockFile: lockPath, TempDir: t.TempDir()}
		_, err := l.Start(context.Background(), Request{Name: "x"})
		// The script is no plugin: it got as far as the handshake.
		if !errors.Is(err, client.ErrHandshake) || !strings.Contains(err.Error(), "started") {
			t.Fatalf("err = %v, want a handshake failure showing the script's stderr", err)
		}
	})
	t.Run("built-in refuses a pin", func(t *testing.T) {
		l := &Launcher{Builtin: map[string][]string{"local": {"/bin/false"}}}
		if _, err := l.Start(context.Background(), Request{Name: "local", SHA256: sum}); err == nil {
			t.Fatal("a pinned built-in was started")
		}
	})
}

func TestLockFileRoundTrip(t *testing.T) {
	lf := &LockFile{Path: "x/.fanout.lock.hcl", Transports: map[string]*LockedTransport{
		"echo":   {Name: "echo", Version: "0.1.0", SHA256: strings.Repeat("ab", 32)},
		"docker": {Name: "docker", SHA256: strings.Repeat("0", 64)},
	}}
	b := lf.Bytes()
	want := lockFileHeader + `transport "docker" {
  sha256 = "` + strings.Repeat("0", 64) + `"
}

transport "echo" {
  version = "0.1.0"
  sha256  = "` + strings.Repeat("ab", 32) + `"
}
`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("Bytes (-want +got):\n%s", diff)
	}
	back, diags := ParseLockFile(b, lf.Path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, lt := range back.Transports {
		lt.DeclRange = lf.Transports[lt.Name].DeclRange
	}
	if diff := cmp.Diff(lf, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestLockFileErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
		line            int
	}{
		{"bad sum", "transport \"x\" {\n  sha256 = \"abc\"\n}\n", "Invalid sha256 in the lock file", 2},
		{"duplicate", "transport \"x\" {\n  sha256 = \"" + strings.Repeat("a", 64) + "\"\n}\ntransport \"x\" {\n  sha256 = \"" + strings.Repeat("a", 64) + "\"\n}\n", "Duplicate transport \"x\" in the lock file", 4},
		{"missing sum", "transport \"x\" {\n  version = \"1\"\n}\n", "Missing required argument", 1},
		{"unknown block", "plugin \"x\" {}\n", "Unsupported block type", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := ParseLockFile([]byte(tt.src), "lock.hcl")
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if d := diags[0]; d.Summary != tt.want || d.Subject == nil || d.Subject.Start.Line != tt.line {
				t.Errorf("diagnostic = %s at %v, want %q at line %d", d.Summary, d.Subject, tt.want, tt.line)
			}
		})
	}
	if lf, diags := ReadLockFile(filepath.Join(t.TempDir(), "none")); lf != nil || diags != nil {
		t.Errorf("a missing lock file = %v, %v; want nil, nil", lf, diags)
	}
}

// SHA256File computes what a transport block's sha256 pins, as sha256sum
// prints it.
func TestSHA256File(t *testing.T) {
	p := writeExec(t, t.TempDir(), "fanout-transport-echo", "hello\n")
	sum, err := SHA256File(p)
	if want := "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"; sum != want || err != nil {
		t.Errorf("SHA256File = %s, %v; want %s", sum, err, want)
	}
}

// TestStartRefusesAnotherProtocol: a plugin that offers only protocol
// version 2 is refused, and the error explains itself for the diagnostic.
func TestStartRefusesAnotherProtocol(t *testing.T) {
	dir := t.TempDir()
	writeExec(t, dir, "fanout-transport-v2", "#!/bin/sh\necho '1|2|unix|/nonexistent/v2.sock|grpc'\nexec sleep 60\n")
	l := &Launcher{SearchPath: []string{dir}, SystemPath: []string{}}
	_, err := l.Start(context.Background(), Request{Name: "v2"})
	var ve *client.VersionError
	if !errors.As(err, &ve) || ve.Plugin != 2 {
		t.Fatalf("err = %v, want a *client.VersionError for version 2", err)
	}
	le, ok := errors.AsType[core.LaunchError](err)
	if !ok || le.Summary() != `Transport plugin "v2" speaks another protocol version` ||
		!strings.Contains(le.Detail(), "speaks transport protocol version 2, but this fanout speaks version 1") {
		t.Errorf("err explains itself as %v", le)
	}
}

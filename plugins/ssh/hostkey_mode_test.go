//go:build unix

package ssh

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/sshtest"
)

// The known_hosts file accept-new writes is 0600 when it makes it, whatever
// the umask, and keeps the operator's mode when it exists. Not parallel:
// the umask is the process's.
func TestHostKeyRecordMode(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 1})
	h := f.Hosts[0]
	acceptNew := func(t *testing.T, kh string) {
		t.Helper()
		s := newTransport(t, f, setupOpts{direct: true, settings: map[string]cty.Value{
			"known_hosts":       cty.ListVal([]cty.Value{cty.StringVal(kh)}),
			"host_key_checking": cty.StringVal("accept-new"),
		}})
		if err := s.connect(s.host(h, nil)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(kh); err != nil || !strings.Contains(string(b), "[127.0.0.") {
			t.Fatalf("known_hosts = %q, %v; want the key recorded", b, err)
		}
	}
	mode := func(t *testing.T, p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	for _, umask := range []int{0o000, 0o022, 0o277} {
		t.Run("new file, umask "+os.FileMode(umask).String(), func(t *testing.T) {
			kh := filepath.Join(t.TempDir(), "known_hosts")
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			acceptNew(t, kh)
			if m := mode(t, kh); m != 0o600 {
				t.Errorf("new known_hosts mode %v, want 0600", m)
			}
		})
	}
	t.Run("existing file keeps its mode", func(t *testing.T) {
		kh := filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(kh, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(kh, 0o644); err != nil {
			t.Fatal(err)
		}
		acceptNew(t, kh)
		if m := mode(t, kh); m != 0o644 {
			t.Errorf("existing known_hosts mode %v, want its 0644 kept", m)
		}
	})
}

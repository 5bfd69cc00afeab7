package userhome

import (
	"os"
	"os/user"
	"testing"
)

// TestDir: $HOME when set, the passwd entry's home when it is not, as
// ssh finds it.
func TestDir(t *testing.T) {
	t.Setenv("HOME", "/somewhere/else")
	if got, err := Dir(); err != nil || got != "/somewhere/else" {
		t.Errorf("HOME set: %q, %v", got, err)
	}
	u, err := user.Current()
	if err != nil || u.HomeDir == "" {
		t.Skipf("no passwd home to compare with: %v", err)
	}
	for _, unset := range []func(){func() { t.Setenv("HOME", "") }, func() { _ = os.Unsetenv("HOME") }} {
		unset()
		if got, err := Dir(); err != nil || got != u.HomeDir {
			t.Errorf("HOME unset or empty: %q, %v; want %q", got, err, u.HomeDir)
		}
	}
}

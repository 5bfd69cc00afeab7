package sshtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
)

// requireServer fails t (or skips it, see SkipEnv) when what server needs
// is missing.
func requireServer(t testing.TB, server Server) {
	t.Helper()
	var missing, install string
	switch server {
	case OpenSSH:
		if _, err := os.Stat(SSHDPath); err != nil {
			missing, install = SSHDPath, "apt-get install openssh-server"
		}
	case Dropbear:
		for _, p := range []string{DropbearPath, DropbearConvertPath, UnsharePath} {
			if _, err := os.Stat(p); err != nil {
				missing, install = p, "make test-deps, or apt-get install dropbear-bin"
				break
			}
		}
		if missing == "" && os.Geteuid() != 0 {
			missing, install = "root", "run the dropbear tests as root (CI does): dropbear reads the login user's own ~/.ssh, which the fleet replaces in a mount namespace"
		}
	default:
		t.Fatalf("sshtest: unknown server %q", server)
	}
	if missing == "" {
		return
	}
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("sshtest: %s: %s missing and %s=1", server, missing, SkipEnv)
	}
	t.Fatalf("sshtest: %s needs %s (%s), or set %s=1 to skip", server, missing, install, SkipEnv)
}

// dropbearHome is the directory bind-mounted over the login user's home
// for dropbear: it holds .ssh/authorized_keys.
func (f *Fleet) dropbearHome() string { return filepath.Join(f.Dir, "dropbear-home") }

// writeDropbearHome writes dropbearHome with modes dropbear accepts (no
// group or other write on the home, .ssh and authorized_keys).
func (f *Fleet) writeDropbearHome(t testing.TB) {
	t.Helper()
	home := f.dropbearHome()
	mkdir(t, filepath.Join(home, ".ssh"))
	keys, err := os.ReadFile(filepath.Join(f.Dir, "authorized_keys"))
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	writeFile(t, filepath.Join(home, ".ssh", "authorized_keys"), keys, 0o600)
}

// dropbearCommand is the command that runs dropbear for h in the
// foreground, logging to h.LogFile: in a mount namespace of its own where
// the fleet's dropbear home is bind-mounted over the login user's home, so
// that dropbear reads the fleet's authorized_keys. -e passes the
// environment (the fleet's token) on to sessions; -s refuses passwords.
func (h *Host) dropbearCommand() (*exec.Cmd, error) {
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	key := h.hostKeyFile()
	dbKey := key + ".dropbear"
	if _, err := os.Stat(dbKey); err != nil {
		out, err := exec.Command(DropbearConvertPath, "openssh", "dropbear", key, dbKey).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("dropbearconvert %s: %v: %s", key, err, out)
		}
	}
	logf, err := os.OpenFile(h.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(UnsharePath, "--mount", "--propagation", "private",
		"/bin/sh", "-c", `mount --bind "$1" "$2" && shift 2 && exec "$@"`, "sh",
		h.fleet.dropbearHome(), u.HomeDir,
		DropbearPath, "-F", "-E", "-e", "-s", "-m",
		"-P", filepath.Join(filepath.Dir(h.cfgFile), h.Name+".pid"),
		"-r", dbKey, "-p", h.HostPort())
	cmd.Stdout, cmd.Stderr = logf, logf
	return cmd, nil
}

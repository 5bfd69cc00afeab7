package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk/sdktest"
)

// TestSudoFiles runs, as a user whose sudo asks for its password, on a
// terminal, a task with sudo whose uploads go where only the sudo user can
// write and whose download reads a file only the sudo user can read: the
// password is asked once for both hosts; the files arrive owned by the
// sudo user with their modes, the tree with its link; the download has
// the content and a private mode; no staging directory or temporary file
// is left; the password is nowhere in the output or the journal. As root
// (sudo = true) and as another user (sudo_user, through an ACL).
func TestSudoFiles(t *testing.T) {
	for _, tt := range []struct {
		name, sudo, owner string
	}{
		{"root", "sudo = true", "root"},
		{"another user", `sudo_user = "nobody"`, "nobody"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.owner != "root" {
				needRootSudo(t, "setfacl")
			}
			u := newSudoUser(t)
			// base: writable by the sudo user alone; secret: readable by it alone.
			secret := "s3cret-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "\n"
			base, uid := ownedBase(t, tt.owner, secret)

			writeFiles(t, u.dir, map[string]string{
				"release/bin/run":   "#!/bin/sh\necho run\n",
				"release/lib/a.txt": "a\n",
				"app.conf":          "port = 8080\n",
			})
			if err := os.Chmod(filepath.Join(u.dir, "release/bin/run"), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("lib/a.txt", filepath.Join(u.dir, "release/current")); err != nil {
				t.Fatal(err)
			}
			u.config(t, strings.ReplaceAll(strings.ReplaceAll(`
host "h1" {
  transport = "local"
}
host "h2" {
  transport = "local"
}
task "deploy" {
  SUDO
  upload {
    source      = "release"
    destination = "BASE/${target.name}"
  }
  upload {
    source      = "app.conf"
    destination = "BASE/${target.name}/app.conf"
    mode        = "0640"
  }
  upload {
    content     = "hello ${target.name}\n"
    destination = "BASE/${target.name}/greeting"
  }
  download {
    source      = "BASE/secret"
    destination = "logs/${target.name}.secret"
  }
  run = "echo \"ran as $(id -un) on $FANOUT_HOST\""
}
`, "BASE", base), "SUDO", tt.sudo))

			var stdout, stderr bytes.Buffer
			plan := u.command(nil, "plan", "main.hcl")
			plan.Stdout, plan.Stderr = &stdout, &stderr
			if err := plan.Run(); err != nil {
				t.Fatalf("plan: %v\n%s%s", err, stdout.String(), stderr.String())
			}
			if n := strings.Count(stdout.String(), ", via sudo as "+tt.owner); n != 8 {
				t.Errorf("plan shows %d transfers via sudo as %s, want 8 (4 per host):\n%s", n, tt.owner, stdout.String())
			}

			out := u.typePasswordOnce(t, u.command(nil, "apply", "main.hcl"), 30*time.Second)
			if strings.Contains(out, u.password) || strings.Contains(u.journals(t), u.password) {
				t.Errorf("the password is in the output or the journal:\n%s", out)
			}
			for _, h := range []string{"h1", "h2"} {
				wantInOutput(t, out, out, []string{"ran as " + tt.owner + " on " + h})
				dest := filepath.Join(base, h)
				for _, f := range []struct {
					path, content string
					mode          fs.FileMode
				}{
					{"bin/run", "#!/bin/sh\necho run\n", 0o750},
					{"lib/a.txt", "a\n", 0o644},
					{"app.conf", "port = 8080\n", 0o640},
					{"greeting", "hello " + h + "\n", 0o644},
				} {
					wantFile(t, filepath.Join(dest, f.path), f.content, f.mode, uid)
				}
				if target, err := os.Readlink(filepath.Join(dest, "current")); err != nil || target != "lib/a.txt" {
					t.Errorf("%s/current: %q, %v; want a link to lib/a.txt", dest, target, err)
				}
				_ = filepath.WalkDir(dest, func(p string, _ fs.DirEntry, _ error) error {
					if strings.Contains(filepath.Base(p), ".fanout-") {
						t.Errorf("a temporary file is left: %s", p)
					}
					return nil
				})
				wantFile(t, filepath.Join(u.dir, "logs", h+".secret"), secret, 0o600, int(u.uid))
			}
			wantNoStaging(t, u.uid)
		})
	}
}

// wantFile checks a file's content, mode and owner.
func wantFile(t *testing.T, p, content string, mode fs.FileMode, uid int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return
	}
	if got := fi.Mode().Perm(); got != mode {
		t.Errorf("%s: mode %04o, want %04o", p, got, mode)
	}
	if got := int(fi.Sys().(*syscall.Stat_t).Uid); got != uid {
		t.Errorf("%s: owner %d, want %d", p, got, uid)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != content {
		t.Errorf("%s: %q, %v; want %q", p, b, err, content)
	}
}

// wantNoStaging checks that no staging directory of the user is left in
// the temporary directory.
func wantNoStaging(t *testing.T, uid uint32) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "fanout-stage.*"))
	for _, p := range left {
		fi, err := os.Lstat(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				t.Error(err)
			}
			continue
		}
		if fi.Sys().(*syscall.Stat_t).Uid == uid {
			t.Errorf("a staging directory is left: %s", p)
		}
	}
}

// ownedBase makes a directory that only owner can write in, holding a file
// "secret" with content that only owner can read, both owner's; it
// returns the directory and owner's uid.
func ownedBase(t *testing.T, owner, secret string) (string, int) {
	t.Helper()
	u, err := user.Lookup(owner)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	base, err := os.MkdirTemp("", "fanout-sudo-files-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{base, filepath.Join(base, "secret")} {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return base, uid
}

// TestSSHSudoFiles: over real sshd (SFTP, ssh's own Exec), a task with
// sudo_user puts its uploads in place as that user, where the login user
// cannot write, and reads a download only that user can read; a
// destination that cannot be written fails the host with its name, rolls
// the task back, and leaves no staging directory behind.
func TestSSHSudoFiles(t *testing.T) {
	needRootSudo(t, "setfacl")
	base, uid := ownedBase(t, "nobody", "only nobody\n")

	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", strings.ReplaceAll(`
task "deploy" {
  sudo_user = "nobody"
  upload {
    source      = "release"
    destination = "BASE/${target.name}"
  }
  upload {
    content     = "hello ${target.name}\n"
    destination = "BASE/${target.name}/greeting"
    mode        = "0600"
  }
  download {
    source      = "BASE/secret"
    destination = "logs/${target.name}.secret"
  }
  run = "echo \"ran as $(id -un) on $FANOUT_HOST\""
}
`, "BASE", base)))
	writeFiles(t, dir, map[string]string{"release/bin/run": "#!/bin/sh\n", "release/etc/app.conf": "port = 1\n"})
	if err := os.Chmod(filepath.Join(dir, "release/bin/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range f.Hosts {
		wantInOutput(t, r.stdout, r.stdout, []string{"ran as nobody on " + h.Name})
		dest := filepath.Join(base, h.Name)
		wantFile(t, filepath.Join(dest, "bin/run"), "#!/bin/sh\n", 0o755, uid)
		wantFile(t, filepath.Join(dest, "etc/app.conf"), "port = 1\n", 0o644, uid)
		wantFile(t, filepath.Join(dest, "greeting"), "hello "+h.Name+"\n", 0o600, uid)
		wantFile(t, filepath.Join(dir, "logs", h.Name+".secret"), "only nobody\n", 0o600, os.Getuid())
	}
	wantNoStaging(t, uint32(os.Getuid()))

	// A destination whose directory is missing: the host fails, naming it.
	broken := filepath.Join(base, "missing", "app.conf")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(sshConfig(f, f.Hosts[:1], "", `
task "broken" {
  sudo_user = "nobody"
  upload {
    content     = "x"
    destination = "`+broken+`"
  }
  run      = "echo ran"
  rollback = "echo rolled back as $(id -un)"
}
`)), 0o644); err != nil {
		t.Fatal(err)
	}
	r = fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != exitFailed {
		t.Fatalf("apply of a broken upload: exit %d, want %d\n%s%s", r.code, exitFailed, r.stdout, r.stderr)
	}
	wantInOutput(t, r.stdout, r.stdout, []string{"upload " + broken + ": cannot write in " + filepath.Dir(broken), "rolled back as nobody"})
	if strings.Contains(r.stdout, "│ ran\n") {
		t.Errorf("the run commands ran after the upload failed:\n%s", r.stdout)
	}
	wantNoStaging(t, uint32(os.Getuid()))
}

// TestSudoUploadInterrupted: Ctrl-C while a large file of a task with sudo
// is being staged ends the transfer, removes the staging directory, and
// leaves nothing at the destination.
func TestSudoUploadInterrupted(t *testing.T) {
	needRootSudo(t)
	dest := t.TempDir()
	dir, _ := workdir(t, `
task "deploy" {
  sudo = true
  upload {
    source      = "big.bin"
    destination = "`+filepath.Join(dest, "big.bin")+`"
  }
  run = "true"
}
`)
	big, err := os.Create(filepath.Join(dir, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(256 << 20); err != nil {
		t.Fatal(err)
	}
	if err := big.Close(); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir() // the staging directory's parent, this test's alone
	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "TMPDIR="+tmp)
	b := startBG(t, cmd)
	sdktest.Eventually(t, e2eWait, "the file to be staged", func() bool {
		staged, _ := filepath.Glob(filepath.Join(tmp, "fanout-stage.*", ".1.fanout-*"))
		for _, p := range staged {
			if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
				return true
			}
		}
		return false
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t, 30*time.Second); code == 0 {
		t.Errorf("fanout exited 0 after Ctrl-C:\n%s", b.out.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "fanout-stage.*")); len(left) > 0 {
		t.Errorf("the staging directory is left: %v\n%s", left, b.out.String())
	}
	if entries, _ := os.ReadDir(dest); len(entries) > 0 {
		t.Errorf("the interrupted upload left %s at the destination", entries[0].Name())
	}
	if !strings.Contains(b.out.String(), "deploy  localhost  interrupted") {
		t.Errorf("the upload was not interrupted:\n%s", b.out.String())
	}
}

// TestSSHSudoFilesWithPassword: over real sshd, logged in as a user whose
// sudo asks for its password, fanout on a terminal: the password is asked
// once for 3 hosts, the uploads arrive where only root can write, owned by
// root with their modes, the download reads a file only root can read,
// and no staging directory is left.
func TestSSHSudoFilesWithPassword(t *testing.T) {
	u := newSudoUser(t)
	f, hosts := sshSudoFleet(t, u)
	base := t.TempDir() // root's, 0700: only root can write or read in it
	secret := "s3cret-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "\n"
	if err := os.WriteFile(filepath.Join(base, "secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, u.dir, map[string]string{"release/bin/run": "#!/bin/sh\n", "release/etc/app.conf": "port = 1\n"})
	if err := os.Chmod(filepath.Join(u.dir, "release/bin/run"), 0o750); err != nil {
		t.Fatal(err)
	}
	u.config(t, hosts+strings.ReplaceAll(`
task "deploy" {
  sudo = true
  upload {
    source      = "release"
    destination = "BASE/${target.name}"
  }
  download {
    source      = "BASE/secret"
    destination = "logs/${target.name}.secret"
  }
  run = "echo \"ran as $(id -un) on $FANOUT_HOST\""
}
`, "BASE", base))
	out := u.typePasswordOnce(t, u.sshCommand(f, nil, "apply", "main.hcl"), 30*time.Second)
	if strings.Contains(out, u.password) || strings.Contains(u.journals(t), u.password) {
		t.Errorf("the password is in the output or the journal:\n%s", out)
	}
	for _, h := range f.Hosts {
		wantInOutput(t, out, out, []string{"ran as root on " + h.Name})
		wantFile(t, filepath.Join(base, h.Name, "bin/run"), "#!/bin/sh\n", 0o750, 0)
		wantFile(t, filepath.Join(base, h.Name, "etc/app.conf"), "port = 1\n", 0o644, 0)
		wantFile(t, filepath.Join(u.dir, "logs", h.Name+".secret"), secret, 0o600, os.Getuid())
	}
	wantNoStaging(t, u.uid)
}

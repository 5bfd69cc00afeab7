package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk/sdktest"
)

// These tests carry files to and from real sshd hosts with the fanout
// binary: the hosts run on this machine, so what they received is read
// from their destination directories.

// bigFile writes n random bytes to p and returns their SHA-256.
func bigFile(t *testing.T, p string, n int) [sha256.Size]byte {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func fileSum(t *testing.T, p string) [sha256.Size]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// sshFilesBody uploads dist/big.bin and dist/tree under DEST/HOST, then
// downloads HOST's copy of tree/a.txt into logs/HOST.
const sshFilesBody = `
task "deploy" {
  on = ["web"]
  upload {
    source      = "dist/big.bin"
    destination = "DEST/${target.name}/big.bin"
    mode        = "0640"
  }
  upload {
    source      = "dist/tree"
    destination = "DEST/${target.name}/tree"
  }
  run      = "REC deploy"
  rollback = "REC undo"
}
task "collect" {
  on = ["web"]
  download {
    source      = "DEST/${target.name}/tree/a.txt"
    destination = "logs/${target.name}/a.txt"
  }
}
`

// sshFilesDir makes a working directory for fleet hosts: the sources and
// main.hcl; each host's DEST/HOST exists unless missing names it.
func sshFilesDir(t *testing.T, f *sshtest.Fleet, size int, missing string) (dir, dest string, rec *recording, sum [sha256.Size]byte) {
	t.Helper()
	dest = t.TempDir()
	dir, rec = workdir(t, sshConfig(f, f.Hosts, "", strings.ReplaceAll(sshFilesBody, "DEST", dest)))
	writeFiles(t, dir, map[string]string{"dist/tree/a.txt": "a\n", "dist/tree/sub/b": "b\n"})
	if err := os.Chmod(filepath.Join(dir, "dist/tree/sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/b", filepath.Join(dir, "dist/tree/link")); err != nil {
		t.Fatal(err)
	}
	sum = bigFile(t, filepath.Join(dir, "dist/big.bin"), size)
	for _, h := range f.Hosts {
		if h.Name != missing {
			if err := os.MkdirAll(filepath.Join(dest, h.Name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir, dest, rec, sum
}

func checkReceived(t *testing.T, dest, host string, sum [sha256.Size]byte) {
	t.Helper()
	if fileSum(t, filepath.Join(dest, host, "big.bin")) != sum {
		t.Errorf("%s: big.bin differs from the source", host)
	}
	checkTree(t, dest, host, map[string]os.FileMode{
		"big.bin":    0o640,
		"tree":       os.ModeDir | 0o755,
		"tree/sub":   os.ModeDir | 0o700,
		"tree/sub/b": 0o644,
		"tree/link":  os.ModeSymlink | 0o777,
	})
	entries, _ := os.ReadDir(filepath.Join(dest, host))
	if len(entries) != 2 {
		t.Errorf("%s: destination holds %d entries, want big.bin and tree only", host, len(entries))
	}
}

// checkRoundTrip checks what sshFilesDir's main.hcl uploaded to host and
// what it downloaded from it into logs/HOST.
func checkRoundTrip(t *testing.T, dir, dest, host string, sum [sha256.Size]byte) {
	t.Helper()
	checkReceived(t, dest, host, sum)
	if got := mustRead(t, filepath.Join(dir, "logs", host, "a.txt")); got != "a\n" {
		t.Errorf("%s: downloaded a.txt = %q", host, got)
	}
}

// 50 MB and a tree to 5 hosts over SFTP, checksums and modes kept; the
// file comes back from each host into logs/HOST.
func TestSSHUploadDownloadFiveHosts(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 5})
	dir, dest, _, sum := sshFilesDir(t, f, 50<<20, "")
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range f.Hosts {
		checkRoundTrip(t, dir, dest, h.Name, sum)
		if n := h.AcceptedPublickey(t); n != 1 {
			t.Errorf("%s: %d logins, want 1: files travel on the host's one connection", h.Name, n)
		}
	}
}

// An sshd without the sftp subsystem still receives the files, through
// the shell.
func TestSSHUploadWithoutSFTP(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2, NoSFTP: true})
	dir, dest, _, sum := sshFilesDir(t, f, 5<<20, "")
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range f.Hosts {
		checkRoundTrip(t, dir, dest, h.Name, sum)
	}
}

// An unwritable destination fails that host, and the task is rolled back.
func TestSSHUploadUnwritableRollsBack(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	missing := f.Hosts[1].Name
	dir, dest, rec, sum := sshFilesDir(t, f, 1<<20, missing)
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if want := fmt.Sprintf("task \"deploy\" failed on host %q: host %s: upload %s/%s/big.bin", missing, missing, dest, missing); !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks %q:\n%s", want, r.stdout)
	}
	undone := map[string]bool{}
	for _, x := range rec.read(t) {
		if x.kind == "undo" {
			undone[x.host] = true
		}
		if x.kind == "deploy" && x.host == missing {
			t.Errorf("deploy ran on %s after its upload failed", missing)
		}
	}
	for _, h := range f.Hosts {
		if !undone[h.Name] {
			t.Errorf("%s was not rolled back (undone: %v)", h.Name, undone)
		}
		if h.Name != missing {
			checkReceived(t, dest, h.Name, sum)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, missing)); err == nil {
		t.Errorf("the failed upload created %s's directory", missing)
	}
}

// Ctrl-C while a large file is on its way leaves no partial file: neither
// the destination nor a temporary file beside it.
func TestSSHUploadInterrupted(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 1})
	dir, dest, _, _ := sshFilesDir(t, f, 256<<20, "")
	host := filepath.Join(dest, f.Hosts[0].Name)
	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "HOME="+dir, "SSH_AUTH_SOCK="+f.AgentSocket)
	b := startBG(t, cmd)
	// The temporary file beside the destination shows the transfer runs.
	sdktest.Eventually(t, e2eWait, "the upload to start", func() bool {
		entries, _ := os.ReadDir(host)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".big.bin.fanout-") {
				if info, err := e.Info(); err == nil && info.Size() > 0 {
					return true
				}
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
	t.Cleanup(func() {
		if t.Failed() {
			entries, _ := os.ReadDir(host)
			for _, e := range entries {
				t.Logf("left at the destination: %s", e.Name())
			}
			t.Logf("fanout's output:\n%s", b.out.String())
		}
	})
	sdktest.Eventually(t, e2eWait, "the temporary file to be removed", func() bool {
		entries, _ := os.ReadDir(host)
		return len(entries) == 0
	})
	if _, err := os.Stat(filepath.Join(host, "big.bin")); err == nil {
		t.Error("a partial big.bin was left at the destination")
	}
	// The first Ctrl-C ends a transfer at once (it has no SIGINT to
	// take, as a command does): the pair is interrupted, not finished.
	if !bytes.Contains([]byte(b.out.String()), []byte("deploy   host1  interrupted")) {
		t.Errorf("the upload was not interrupted:\n%s", b.out.String())
	}
}

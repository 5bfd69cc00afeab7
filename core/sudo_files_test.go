package core

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fanout/fanout/config"
)

// TestInstallScript runs the script that puts a sudo task's staged files
// in place (here as the test's own user, through sh) on the shapes a
// destination can have: each entry arrives whole with its mode, a link is
// made as a link, and nothing is ever written through a link into another
// place.
func TestInstallScript(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dest, outside string)
		lines string // after the staged file 1 holds "new\n"
		fail  string // in the last line of stderr; "" for success
		check func(t *testing.T, dest, outside string)
	}{
		{
			name:  "file replaced, mode set",
			setup: func(t *testing.T, dest, _ string) { stageWrite(t, filepath.Join(dest, "f"), "old\n") },
			lines: "F 1 DEST/f 0640\n",
			check: func(t *testing.T, dest, _ string) { wantStaged(t, filepath.Join(dest, "f"), "new\n", 0o640) },
		},
		{
			name:  "tree with a link",
			lines: "D DEST/app 0750\nD DEST/app/bin 0755\nF 1 DEST/app/bin/run 4755\nL DEST/app/current bin/run\n",
			check: func(t *testing.T, dest, _ string) {
				wantStaged(t, filepath.Join(dest, "app/bin/run"), "new\n", 0o755|os.ModeSetuid)
				if fi, err := os.Stat(filepath.Join(dest, "app")); err != nil || fi.Mode().Perm() != 0o750 {
					t.Errorf("app: %v, %v", fi, err)
				}
				if target, err := os.Readlink(filepath.Join(dest, "app/current")); target != "bin/run" {
					t.Errorf("current: %q, %v", target, err)
				}
			},
		},
		{
			name:  "a directory that is a link",
			setup: func(t *testing.T, dest, outside string) { stageLink(t, outside, filepath.Join(dest, "app")) },
			lines: "D DEST/app 0755\nF 1 DEST/app/f 0644\n",
			fail:  "upload DEST/app: exists and is not a directory",
		},
		{
			name:  "a file over a link to a directory",
			setup: func(t *testing.T, dest, outside string) { stageLink(t, outside, filepath.Join(dest, "f")) },
			lines: "F 1 DEST/f 0644\n",
			check: func(t *testing.T, dest, _ string) { wantStaged(t, filepath.Join(dest, "f"), "new\n", 0o644) },
		},
		{
			name:  "a file over a directory",
			setup: func(t *testing.T, dest, _ string) { stageMkdir(t, filepath.Join(dest, "f")) },
			lines: "F 1 DEST/f 0644\n",
			fail:  "upload DEST/f: exists and is a directory",
		},
		{
			name:  "a missing directory",
			lines: "F 1 DEST/missing/f 0644\n",
			fail:  "upload DEST/missing/f: cannot write in DEST/missing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stage, dest, outside := t.TempDir(), t.TempDir(), t.TempDir()
			stageWrite(t, filepath.Join(stage, "1"), "new\n")
			if tt.setup != nil {
				tt.setup(t, dest, outside)
			}
			script := "S=" + config.ShellQuote(stage) + "\n" + installScript + strings.ReplaceAll(tt.lines, "DEST", dest)
			out, err := exec.Command("sh", "-c", script).CombinedOutput()
			got := lastLine(strings.TrimSpace(string(out)))
			switch want := strings.ReplaceAll(tt.fail, "DEST", dest); {
			case want == "" && err != nil:
				t.Fatalf("failed: %v\n%s", err, out)
			case want != "" && (err == nil || got != want):
				t.Fatalf("got %v, %q; want failure %q\n%s", err, got, want, out)
			}
			if tt.check != nil {
				tt.check(t, dest, outside)
			}
			if entries, _ := os.ReadDir(outside); len(entries) > 0 {
				t.Errorf("written through a link: %s", entries[0].Name())
			}
			_ = filepath.WalkDir(dest, func(p string, _ os.DirEntry, _ error) error {
				if strings.Contains(filepath.Base(p), ".fanout-") {
					t.Errorf("a temporary file is left: %s", p)
				}
				return nil
			})
		})
	}
}

func stageWrite(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func stageLink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func stageMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func wantStaged(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != mode {
		t.Errorf("%s: mode %v, want %v", p, fi.Mode(), mode)
	}
	if b, _ := os.ReadFile(p); string(b) != content {
		t.Errorf("%s: %q, want %q", p, b, content)
	}
}

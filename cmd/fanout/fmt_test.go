package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unformatted = "task \"a\" {\nrun = \"true\"\n    rollback    = \"false\"\n}\n"
const formatted = "task \"a\" {\n  run      = \"true\"\n  rollback = \"false\"\n}\n"

// runInProcess runs the CLI in this process: fine for commands that start
// no plugin.
func runInProcess(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(args, &streams{Out: &out, Err: &errb})
	return out.String(), errb.String(), code
}

func fmtTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range map[string]string{
		"a.hcl":             unformatted,
		"b.hcl":             formatted,
		"notes.txt":         unformatted,
		".hidden.hcl":       unformatted,
		"sub/c.hcl":         unformatted,
		".fanout/p/d.hcl":   unformatted,
		"sub/deeper/e.hcl":  formatted,
		"sub/deeper/f.hcl~": unformatted,
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFmt(t *testing.T) {
	t.Run("check lists and changes nothing, exit 3", func(t *testing.T) {
		dir := fmtTree(t)
		out, errs, code := runInProcess("fmt", "-check", dir)
		if code != exitFmtCheck || out != filepath.Join(dir, "a.hcl")+"\n" || errs != "" {
			t.Errorf("exit %d\nstdout: %q\nstderr: %s", code, out, errs)
		}
		if read(t, filepath.Join(dir, "a.hcl")) != unformatted {
			t.Error("-check changed a file")
		}
	})
	t.Run("check of formatted files exits 0", func(t *testing.T) {
		dir := fmtTree(t)
		if out, _, code := runInProcess("fmt", "-check", filepath.Join(dir, "b.hcl")); code != 0 || out != "" {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("rewrites, recursively, skipping hidden and other files", func(t *testing.T) {
		dir := fmtTree(t)
		out, errs, code := runInProcess("fmt", "-recursive", dir)
		want := filepath.Join(dir, "a.hcl") + "\n" + filepath.Join(dir, "sub", "c.hcl") + "\n"
		if code != 0 || out != want || errs != "" {
			t.Errorf("exit %d\nstdout: %q, want %q\nstderr: %s", code, out, want, errs)
		}
		for name, want := range map[string]string{
			"a.hcl": formatted, "sub/c.hcl": formatted, "notes.txt": unformatted,
			".hidden.hcl": unformatted, ".fanout/p/d.hcl": unformatted, "sub/deeper/f.hcl~": unformatted,
		} {
			if got := read(t, filepath.Join(dir, filepath.FromSlash(name))); got != want {
				t.Errorf("%s:\n%s", name, got)
			}
		}
		if _, _, code := runInProcess("fmt", "-check", "-recursive", dir); code != 0 {
			t.Errorf("after fmt, -check exits %d", code)
		}
	})
	t.Run("a syntax error is reported and the file left alone", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.hcl")
		if err := os.WriteFile(bad, []byte("task \"a\" {\n  run = \n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, errs, code := runInProcess("fmt", bad)
		if code != exitUsage || !strings.Contains(errs, "bad.hcl line") {
			t.Errorf("exit %d\n%s", code, errs)
		}
	})
	t.Run("a missing path", func(t *testing.T) {
		_, errs, code := runInProcess("fmt", filepath.Join(t.TempDir(), "nope"))
		if code != exitUsage || !strings.Contains(errs, "no such file or directory") {
			t.Errorf("exit %d\n%s", code, errs)
		}
	})
}

// TestFmtStdin: fmt - formats stdin to stdout, as terraform fmt - does
// for editors and pipes; -check exits 3 when it is not formatted, and a
// syntax error is named at its line in <stdin>.
func TestFmtStdin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in   string
		args       []string
		code       int
		out, inErr string
	}{
		{"format", unformatted, nil, exitOK, formatted, ""},
		{"check, unformatted", unformatted, []string{"-check"}, exitFmtCheck, "", ""},
		{"check, formatted", formatted, []string{"-check"}, exitOK, "", ""},
		{"syntax error", "task \"a\" {\n", nil, exitUsage, "", "on <stdin> line 1"},
		// A configuration's limits: hclwrite on an 18 MB file took 35 s
		// and 4.7 GB.
		{"NUL byte", "a = 1\x00\n", nil, exitUsage, "", "Not a text file"},
		{"too large", strings.Repeat("a", 5<<20), nil, exitUsage, "", "larger than 4194304 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(fanoutBin, append(append([]string{"fmt"}, tt.args...), "-")...)
			cmd.Stdin = strings.NewReader(tt.in)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			_ = cmd.Run() // the exit code is checked below
			if code := cmd.ProcessState.ExitCode(); code != tt.code || out.String() != tt.out || !strings.Contains(errb.String(), tt.inErr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q and %q", code, out.String(), errb.String(), tt.code, tt.out, tt.inErr)
			}
		})
	}
}

package ssh

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
)

// TestForcedCommandIsNoSuccess: a server that runs something else in place
// of fanout's wrapper (sshd's ForceCommand here; an authorized_keys
// command=, a restricted or nologin shell alike) makes Exec fail, saying
// so, whatever that something exits: a forced `echo` exited 0, and a
// command list holding `false` passed for a success.
func TestForcedCommandIsNoSuccess(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{SSHDConfig: "ForceCommand echo forced-output\n"})
	s, h := newConnected(t, f, setupOpts{})
	for _, req := range []*sdk.ExecRequest{
		{Command: "true"},
		{Commands: []string{"echo step1", "false", "echo step3"}},
		{Command: "cat", Stdin: []byte("x")},
	} {
		req.ID, req.Host = nextID(), h.Name
		r := s.execReq(context.Background(), req)
		if r.err == nil || !strings.Contains(r.err.Error(), "wrapper did not run") || !strings.Contains(r.err.Error(), "exited 0") {
			t.Errorf("%q%q: %+v, %v; want an error: the wrapper did not run, the session exited 0", req.Command, req.Commands, r.resp, r.err)
		}
		if r.stdout != "forced-output\n" {
			t.Errorf("%q%q: stdout %q, want what the forced command printed", req.Command, req.Commands, r.stdout)
		}
	}
}

// TestStartupFileOutput: what a startup file of the login shell prints
// (bash reads ~/.bashrc when sshd runs it) is shown before a command's
// output, as ssh shows it, and kept out of a file downloaded through the
// shell (a server without SFTP), whose bytes and mode stay the file's; a
// startup file that reads the session's input, where fanout's script
// comes, stops the command from running at all, and Exec says why,
// instead of running it without the line eaten (an env variable).
func TestStartupFileOutput(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{NoSFTP: true})
	bashrc := filepath.Join(f.Dir, "home", ".bashrc")
	if err := os.WriteFile(bashrc, []byte("echo 'Welcome to bashrc'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, h := newConnected(t, f, setupOpts{})
	r := s.exec(context.Background(), h.Name, "echo hi", nil)
	if r.err != nil || r.resp.ExitCode != 0 {
		t.Fatalf("echo hi: %+v, %v", r.resp, r.err)
	}
	if !strings.HasPrefix(r.stdout, "Welcome") {
		t.Skipf("the login shell did not read %s (stdout %q): not bash, or a bash that does not read it under sshd", bashrc, r.stdout)
	}
	if r.stdout != "Welcome to bashrc\nhi\n" {
		t.Errorf("stdout %q, want the greeting, then the command's", r.stdout)
	}

	src := filepath.Join(t.TempDir(), "src.txt")
	if err := os.WriteFile(src, []byte("remote content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	resp, err := s.tr.(sdk.FileTransport).Download(context.Background(), &sdk.DownloadRequest{Host: h.Name, Path: src}, &got)
	if err != nil || got.String() != "remote content\n" || resp.Mode.Perm() != 0o644 {
		t.Errorf("download: %+v, %v, content %q; want the file's own bytes and mode 0644", resp, err, got.String())
	}

	// sshd runs an sftp-server program through the login shell too, whose
	// greeting came before SFTP's first packet ("packet too long"): the
	// transfer goes through the shell instead.
	sf := sshtest.Start(t, sshtest.Options{NoSFTP: true, SSHDConfig: "Subsystem sftp /usr/lib/openssh/sftp-server\n"})
	if err := os.WriteFile(filepath.Join(sf.Dir, "home", ".bashrc"), []byte("echo 'Welcome to bashrc'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ss, sh := newConnected(t, sf, setupOpts{})
	dst := filepath.Join(t.TempDir(), "up.txt")
	if _, err := ss.tr.(sdk.FileTransport).Upload(context.Background(), &sdk.UploadRequest{Host: sh.Name, Path: dst, Mode: 0o640, Size: 4}, strings.NewReader("abc\n")); err != nil {
		t.Errorf("upload beside an sftp-server behind a greeting: %v", err)
	} else if b, _ := os.ReadFile(dst); string(b) != "abc\n" {
		t.Errorf("uploaded %q, want \"abc\\n\"", b)
	}
	got.Reset()
	if _, err := ss.tr.(sdk.FileTransport).Download(context.Background(), &sdk.DownloadRequest{Host: sh.Name, Path: src}, &got); err != nil || got.String() != "remote content\n" {
		t.Errorf("download beside an sftp-server behind a greeting: %v, %q", err, got.String())
	}

	if err := os.WriteFile(bashrc, []byte("read -r _\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ran := filepath.Join(t.TempDir(), "ran")
	r = s.exec(context.Background(), h.Name, "echo $APP_ENV > "+ran, func(req *sdk.ExecRequest) {
		req.Env = map[string]string{"APP_ENV": "production"}
	})
	if r.err == nil || !strings.Contains(r.err.Error(), "wrapper did not run") {
		t.Errorf("with a .bashrc that reads stdin: %+v, %v; want an error: the wrapper did not run", r.resp, r.err)
	}
	if b, err := os.ReadFile(ran); err == nil {
		t.Errorf("the command ran (it wrote %q): a startup file ate a line of its script", b)
	}
}

// TestWrapperStartDeadline: a startup file that execs another shell
// (`exec zsh` in a .bashrc) makes that shell read fanout's script as its
// own input and wait for more: Exec fails once the wrapper has not started
// within wrapperStart, saying so, where it hung until its timeout, or for
// ever. Not parallel: it shortens wrapperStart for its own run.
func TestWrapperStartDeadline(t *testing.T) {
	if _, err := exec.LookPath("zsh"); err != nil {
		t.Skip("zsh is not installed (make test-deps installs it)")
	}
	f := sshtest.Start(t, sshtest.Options{})
	if err := os.WriteFile(filepath.Join(f.Dir, "home", ".bashrc"), []byte("exec zsh -f\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, h := newConnected(t, f, setupOpts{})
	defer func(d time.Duration) { wrapperStart = d }(wrapperStart)
	wrapperStart = 2 * time.Second
	start := time.Now()
	r := s.exec(context.Background(), h.Name, "echo never", nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "had not started it after 2s") {
		t.Errorf("with a .bashrc that execs zsh: %+v, %v; want the wrapper not started after 2s", r.resp, r.err)
	}
	if took := time.Since(start); took > loadedMargin {
		t.Errorf("took %s", took)
	}
	if strings.Contains(r.stdout, "never") {
		t.Errorf("stdout %q: the command ran", r.stdout)
	}
}

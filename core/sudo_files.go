package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// The files of a task with sudo are written and read as its sudo user,
// through nothing but the transport's Exec, Upload and Download, so that
// it works on every transport that carries files:
//
//  1. a private staging directory is made on the host as the login user
//     (mktemp -d: mode 0700, under $TMPDIR or /tmp);
//  2. uploads: each regular file is uploaded into it as it is today (whole
//     or not at all), with a script naming every entry of the blocks, its
//     destination and mode; downloads: a script naming each source;
//  3. for a sudo user other than root and the login user, the directory is
//     shared with that user alone through an ACL (setfacl), as Ansible
//     does with become_user: nobody else can read it;
//  4. the script runs through sudo as the sudo user, as commands do
//     (sudoExec: the password on stdin when the host asks for one, the
//     prompt marker filtered). An upload's entries are written beside their
//     destination under a temporary name, given their mode, and renamed
//     over it (owner: the sudo user); directories are made or kept, never
//     through a link, so nothing is written outside the destination;
//     symbolic links are made as links. A download's source is copied into
//     the staging directory readable by the login user, who downloads it;
//  5. the staging directory is removed, whatever happened, Ctrl-C
//     included, with a context of its own.

// stageTimeout bounds each command of the staging itself (mktemp, setfacl,
// rm): quick ones, whose transport might hang.
const stageTimeout = time.Minute

// staging is a pair's staging directory on a host.
type staging struct {
	dir string
	// login is the login user's name on the host.
	login string
}

// stage makes the pair's staging directory on h as the login user.
func (r *run) stage(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host) (*staging, error) {
	const cmd = `umask 077 && d=$(mktemp -d "${TMPDIR:-/tmp}/fanout-stage.XXXXXXXXXX") && printf '%s\n' "$d" && id -un`
	out, err := r.loginExec(ctx, tr, t, h, cmd)
	if err != nil {
		return nil, fmt.Errorf("make a staging directory as the login user: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !path.IsAbs(lines[0]) || path.Clean(lines[0]) != lines[0] {
		return nil, fmt.Errorf("make a staging directory as the login user: unexpected output %q", out)
	}
	return &staging{dir: lines[0], login: lines[1]}, nil
}

// share lets the sudo user, when it is neither root nor the login user,
// read and write the staging directory, through an ACL: nobody else can.
func (r *run) share(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, st *staging) error {
	if t.SudoUser == "root" || t.SudoUser == st.login {
		return nil
	}
	cmd := fmt.Sprintf("setfacl -R -m u:%s:rwX %s", config.ShellQuote(t.SudoUser), config.ShellQuote(st.dir))
	if _, err := r.loginExec(ctx, tr, t, h, cmd); err != nil {
		return fmt.Errorf("share the staged files with %s, the task's sudo_user, through an ACL: %w "+
			"(the host needs setfacl, from the acl package, and a file system with ACLs; or use sudo = true, as root)",
			t.SudoUser, err)
	}
	return nil
}

// unstage removes the staging directory: after an interrupt too, so with
// a context of its own.
func (r *run) unstage(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, st *staging) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stageTimeout)
	defer cancel()
	if _, err := r.loginExec(ctx, tr, t, h, "rm -rf -- "+config.ShellQuote(st.dir)); err != nil {
		r.logger.Warn("the staging directory was not removed", "task", t.Name, "host", h.Name, "dir", st.dir, "error", err)
	}
}

// loginExec runs cmd on h as the login user and returns its output; a
// failure is an error with the last line it wrote to stderr.
func (r *run) loginExec(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, cmd string) (string, error) {
	var stdout, stderr bytes.Buffer
	res := r.execOnce(ctx, tr, t, h, PhaseRun, -1, cmd, map[string]string{"LC_ALL": "C"}, stageTimeout,
		sdk.ExecOutput{Stdout: &stdout, Stderr: &stderr}, nil)
	if res.Status != StatusOK {
		return "", scriptError(res, stderr.String())
	}
	return stdout.String(), nil
}

// sudoScript runs the staged script through sudo as the task's sudo user,
// the password on stdin where the host asks for one, and returns what it
// printed.
func (r *run) sudoScript(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, script string) (string, error) {
	var stdout, stderr bytes.Buffer
	res := r.sudoExec(ctx, tr, t, h, PhaseRun, -1, ". "+config.ShellQuote(script), nil, 0,
		sdk.ExecOutput{Stdout: &stdout, Stderr: &stderr})
	if res.Status != StatusOK {
		if res.Err != "" && res.ExitCode == -1 {
			return "", errors.New(res.Err) // sudo's own refusal: sudo.go says it
		}
		return "", scriptError(res, stderr.String())
	}
	return stdout.String(), nil
}

// scriptError is the error of a staging command or script that failed:
// the last line it wrote to stderr, which names the entry, or how it ended.
func scriptError(res PhaseResult, stderr string) error {
	if msg := lastLine(strings.TrimSpace(stderr)); msg != "" {
		return errors.New(msg)
	}
	return errors.New(res.Describe())
}

// sudoUploads performs the uploads of t on h through a staging directory
// and sudo (see the top of this file).
func (r *run) sudoUploads(ctx context.Context, tr sdk.Transport, ft sdk.FileTransport, t *TaskNode, h *Host, uploads []*config.Upload) (err error) {
	st, err := r.stage(ctx, tr, t, h)
	if err != nil {
		return fmt.Errorf("upload through sudo: %w", err)
	}
	defer r.unstage(ctx, tr, t, h, st)
	sink := &stagingSink{ft: ft, host: h.Name, stage: st.dir}
	sink.script.WriteString("S=" + config.ShellQuote(st.dir) + "\n" + installScript)
	for _, u := range uploads {
		if err := r.upload(ctx, sink, u); err != nil {
			return err
		}
	}
	script := path.Join(st.dir, "install")
	if err := stageContent(ctx, ft, h, script, sink.script.String()); err != nil {
		return fmt.Errorf("upload through sudo: stage its script: %w", err)
	}
	if err := r.share(ctx, tr, t, h, st); err != nil {
		return fmt.Errorf("upload through sudo: %w", err)
	}
	_, err = r.sudoScript(ctx, tr, t, h, script)
	return err
}

// stageContent uploads content to a file of the staging directory.
func stageContent(ctx context.Context, ft sdk.FileTransport, h *Host, p, content string) error {
	_, err := ft.Upload(ctx, &sdk.UploadRequest{Host: h.Name, Path: p, Type: sdk.RegularFile, Mode: 0o600,
		Size: int64(len(content))}, strings.NewReader(content))
	return err
}

// stagingSink uploads an upload block's regular files into the staging
// directory, numbered, and writes the script that puts every entry in
// place as the sudo user.
type stagingSink struct {
	ft     sdk.FileTransport
	host   string
	stage  string
	n      int
	script strings.Builder
}

func (s *stagingSink) file(ctx context.Context, dest string, mode fs.FileMode, size int64, content io.Reader) error {
	s.n++
	name := strconv.Itoa(s.n)
	_, err := s.ft.Upload(ctx, &sdk.UploadRequest{Host: s.host, Path: path.Join(s.stage, name), Type: sdk.RegularFile,
		Mode: 0o600, Size: size}, content)
	if err != nil {
		return fmt.Errorf("upload %s: stage it as the login user: %w", dest, err)
	}
	fmt.Fprintf(&s.script, "F %s %s %s\n", name, config.ShellQuote(dest), sdk.ChmodOctal(mode))
	return nil
}

func (s *stagingSink) dir(_ context.Context, dest string, mode fs.FileMode) error {
	fmt.Fprintf(&s.script, "D %s %s\n", config.ShellQuote(dest), sdk.ChmodOctal(mode))
	return nil
}

func (s *stagingSink) link(_ context.Context, dest, target string) error {
	fmt.Fprintf(&s.script, "L %s %s\n", config.ShellQuote(dest), config.ShellQuote(target))
	return nil
}

// installScript is the head of an upload's script, after the line that
// sets S to the staging directory, run by sh as the sudo user; the lines that follow call
// F (a staged file), D (a directory) and L (a link) once per entry,
// parents before what they hold. The first failure ends it, naming the
// destination on its last line of stderr; a temporary file left by a
// failure or a signal is removed.
const installScript = `set -u
umask 077
tmp=
trap 'if [ -n "$tmp" ]; then rm -f -- "$tmp"; fi' EXIT
trap 'exit 130' HUP INT TERM
fail() {
	printf 'upload %s: %s\n' "$1" "$2" >&2
	exit 1
}
temp() {
	tmp=$(mktemp "$(dirname -- "$1")/.$(basename -- "$1").fanout-XXXXXXXXXX" 2>/dev/null) ||
		fail "$1" "cannot write in $(dirname -- "$1")"
}
place() {
	if [ -d "$1" ] && [ ! -L "$1" ]; then
		fail "$1" "exists and is a directory"
	fi
	# mv into a link to a directory would move into that directory.
	if [ -L "$1" ] && [ -d "$1" ]; then
		rm -f -- "$1" || fail "$1" "cannot replace the link"
	fi
	mv -f -- "$tmp" "$1" || fail "$1" "cannot rename into place"
	tmp=
}
F() {
	temp "$2"
	cat -- "$S/$1" >"$tmp" || fail "$2" "cannot write"
	chmod "$3" "$tmp" || fail "$2" "cannot set mode $3"
	place "$2"
}
D() {
	if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
		fail "$1" "exists and is not a directory"
	fi
	if [ ! -d "$1" ]; then
		mkdir -- "$1" || fail "$1" "cannot create the directory"
	fi
	chmod "$2" "$1" || fail "$1" "cannot set mode $2"
}
L() {
	temp "$1"
	{ rm -f -- "$tmp" && ln -s -- "$2" "$tmp"; } || fail "$1" "cannot make the link"
	place "$1"
}
`

// sudoDownloads performs the downloads of t on h: a script through sudo
// copies each source into the staging directory, readable by the login
// user, which downloads it (see the top of this file). The local file's
// mode follows the host's file: 0644, or 0600 when not readable by all.
func (r *run) sudoDownloads(ctx context.Context, tr sdk.Transport, ft sdk.FileTransport, t *TaskNode, h *Host, downloads []*config.Download) error {
	st, err := r.stage(ctx, tr, t, h)
	if err != nil {
		return fmt.Errorf("download through sudo: %w", err)
	}
	defer r.unstage(ctx, tr, t, h, st)
	var script strings.Builder
	script.WriteString("S=" + config.ShellQuote(st.dir) + "\n" + fetchScript)
	for i, d := range downloads {
		fmt.Fprintf(&script, "G %s %d\n", config.ShellQuote(d.Source), i+1)
	}
	p := path.Join(st.dir, "fetch")
	if err := stageContent(ctx, ft, h, p, script.String()); err != nil {
		return fmt.Errorf("download through sudo: stage its script: %w", err)
	}
	if err := r.share(ctx, tr, t, h, st); err != nil {
		return fmt.Errorf("download through sudo: %w", err)
	}
	out, err := r.sudoScript(ctx, tr, t, h, p)
	if err != nil {
		return err
	}
	private := map[string]bool{}
	for _, l := range strings.Fields(out) {
		private[l] = true
	}
	for i, d := range downloads {
		name := strconv.Itoa(i + 1)
		mode := fs.FileMode(0o644)
		if private[name] {
			mode = 0o600
		}
		if err := download(ctx, ft, h, path.Join(st.dir, name), d, mode); err != nil {
			return err
		}
	}
	return nil
}

// fetchScript is the head of a download's script, after the line that
// sets S to the staging directory, run by sh as the sudo user; the lines that follow call G SOURCE N once per download, which
// copies SOURCE to the staging directory as N, readable by the login user
// (the directory is the login user's, and private), and prints N when
// SOURCE is not readable by all.
const fetchScript = `set -u
umask 077
fail() {
	printf 'download %s: %s\n' "$1" "$2" >&2
	exit 1
}
G() {
	if [ ! -e "$1" ]; then
		fail "$1" "no such file"
	fi
	if [ ! -f "$1" ]; then
		fail "$1" "not a regular file"
	fi
	cat -- "$1" >"$S/$2" || fail "$1" "cannot read it"
	chmod 0644 "$S/$2" || fail "$1" "cannot make the copy readable"
	case $(ls -lLd -- "$1") in
	???????r*) ;;
	*) echo "$2" ;;
	esac
}
`

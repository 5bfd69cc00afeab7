package ssh

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/internal/shellquote"
	"github.com/fanout/fanout/sdk"
)

// Files travel on the host's one connection, like commands: each Upload or
// Download takes a session slot (max_sessions) and opens the "sftp"
// subsystem on it. A server without one (dropbear without sftp-server, an
// OpenSSH whose Subsystem line was removed) refuses the subsystem, and one
// whose sftp-server (run through the login shell) answers with a startup
// file's greeting first is no better; the connection remembers that, and
// its transfers go through the shell
// instead: the file is piped into `cat` and checked by size before it is
// renamed into place, and read back with `cat`. Either way a file is
// written to a temporary name beside its destination and renamed over it
// only once whole, with its mode set explicitly, so a failure or a
// cancellation leaves the destination as it was.

var _ sdk.FileTransport = (*Transport)(nil)

// Upload creates req.Path on req.Host; see sdk.FileTransport.
func (t *Transport) Upload(ctx context.Context, req *sdk.UploadRequest, content io.Reader) (*sdk.UploadResponse, error) {
	if !path.IsAbs(req.Path) || path.Clean(req.Path) != req.Path || req.Path == "/" {
		return nil, fmt.Errorf("host %s: %q is not an absolute, clean path to a file", req.Host, req.Path)
	}
	err := t.withConn(ctx, req.Host, func(hc *hostConn, abort <-chan struct{}) error {
		return hc.upload(ctx, abort, req, content)
	})
	if err != nil {
		return nil, fmt.Errorf("host %s: upload %s: %w", req.Host, req.Path, err)
	}
	return &sdk.UploadResponse{}, nil
}

// Download streams the regular file req.Path of req.Host to content.
func (t *Transport) Download(ctx context.Context, req *sdk.DownloadRequest, content io.Writer) (*sdk.DownloadResponse, error) {
	var resp *sdk.DownloadResponse
	err := t.withConn(ctx, req.Host, func(hc *hostConn, abort <-chan struct{}) error {
		var err error
		resp, err = hc.download(ctx, abort, req.Path, content)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("host %s: download %s: %w", req.Host, req.Path, err)
	}
	return resp, nil
}

// withConn runs f on host's connection, made if need be, as Exec does: it
// counts as a run that Close waits for, and Close aborts it.
func (t *Transport) withConn(ctx context.Context, host string, f func(hc *hostConn, abort <-chan struct{}) error) error {
	st, err := t.settings()
	if err != nil {
		return err
	}
	ex := newExecution()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	t.runs.Add(1)
	t.mu.Unlock()
	defer t.runs.Done()
	tg, err := t.target(st, host)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, func() { cancel(); ex.stop() })
	defer stop()
	hc, err := t.connect(cctx, st, tg)
	if err != nil {
		return err
	}
	return f(hc, ex.abort)
}

// errNoSFTP is why a transfer went through the shell.
var errNoSFTP = errors.New("the server has no sftp subsystem")

// sftpClient opens an SFTP client on a new session of the connection,
// holding a session slot until the returned function closes both. It
// returns errNoSFTP, and the connection remembers it, when the server
// refuses the subsystem.
func (c *hostConn) sftpClient(ctx context.Context, abort <-chan struct{}) (*sftp.Client, func(), error) {
	if c.noSFTP.Load() {
		return nil, nil, errNoSFTP
	}
	if err := c.acquire(ctx, abort); err != nil {
		return nil, nil, err
	}
	sess, err := c.newSession(ctx, abort)
	if err != nil {
		return nil, nil, err
	}
	end := func() { c.endSession(sess) }
	ok, err := sess.ch.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{"sftp"}))
	if err != nil {
		end()
		if c.endedBy(err) {
			return nil, nil, c.lost()
		}
		return nil, nil, fmt.Errorf("start sftp on %s: %w", c.addr, err)
	}
	if !ok {
		end()
		c.noSFTP.Store(true)
		c.logger.Debug("no sftp subsystem: files go through the shell")
		return nil, nil, errNoSFTP
	}
	// What sftp-server says on stderr is read, so that it cannot fill
	// the channel's window; end waits for the reader.
	sess.copying.Go(func() { _, _ = io.Copy(io.Discard, sess.ch.Stderr()) })
	r, w := io.Reader(sess.ch), io.WriteCloser(sess.ch)
	// Concurrent writes keep a long path full; the file is renamed
	// into place only once they all landed.
	client, err := sftp.NewClientPipe(r, w, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true))
	if err != nil {
		end()
		if c.alive() && strings.Contains(err.Error(), "version packet") {
			// sshd runs an sftp-server program through the login shell,
			// whose startup file printed first ("packet too long"): as
			// sftp(1) says, the session is not clean. The shell's way
			// skips what the login shell prints.
			c.noSFTP.Store(true)
			c.logger.Debug("the sftp subsystem's first answer was not SFTP (a startup file of the login shell prints?): files go through the shell", "error", err)
			return nil, nil, errNoSFTP
		}
		return nil, nil, fmt.Errorf("start sftp on %s: %w", c.addr, err)
	}
	return client, func() { _ = client.Close(); end() }, nil
}

// stopOn closes the transfer's session when ctx or abort ends, which makes
// its blocked SFTP call or shell return. The returned function stops
// watching.
func stopOn(ctx context.Context, abort <-chan struct{}, closeFn func()) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case <-ctx.Done():
			closeFn()
		case <-abort:
			closeFn()
		case <-done:
		}
	}()
	return func() { close(done); <-finished }
}

func (c *hostConn) upload(ctx context.Context, abort <-chan struct{}, req *sdk.UploadRequest, content io.Reader) error {
	client, closeFn, err := c.sftpClient(ctx, abort)
	if errors.Is(err, errNoSFTP) {
		return c.shellUpload(ctx, abort, req, content)
	}
	if err != nil {
		return err
	}
	defer closeFn()
	switch req.Type {
	case sdk.Directory:
		return sftpMkdir(client, req.Path, req.Mode)
	case sdk.Symlink:
		tmp := tempName(req.Path)
		if err := client.Symlink(req.LinkTarget, tmp); err != nil {
			return err
		}
		if err := client.PosixRename(tmp, req.Path); err != nil {
			_ = client.Remove(tmp)
			return err
		}
		return nil
	}
	return c.sftpWrite(ctx, abort, client, req, content)
}

// sftpWrite writes a regular file beside req.Path and renames it over it.
func (c *hostConn) sftpWrite(ctx context.Context, abort <-chan struct{}, client *sftp.Client, req *sdk.UploadRequest, content io.Reader) (err error) {
	tmp := tempName(req.Path)
	f, err := client.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("cannot write in %s: %w", path.Dir(req.Path), err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = f.Close() // abandoned: the error that matters is the one returned
			// The session may be gone (cancelled): a new one cleans up.
			if client.Remove(tmp) != nil {
				c.removeLater(tmp)
			}
		}
	}()
	// SFTP's open carries no mode here, so the server created the file
	// through its umask (often 0644): made private before any data goes in,
	// as the shell's path does with umask 077. req.Mode is set at the end.
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	// The copy reads content until it ends; content (sdk's) fails on its
	// own on a cancellation.
	n, err := sftpCopy(ctx, abort, client, f, content)
	if err != nil {
		return err
	}
	if n != req.Size {
		return fmt.Errorf("got %d bytes, want %d", n, req.Size)
	}
	if err := f.Chmod(req.Mode); err != nil {
		return err
	}
	// fsync@openssh.com where the server has it: after a crash the
	// destination holds the old file or the whole new one.
	if err := f.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := client.PosixRename(tmp, req.Path); err != nil {
		return err
	}
	committed = true
	return nil
}

// sftpCopy copies src to dst, closing client when ctx or abort ends so
// that a copy blocked on it returns. Once ctx ended, its error is the
// copy's: what a closed client says of it would only mislead.
func sftpCopy(ctx context.Context, abort <-chan struct{}, client *sftp.Client, dst io.Writer, src io.Reader) (int64, error) {
	stopWatch := stopOn(ctx, abort, func() { _ = client.Close() })
	n, err := io.Copy(dst, src)
	stopWatch()
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, err
}

// removeLater removes a temporary file that a cancelled transfer left,
// through the shell on a new session, since the cancellation closed the
// transfer's: best effort, bounded by cleanupWait.
func (c *hostConn) removeLater(tmp string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupWait)
	defer cancel()
	if err := c.shellRun(ctx, c.gone, "rm -f "+shellquote.Quote(tmp), nil, io.Discard); err != nil {
		c.logger.Debug("could not remove a cancelled upload's temporary file", "path", tmp, "error", err)
	}
}

// cleanupWait bounds the removal of a cancelled upload's temporary file.
const cleanupWait = 5 * time.Second

func isUnsupported(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported
}

func sftpMkdir(client *sftp.Client, p string, mode fs.FileMode) error {
	if err := client.Mkdir(p); err != nil {
		fi, lerr := client.Lstat(p)
		if lerr != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", p)
		}
	}
	return client.Chmod(p, mode)
}

func (c *hostConn) download(ctx context.Context, abort <-chan struct{}, p string, content io.Writer) (*sdk.DownloadResponse, error) {
	client, closeFn, err := c.sftpClient(ctx, abort)
	if errors.Is(err, errNoSFTP) {
		return c.shellDownload(ctx, abort, p, content)
	}
	if err != nil {
		return nil, err
	}
	defer closeFn()
	f, err := client.Open(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	n, err := sftpCopy(ctx, abort, client, content, f)
	if err != nil {
		return nil, err
	}
	return &sdk.DownloadResponse{Mode: permBits(fi.Mode()), Size: n}, nil
}

func permBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// tempName is a fresh hidden name beside p.
func tempName(p string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return path.Join(path.Dir(p), "."+path.Base(p)+".fanout-"+hex.EncodeToString(b[:]))
}

// shellRun runs script on a new session with stdin and stdout, closing the
// session when ctx or abort ends. Stderr is the error's text. What the
// login shell prints before the script runs (a startup file's greeting)
// is not script's output, and is left out of stdout (see progress).
func (c *hostConn) shellRun(ctx context.Context, abort <-chan struct{}, script string, stdin io.Reader, stdout io.Writer) error {
	if err := c.acquire(ctx, abort); err != nil {
		return err
	}
	sess, err := c.newSession(ctx, abort)
	if err != nil {
		return err
	}
	defer c.endSession(sess)
	var stderr bytes.Buffer
	stopWatch := stopOn(ctx, abort, func() { _ = sess.ch.Close() })
	defer stopWatch()
	p, nonce := newProgress()
	p.skip, p.plain = true, true
	sess.progress = p
	script = ranMarker(nonce) + "; " + script
	if err := sess.start("exec /bin/sh -c "+shellquote.Quote(script), nil, sdk.ExecOutput{Stdout: stdout, Stderr: &stderr}, nil); err != nil {
		if c.endedBy(err) {
			return c.lost()
		}
		return err
	}
	if stdin != nil {
		if _, err := io.Copy(sess.ch, stdin); err != nil && ctx.Err() == nil {
			return err
		}
	}
	// The end of stdin tells cat the file is complete.
	_ = sess.ch.CloseWrite()
	// The server closes the channel after the output and the status.
	select {
	case <-sess.closed:
	case <-sess.refused:
		return errors.New("the server refused the exec request")
	case <-ctx.Done():
	case <-abort:
		return ErrClosed
	}
	sess.copying.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if werr := sess.writeFailure(); werr != nil {
		return werr
	}
	status, signal, ok := sess.result()
	switch {
	case ok && status == 0 && !p.ran:
		return c.wrapperNotRun("exited 0 before it started")
	case ok && status == 0:
		return nil
	case strings.TrimSpace(stderr.String()) != "":
		return errors.New(strings.TrimSpace(stderr.String()))
	case !ok:
		return c.lost()
	case signal != "":
		return fmt.Errorf("killed by SIG%s", signal)
	}
	return fmt.Errorf("exit %d", status)
}

// shellUpload is upload through the shell, for a server without SFTP. A
// file's bytes are counted before the rename: a transfer cut short (the
// session closed, cat saw the end of its input) leaves a short temporary
// file, which is removed.
func (c *hostConn) shellUpload(ctx context.Context, abort <-chan struct{}, req *sdk.UploadRequest, content io.Reader) error {
	p, dir := shellquote.Quote(req.Path), shellquote.Quote(path.Dir(req.Path))
	var script string
	switch req.Type {
	case sdk.Directory:
		script = fmt.Sprintf(`if [ -d %[1]s ] && [ ! -L %[1]s ]; then :; elif ! mkdir %[1]s; then exit 1; fi; chmod %[2]s %[1]s`, p, sdk.ChmodOctal(req.Mode))
		content = nil
	case sdk.Symlink:
		tmp := shellquote.Quote(tempName(req.Path))
		script = fmt.Sprintf(`if [ -d %[1]s ] && [ ! -L %[1]s ]; then echo %[1]s" is a directory" >&2; exit 1; fi; `+
			`ln -s %[2]s %[3]s && mv -f %[3]s %[1]s || { rm -f %[3]s; exit 1; }`, p, shellquote.Quote(req.LinkTarget), tmp)
		content = nil
	default:
		tmp := shellquote.Quote(tempName(req.Path))
		script = fmt.Sprintf(`[ -d %[1]s ] || { echo "cannot write in "%[1]s": no such directory" >&2; exit 1; }; `+
			`umask 077; set -C; : > %[2]s || exit 1; set +C; `+
			`if cat > %[2]s && [ "$(wc -c < %[2]s)" -eq %[3]s ] && chmod %[4]s %[2]s && mv -f %[2]s %[5]s; then exit 0; fi; rm -f %[2]s; exit 1`,
			dir, tmp, strconv.FormatInt(req.Size, 10), sdk.ChmodOctal(req.Mode), p)
	}
	return c.shellRun(ctx, abort, script, content, io.Discard)
}

// shellDownload is download through the shell: the mode from ls, then the
// content from cat.
func (c *hostConn) shellDownload(ctx context.Context, abort <-chan struct{}, p string, content io.Writer) (*sdk.DownloadResponse, error) {
	q := shellquote.Quote(p)
	var ls bytes.Buffer
	if err := c.shellRun(ctx, abort, fmt.Sprintf(`[ -f %[1]s ] || { echo "not a regular file" >&2; exit 1; }; ls -ld %[1]s`, q), nil, &ls); err != nil {
		return nil, err
	}
	mode := lsMode(ls.String())
	cw := &countingWriter{w: content}
	if err := c.shellRun(ctx, abort, "exec cat "+q, nil, cw); err != nil {
		return nil, err
	}
	return &sdk.DownloadResponse{Mode: mode, Size: cw.n}, nil
}

// lsMode reads the permission bits of `ls -l`'s first word ("-rwsr-x---").
func lsMode(line string) fs.FileMode {
	f, _, _ := strings.Cut(strings.TrimSpace(line), " ")
	if len(f) < 10 {
		return 0
	}
	var m fs.FileMode
	for i, c := range f[1:10] {
		bit := fs.FileMode(1) << (8 - i)
		switch c {
		case 'r', 'w', 'x':
			m |= bit
		case 's':
			m |= bit
			if i == 2 {
				m |= fs.ModeSetuid
			} else {
				m |= fs.ModeSetgid
			}
		case 'S':
			if i == 2 {
				m |= fs.ModeSetuid
			} else {
				m |= fs.ModeSetgid
			}
		case 't':
			m |= bit | fs.ModeSticky
		case 'T':
			m |= fs.ModeSticky
		}
	}
	return m
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

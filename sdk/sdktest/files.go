package sdktest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/fanout/fanout/sdk"
)

// This file holds the clauses of protocol 1.2: stdin, Upload and Download.
// Each runs only when the transport declares the capability it needs, and
// checks the result with commands (cat, ls), so that an upload is never
// judged by the same transport's download alone.

// largeFileSize is the size of the large file the suite uploads: many
// chunks, and not a multiple of any buffer size.
const largeFileSize = 4<<20 + 4097

// fileClauses runs the clauses of file transfers and stdin, as subtests of
// t, for the capabilities desc declares.
func (c *conformance) fileClauses(t *testing.T, desc *sdk.DescribeResponse) {
	caps := desc.Capabilities
	need := func(name string, ok bool, what string, f func(*testing.T)) { declared(t, name, ok, what, f) }
	ft, _ := c.tr.(sdk.FileTransport)
	if (caps.Upload || caps.Download) && ft == nil {
		t.Errorf("the transport declares file transfers but %T does not implement sdk.FileTransport", c.tr)
		return
	}
	c.files = ft
	need("stdin bytes", caps.Stdin, "Stdin", c.stdinBytes)
	need("stdin of a command list", caps.Stdin && caps.CommandList, "Stdin and CommandList", c.stdinCommandList)
	need("upload large file", caps.Upload, "Upload", c.uploadLarge)
	need("upload empty file", caps.Upload, "Upload", c.uploadEmpty)
	need("upload directory and symlink", caps.Upload, "Upload", c.uploadDirectory)
	need("upload sets modes", caps.Upload, "Upload", c.uploadModes)
	need("upload to an unwritable path", caps.Upload, "Upload", c.uploadUnwritable)
	need("upload cancelled mid-transfer", caps.Upload, "Upload", c.uploadCancelled)
	need("upload's temporary file is private", caps.Upload, "Upload", c.uploadPrivateTemp)
	need("upload shorter than its size", caps.Upload, "Upload", c.uploadShort)
	need("download", caps.Download && caps.Upload, "Upload and Download", c.download)
	need("download missing file", caps.Download, "Download", c.downloadMissing)
}

// stdinBytes checks that ExecRequest.Stdin reaches the command exactly:
// every byte value, no newline added at its end, and an empty one is an
// empty stdin.
func (c *conformance) stdinBytes(t *testing.T) {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	for _, tt := range []struct {
		name  string
		stdin []byte
	}{
		{"text", []byte("line one\nsecret\x00bytes")},
		{"every byte value", every},
		{"empty", []byte{}},
	} {
		req := c.request("cat; echo end")
		req.Stdin = tt.stdin
		r := c.run(t, req)
		if want := string(tt.stdin) + "end\n"; r.Stdout.String() != want {
			t.Errorf("%s: stdout = %q, want %q: the command must read Stdin, then its end", tt.name, r.Stdout.String(), want)
		}
	}
}

// stdinCommandList checks that each command of ExecRequest.Commands reads
// the whole of Stdin, as each would run alone with it (fanout calls Exec
// once per command, with the same Stdin, on a transport without
// CommandList).
func (c *conformance) stdinCommandList(t *testing.T) {
	req := c.request("")
	req.Command, req.Commands = "", []string{"cat", "echo; cat; echo", "cat"}
	req.Stdin = []byte("pw")
	r := c.run(t, req)
	if want := "pw\npw\npw"; r.Stdout.String() != want || r.Resp.Command != 2 || r.Resp.ExitCode != 0 {
		t.Errorf("stdout = %q, response %+v; want %q from command 2, exit 0: each command must read all of Stdin", r.Stdout.String(), *r.Resp, want)
	}
}

// upload uploads a regular file of content with mode.
func (c *conformance) upload(ctx context.Context, path string, mode fs.FileMode, content []byte) error {
	_, err := c.files.Upload(ctx, &sdk.UploadRequest{
		Host: c.host.Name, Path: path, Type: sdk.RegularFile, Mode: mode, Size: int64(len(content)),
	}, bytes.NewReader(content))
	return err
}

// listing returns `ls -A` of dir on the host.
func (c *conformance) listing(t *testing.T, dir string) string {
	t.Helper()
	r := c.run(t, c.request("ls -A '"+dir+"'"))
	if r.Resp.ExitCode != 0 {
		t.Fatalf("ls -A %s: exit %d: %s", dir, r.Resp.ExitCode, r.Stderr.String())
	}
	return strings.TrimSpace(r.Stdout.String())
}

// lsMode returns the mode `ls -ld` shows for path ("-rw-r-----").
func (c *conformance) lsMode(t *testing.T, path string) string {
	t.Helper()
	r := c.run(t, c.request("ls -ld '"+path+"'"))
	if r.Resp.ExitCode != 0 {
		t.Fatalf("ls -ld %s: exit %d: %s", path, r.Resp.ExitCode, r.Stderr.String())
	}
	mode, _, _ := strings.Cut(r.Stdout.String(), " ")
	return strings.TrimRight(mode, ".+@")
}

// catSum returns the SHA-256 of path's content as `cat` prints it.
func (c *conformance) catSum(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	h := sha256.New()
	resp, err := c.tr.Exec(context.Background(), c.request("cat '"+path+"'"), sdk.ExecOutput{Stdout: h})
	if err != nil || resp.ExitCode != 0 {
		t.Fatalf("cat %s: %v %+v", path, err, resp)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{1})
	_, _ = r.Read(b)
	return b
}

func (c *conformance) uploadLarge(t *testing.T) {
	dir := c.tempDir(t)
	content := randomBytes(largeFileSize)
	path := dir + "/large.bin"
	if err := c.upload(context.Background(), path, 0o640, content); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if c.catSum(t, path) != sha256.Sum256(content) {
		t.Error("the uploaded file's content differs from what was sent")
	}
	if got := c.lsMode(t, path); got != "-rw-r-----" {
		t.Errorf("mode = %s, want -rw-r----- (0640)", got)
	}
	if got := c.listing(t, dir); got != "large.bin" {
		t.Errorf("directory holds %q, want only large.bin: no temporary file may stay", got)
	}
}

func (c *conformance) uploadEmpty(t *testing.T) {
	dir := c.tempDir(t)
	path := dir + "/empty"
	if err := c.upload(context.Background(), path, 0o600, nil); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	r := c.run(t, c.request("test -f '"+path+"' && ! test -s '"+path+"'"))
	if r.Resp.ExitCode != 0 {
		t.Error("the empty upload is not an empty regular file")
	}
}

func (c *conformance) uploadDirectory(t *testing.T) {
	dir := c.tempDir(t)
	ctx := context.Background()
	tree := dir + "/tree"
	steps := []sdk.UploadRequest{
		{Path: tree, Type: sdk.Directory, Mode: 0o750},
		{Path: tree + "/sub", Type: sdk.Directory, Mode: 0o700},
		{Path: tree + "/link", Type: sdk.Symlink, LinkTarget: "sub/f"},
		{Path: tree + "/dangling", Type: sdk.Symlink, LinkTarget: "../no/such/thing"},
	}
	for _, req := range steps {
		req.Host = c.host.Name
		if _, err := c.files.Upload(ctx, &req, bytes.NewReader(nil)); err != nil {
			t.Fatalf("Upload %s %s: %v", req.Type, req.Path, err)
		}
	}
	if err := c.upload(ctx, tree+"/sub/f", 0o644, []byte("in the tree\n")); err != nil {
		t.Fatalf("Upload file in the tree: %v", err)
	}
	if got := c.lsMode(t, tree); got != "drwxr-x---" {
		t.Errorf("directory mode = %s, want drwxr-x--- (0750)", got)
	}
	if got := c.lsMode(t, tree+"/sub"); got != "drwx------" {
		t.Errorf("subdirectory mode = %s, want drwx------ (0700)", got)
	}
	if r := c.run(t, c.request("cat '"+tree+"/link'")); r.Stdout.String() != "in the tree\n" {
		t.Errorf("cat through the link = %q, want the file it points to", r.Stdout.String())
	}
	for link, target := range map[string]string{"link": "sub/f", "dangling": "../no/such/thing"} {
		r := c.run(t, c.request("ls -l '"+tree+"/"+link+"'"))
		if !strings.HasPrefix(r.Stdout.String(), "l") || !strings.HasSuffix(strings.TrimSpace(r.Stdout.String()), "-> "+target) {
			t.Errorf("ls -l %s = %q, want a symbolic link to %s", link, r.Stdout.String(), target)
		}
	}
	// Again, onto what exists: a directory keeps its content and takes the
	// new mode, a link is replaced.
	for _, req := range []sdk.UploadRequest{
		{Path: tree, Type: sdk.Directory, Mode: 0o755},
		{Path: tree + "/link", Type: sdk.Symlink, LinkTarget: "sub"},
	} {
		req.Host = c.host.Name
		if _, err := c.files.Upload(ctx, &req, bytes.NewReader(nil)); err != nil {
			t.Fatalf("Upload %s %s again: %v", req.Type, req.Path, err)
		}
	}
	if got := c.lsMode(t, tree); got != "drwxr-xr-x" {
		t.Errorf("directory mode after a second upload = %s, want drwxr-xr-x", got)
	}
	if got := c.listing(t, tree); got != "dangling\nlink\nsub" {
		t.Errorf("tree holds %q after a second upload, want dangling, link, sub", got)
	}
}

func (c *conformance) uploadModes(t *testing.T) {
	dir := c.tempDir(t)
	ctx := context.Background()
	path := dir + "/f"
	// 0777 would be cut by any umask: the mode must be set, not asked for.
	for _, m := range []struct {
		mode fs.FileMode
		ls   string
	}{{0o777, "-rwxrwxrwx"}, {0o600, "-rw-------"}, {0o755, "-rwxr-xr-x"}} {
		if err := c.upload(ctx, path, m.mode, []byte("x")); err != nil {
			t.Fatalf("Upload with mode %o: %v", m.mode, err)
		}
		if got := c.lsMode(t, path); got != m.ls {
			t.Errorf("after an upload with mode %o, ls shows %s, want %s", m.mode, got, m.ls)
		}
	}
}

func (c *conformance) uploadUnwritable(t *testing.T) {
	dir := c.tempDir(t)
	ctx := context.Background()
	c.run(t, c.request("echo file > '"+dir+"/plain'"))
	for _, path := range []string{
		dir + "/missing/f",     // the parent does not exist: Upload creates nothing above the path
		dir + "/plain/f",       // the parent is a file
		dir + "/plain/sub/f",   // deeper still
		dir + "/",              // a directory is no file's name
		"relative/not/allowed", // not absolute
	} {
		if err := c.upload(ctx, path, 0o644, []byte("x")); err == nil {
			t.Errorf("Upload to %s succeeded, want an error", path)
		}
	}
	if got := c.listing(t, dir); got != "plain" {
		t.Errorf("directory holds %q after failed uploads, want only plain", got)
	}
}

// blockingReader gives its first part, then blocks until the test ends
// or ctx, the upload's, is cancelled, as the content of an upload over the
// wire does.
type blockingReader struct {
	ctx   context.Context
	first []byte
	read  chan struct{} // closed once first has been read
	stop  <-chan struct{}
	once  sync.Once
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.first) > 0 {
		n := copy(p, r.first)
		r.first = r.first[n:]
		if len(r.first) == 0 {
			r.once.Do(func() { close(r.read) })
		}
		return n, nil
	}
	select {
	case <-r.stop:
		return 0, errors.New("sdktest: reader stopped")
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	}
}

// uploadBlocked starts an upload to path of a 0600 file of 2 MiB whose
// content stops after its first MiB until ctx is cancelled, and returns
// once that MiB was read: the upload is then in progress. The channel
// gets Upload's error.
func (c *conformance) uploadBlocked(ctx context.Context, t *testing.T, path string) <-chan error {
	t.Helper()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	content := &blockingReader{ctx: ctx, first: randomBytes(1 << 20), read: make(chan struct{}), stop: stop}
	done := make(chan error, 1)
	go func() {
		_, err := c.files.Upload(ctx, &sdk.UploadRequest{
			Host: c.host.Name, Path: path, Type: sdk.RegularFile, Mode: 0o600, Size: 2 << 20,
		}, content)
		done <- err
	}()
	select {
	case <-content.read:
	case err := <-done:
		t.Fatalf("Upload returned before its content was read: %v", err)
	}
	return done
}

func (c *conformance) uploadCancelled(t *testing.T) {
	dir := c.tempDir(t)
	path := dir + "/f"
	if err := c.upload(context.Background(), path, 0o644, []byte("old\n")); err != nil {
		t.Fatalf("Upload of the old file: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := c.uploadBlocked(ctx, t, path)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Upload error = %v, want one matching context.Canceled", err)
		}
	case <-time.After(c.wait):
		t.Fatalf("Upload did not return within %s of its cancellation", c.wait)
	}
	// The plugin learns of the cancellation a moment after the host does.
	Eventually(t, c.wait, "the cancelled upload's temporary file to go", func() bool {
		return c.listing(t, dir) == "f"
	})
	if r := c.run(t, c.request("cat '"+path+"'")); r.Stdout.String() != "old\n" {
		t.Errorf("the destination holds %d bytes after a cancelled upload, want the old file", len(r.Stdout.String()))
	}
}

// uploadPrivateTemp checks that the file an upload writes before its
// rename is its owner's alone while the data goes in, whatever the final
// mode and the host's umask: a 0600 secret is never readable on the host
// under its temporary name.
func (c *conformance) uploadPrivateTemp(t *testing.T) {
	dir := c.tempDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := c.uploadBlocked(ctx, t, dir+"/secret")
	defer func() { cancel(); _ = <-done }() // the cancellation is its error
	// The host may create the file a moment after the data left.
	var tmp string
	Eventually(t, c.wait, "the upload's temporary file to appear", func() bool {
		tmp = c.listing(t, dir)
		return tmp != ""
	})
	if got := c.lsMode(t, dir+"/"+tmp); got != "-rw-------" {
		t.Errorf("temporary file %s has mode %s while written, want -rw------- (its owner's only)", tmp, got)
	}
}

// uploadShort: content that breaks off before its size (as the SDK gives
// a plugin a stream cut short: an error, never io.EOF, which comes only
// after req.Size bytes) fails the upload and leaves nothing. The content
// is given as the SDK gives it, so that a plugin committing on io.EOF
// alone, which sdk.FileTransport calls correct, passes directly and over
// gRPC alike.
func (c *conformance) uploadShort(t *testing.T) {
	dir := c.tempDir(t)
	content := io.MultiReader(strings.NewReader("short"), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, err := c.files.Upload(context.Background(), &sdk.UploadRequest{
		Host: c.host.Name, Path: dir + "/f", Type: sdk.RegularFile, Mode: 0o644, Size: 10,
	}, content)
	if err == nil {
		t.Error("Upload of content that broke off after 5 of its 10 bytes succeeded, want an error")
	}
	Eventually(t, c.wait, "the short upload to leave nothing", func() bool { return c.listing(t, dir) == "" })
}

func (c *conformance) download(t *testing.T) {
	dir := c.tempDir(t)
	content := randomBytes(largeFileSize)
	path := dir + "/large.bin"
	if err := c.upload(context.Background(), path, 0o604, content); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	h := sha256.New()
	resp, err := c.files.Download(context.Background(), &sdk.DownloadRequest{Host: c.host.Name, Path: path}, h)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	if !bytes.Equal(h.Sum(nil), sumOf(content)) {
		t.Error("the downloaded content differs from the file")
	}
	if resp.Size != int64(len(content)) || resp.Mode != 0o604 {
		t.Errorf("Download response = size %d mode %o, want %d and 604", resp.Size, resp.Mode, len(content))
	}
	// A failing writer stops the download with an error.
	_, err = c.files.Download(context.Background(), &sdk.DownloadRequest{Host: c.host.Name, Path: path},
		writerFunc(func([]byte) (int, error) { return 0, errWrite }))
	if err == nil {
		t.Error("Download into a failing writer succeeded")
	}
}

func (c *conformance) downloadMissing(t *testing.T) {
	dir := c.tempDir(t)
	var got bytes.Buffer
	for _, path := range []string{dir + "/missing", dir} {
		if _, err := c.files.Download(context.Background(), &sdk.DownloadRequest{Host: c.host.Name, Path: path}, &got); err == nil {
			t.Errorf("Download of %s succeeded, want an error", path)
		}
	}
}

func sumOf(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

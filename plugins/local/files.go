package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fanout/fanout/sdk"
)

// Upload creates one file, directory or symbolic link on this machine, as
// sdk.FileTransport describes: a file is written to a temporary name in
// the destination's directory, given its mode, synced and renamed over
// req.Path, so that it appears whole or not at all; a failure or a
// cancellation removes the temporary file. Nothing is created above
// req.Path: its directory must exist.
func (t *Transport) Upload(ctx context.Context, req *sdk.UploadRequest, content io.Reader) (*sdk.UploadResponse, error) {
	if t.isClosed() {
		return nil, errClosed
	}
	if err := checkPath(req.Path); err != nil {
		return nil, err
	}
	var err error
	switch req.Type {
	case sdk.RegularFile:
		err = writeFile(ctx, req.Path, req.Mode, req.Size, content)
	case sdk.Directory:
		err = makeDir(req.Path, req.Mode)
	case sdk.Symlink:
		err = makeSymlink(req.Path, req.LinkTarget)
	default:
		err = fmt.Errorf("upload %s: unknown entry type %d", req.Path, req.Type)
	}
	if err != nil {
		return nil, err
	}
	t.logger.Trace("uploaded", "host", req.Host, "path", req.Path, "type", req.Type, "size", req.Size)
	return &sdk.UploadResponse{}, nil
}

// checkPath refuses a path that is not absolute and clean: a trailing
// slash or a ".." would make the entry land elsewhere than named.
func checkPath(path string) error {
	if !filepath.IsAbs(path) || filepath.Clean(path) != path || path == "/" {
		return fmt.Errorf("%q is not an absolute, clean path to a file", path)
	}
	return nil
}

// tempPattern returns the CreateTemp pattern of a temporary name for path in path's directory: hidden,
// and recognisably fanout's should a crash leave it behind.
func tempPattern(path string) string {
	return "." + filepath.Base(path) + ".fanout-*"
}

func writeFile(ctx context.Context, path string, mode fs.FileMode, size int64, content io.Reader) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern(path))
	if err != nil {
		return dirError(path, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = f.Close() // abandoned: the error that matters is the one returned
			_ = os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, &ctxReader{ctx: ctx, r: content})
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if n != size {
		return fmt.Errorf("upload %s: got %d bytes, want %d", path, n, size)
	}
	// Set, not left to the umask, which CreateTemp's 0600 went through.
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	// Synced before the rename: after a crash, the path holds the old
	// file or the whole new one, never an empty one.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	committed = true
	return nil
}

// dirError explains a failure to create a file beside path: its
// directory is missing, is no directory, or cannot be written. The
// temporary name is left out, which would only confuse.
func dirError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("upload %s: cannot write in %s: %w", path, filepath.Dir(path), err)
}

// makeDir creates a directory with mode, or sets the mode of one that
// exists; a link to a directory is not one, so that a tree is never
// written through a link into another place.
func makeDir(path string, mode fs.FileMode) error {
	err := os.Mkdir(path, mode)
	if errors.Is(err, fs.ErrExist) {
		fi, lerr := os.Lstat(path)
		if lerr != nil {
			return fmt.Errorf("upload %s: %w", path, lerr)
		}
		if !fi.IsDir() {
			return fmt.Errorf("upload %s: exists and is not a directory", path)
		}
		err = nil
	}
	if err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	return nil
}

// makeSymlink makes path a link to target, replacing what is there (not a
// directory) at once, through a link at a temporary name renamed over it.
func makeSymlink(path, target string) error {
	dir := filepath.Dir(path)
	// CreateTemp finds a free name; the file is replaced by the link.
	f, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return dirError(path, err)
	}
	tmp := f.Name()
	_ = f.Close() // empty: only its name is used
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("upload %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp) // the rename error is what is returned
		return fmt.Errorf("upload %s: %w", path, err)
	}
	return nil
}

// Download streams the regular file at req.Path to content.
func (t *Transport) Download(ctx context.Context, req *sdk.DownloadRequest, content io.Writer) (*sdk.DownloadResponse, error) {
	if t.isClosed() {
		return nil, errClosed
	}
	if err := checkPath(req.Path); err != nil {
		return nil, err
	}
	f, err := os.Open(req.Path)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", req.Path, err)
	}
	defer func() { _ = f.Close() }() // read only
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", req.Path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("download %s: not a regular file", req.Path)
	}
	n, err := io.Copy(content, &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", req.Path, err)
	}
	return &sdk.DownloadResponse{Mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), Size: n}, nil
}

// ctxReader reads r until ctx is done: a transfer stops between reads.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

package sdk

import (
	"context"
	"errors"
	"io"
	"io/fs"
)

// FileTransport is the optional part of the contract that carries files to
// and from hosts (protocol 1.2). A Transport implements it when it declares
// Capabilities.Upload or Capabilities.Download; fanout finds it with a type
// assertion, and sdk/client's Transport always implements it, failing the
// calls a plugin does not serve.
//
// Both methods may be called concurrently with each other and with Exec,
// for many hosts and for the same host; Connect has been called for the
// host first.
type FileTransport interface {
	// Upload creates one entry at req.Path on req.Host: a regular file
	// whose content is read from content, a directory, or a symbolic
	// link. It blocks until the entry is in place or the upload failed.
	//
	// A file appears whole or not at all: the transport writes it under a
	// temporary name in the destination's directory, sets its mode, and
	// renames it over req.Path only once content has returned io.EOF. Any
	// other outcome (content returned another error, ctx was cancelled,
	// the disk filled up) removes the temporary file and leaves whatever
	// was at req.Path untouched. content returns io.EOF only after exactly
	// req.Size bytes and the sender's confirmation that the upload is
	// complete, so a transport that commits on io.EOF alone is correct.
	//
	// A directory is created with req.Mode, or has its mode set if it
	// exists; a symbolic link replaces whatever is at req.Path, atomically
	// too. The parent of req.Path must exist: Upload never creates or
	// writes anything but req.Path itself (and its temporary name), which
	// is what keeps a copied tree inside its destination.
	Upload(ctx context.Context, req *UploadRequest, content io.Reader) (*UploadResponse, error)

	// Download writes the content of the regular file at req.Path on
	// req.Host to content as it reads it, in pieces, never holding the
	// whole file in memory, and returns its mode and size. A write to
	// content that fails stops the download with that error. When ctx is
	// cancelled it returns promptly with an error wrapping ctx's.
	Download(ctx context.Context, req *DownloadRequest, content io.Writer) (*DownloadResponse, error)
}

// FileType is the kind of entry an Upload creates.
type FileType int

// The kinds of entry Upload creates.
const (
	// RegularFile is a file whose content the upload carries.
	RegularFile FileType = iota
	// Directory is a directory; it carries no content.
	Directory
	// Symlink is a symbolic link to UploadRequest.LinkTarget; it carries
	// no content.
	Symlink
)

// String returns the type's name as plan output shows it.
func (t FileType) String() string {
	switch t {
	case RegularFile:
		return "file"
	case Directory:
		return "directory"
	case Symlink:
		return "symlink"
	}
	return "unknown"
}

// UploadRequest is the input of FileTransport.Upload.
type UploadRequest struct {
	// Host is the name of a host given to Connect earlier.
	Host string
	// Path is the absolute path of the entry on the host.
	Path string
	// Type is the kind of entry to create.
	Type FileType
	// Mode holds the permission bits of a file or directory (0o644); the
	// transport sets them explicitly, whatever the host's umask.
	Mode fs.FileMode
	// Size is the number of bytes content carries for a RegularFile.
	Size int64
	// LinkTarget is the target of a Symlink, as it is (often relative).
	LinkTarget string
}

// UploadResponse is the output of FileTransport.Upload.
type UploadResponse struct{}

// DownloadRequest is the input of FileTransport.Download.
type DownloadRequest struct {
	// Host is the name of a host given to Connect earlier.
	Host string
	// Path is the absolute path of a regular file on the host.
	Path string
}

// DownloadResponse is the output of FileTransport.Download.
type DownloadResponse struct {
	// Mode holds the file's permission bits on the host.
	Mode fs.FileMode
	// Size is the number of bytes written to content.
	Size int64
}

// ErrNotSupported is wrapped by the error of an Upload or Download that the
// transport does not serve (it does not declare the capability: a plugin of
// protocol 1.1, or one without file transfers). fanout refuses such a task
// at plan time; this error is for callers that did not ask first.
var ErrNotSupported = errors.New("not supported by this transport")

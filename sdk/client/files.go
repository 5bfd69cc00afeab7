package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fanout/fanout/sdk"
	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// This file is the host's end of FileTransport, the file transfers of
// protocol 1.2.

var _ sdk.FileTransport = (*grpcClient)(nil)

// uploadChunk is the most data one Upload message carries: as the plugin's
// output events (sdk's maxChunk), it keeps each message inside gRPC's
// 32 KiB pooled buffers, a field tag and length included.
const uploadChunk = 32<<10 - 16

// ErrDownloadIncomplete is returned by Download when the plugin ended the
// stream without saying the file was complete: a bug in the plugin.
var ErrDownloadIncomplete = errors.New("transport plugin ended download without its end")

// Upload sends req and then content in chunks as it reads them, never the
// whole in memory, and Done once content has given exactly req.Size bytes.
// When content fails or gives another size, or ctx is cancelled, the call
// is cancelled without Done, and the plugin leaves nothing behind.
func (c *grpcClient) Upload(ctx context.Context, req *sdk.UploadRequest, content io.Reader) (*sdk.UploadResponse, error) {
	h, err := uploadHeaderToProto(req)
	if err != nil {
		return nil, err
	}
	cctx, release := c.callContext(ctx)
	defer release()
	stream, err := c.client.Upload(cctx)
	if err != nil {
		return nil, c.callError(ctx, err)
	}
	// A Send that fails with io.EOF means the plugin ended the call: its
	// status, which CloseAndRecv returns, says why.
	sendErr := func(err error) error {
		if errors.Is(err, io.EOF) {
			_, err = stream.CloseAndRecv()
		}
		return c.unsupported(ctx, err, "upload")
	}
	if req.Type == sdk.RegularFile && c.uploadLocal.Load() {
		h.LocalPath = localPath(content, req.Size)
	}
	if err := stream.Send(&pb.Upload_Message{Message: &pb.Upload_Message_Header{Header: h}}); err != nil {
		return nil, sendErr(err)
	}
	if req.Type == sdk.RegularFile && h.LocalPath == "" {
		if err := c.sendContent(stream, req, content, sendErr); err != nil {
			return nil, err
		}
	}
	if err := stream.Send(&pb.Upload_Message{Message: &pb.Upload_Message_Done{Done: &pb.Upload_Done{}}}); err != nil {
		return nil, sendErr(err)
	}
	if _, err := stream.CloseAndRecv(); err != nil {
		return nil, c.unsupported(ctx, err, "upload")
	}
	return &sdk.UploadResponse{}, nil
}

// localPath returns the absolute path at which the plugin can read the
// same bytes content would give, or "" when there is none: content must be
// an unread regular file of size bytes that its name still names.
// Sending a name instead of the bytes spares both processes the copy, the
// TLS and the framing of every byte (a plugin is a process of this user
// on this machine).
func localPath(content io.Reader, size int64) string {
	f, ok := content.(*os.File)
	if !ok {
		return ""
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return ""
	}
	path, err := filepath.Abs(f.Name())
	if err != nil {
		return ""
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return ""
	}
	if !sameFile(path, fi) {
		return ""
	}
	// Where the system names open files (Linux), the plugin opens this
	// descriptor's file rather than the name: a file renamed over the name
	// after this check cannot be sent in its place.
	if fd := fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), f.Fd()); sameFile(fd, fi) {
		return fd
	}
	return path
}

// sameFile reports whether path names the file fi describes.
func sameFile(path string, fi os.FileInfo) bool {
	named, err := os.Stat(path)
	return err == nil && os.SameFile(fi, named)
}

// sendContent sends exactly req.Size bytes of content. An error returns
// before Done is sent, so the deferred cancellation of the call aborts the
// upload on the plugin's end.
func (c *grpcClient) sendContent(stream pb.Transport_UploadClient, req *sdk.UploadRequest, content io.Reader, sendErr func(error) error) error {
	buf := make([]byte, uploadChunk)
	var sent int64
	for {
		n, err := content.Read(buf)
		if n > 0 {
			if sent += int64(n); sent > req.Size {
				return fmt.Errorf("upload %s: content is longer than its size, %d bytes", req.Path, req.Size)
			}
			// Send marshals the message before it returns: buf can be
			// reused.
			if err := stream.Send(&pb.Upload_Message{Message: &pb.Upload_Message_Data{Data: buf[:n]}}); err != nil {
				return sendErr(err)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("upload %s: read content: %w", req.Path, err)
		}
	}
	if sent != req.Size {
		return fmt.Errorf("upload %s: content ended after %d of its %d bytes", req.Path, sent, req.Size)
	}
	return nil
}

// Download writes each data event to content as it arrives and returns the
// end event's mode and size. Returning early, on ctx or a failed write,
// cancels the call, which stops the transfer in the plugin.
func (c *grpcClient) Download(ctx context.Context, req *sdk.DownloadRequest, content io.Writer) (*sdk.DownloadResponse, error) {
	cctx, release := c.callContext(ctx)
	defer release()
	stream, err := c.client.Download(cctx, &pb.Download_Request{Host: req.Host, Path: req.Path})
	if err != nil {
		return nil, c.unsupported(ctx, err, "download")
	}
	var got int64
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, ErrDownloadIncomplete
		}
		if err != nil {
			return nil, c.unsupported(ctx, err, "download")
		}
		switch e := ev.GetEvent().(type) {
		case *pb.Download_Event_Data:
			if _, err := content.Write(e.Data); err != nil {
				return nil, fmt.Errorf("download %s: write: %w", req.Path, err)
			}
			got += int64(len(e.Data))
		case *pb.Download_Event_End:
			if e.End.GetSize() != got {
				return nil, fmt.Errorf("download %s: plugin sent %d bytes but reported %d", req.Path, got, e.End.GetSize())
			}
			return &sdk.DownloadResponse{Mode: sdk.ModeFromChmod(e.End.GetMode()), Size: got}, nil
		default:
			// An event a later minor version added.
		}
	}
}

// unsupported is callError, except that a plugin which does not serve the
// call at all (protocol 1.1, or no file transfers) gets an error that says
// so and wraps sdk.ErrNotSupported.
func (c *grpcClient) unsupported(ctx context.Context, err error, call string) error {
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("%s: %w (the plugin does not serve file transfers: it speaks transport protocol 1.1 or declares no %s capability)",
			call, sdk.ErrNotSupported, call)
	}
	return c.callError(ctx, err)
}

func uploadHeaderToProto(r *sdk.UploadRequest) (*pb.Upload_Header, error) {
	var typ pb.Upload_Type
	switch r.Type {
	case sdk.RegularFile:
		typ = pb.Upload_FILE
	case sdk.Directory:
		typ = pb.Upload_DIRECTORY
	case sdk.Symlink:
		typ = pb.Upload_SYMLINK
	default:
		return nil, fmt.Errorf("upload %s: unknown entry type %d", r.Path, r.Type)
	}
	if r.Size < 0 || (r.Type != sdk.RegularFile && r.Size != 0) {
		return nil, fmt.Errorf("upload %s: size %d for a %s", r.Path, r.Size, r.Type)
	}
	return &pb.Upload_Header{
		Host:       r.Host,
		Path:       r.Path,
		Type:       typ,
		Mode:       sdk.ChmodBits(r.Mode),
		Size:       r.Size,
		LinkTarget: r.LinkTarget,
	}, nil
}

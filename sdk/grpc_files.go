package sdk

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// This file serves FileTransport, the file transfers of protocol 1.2.

// fileTransport returns the implementation's FileTransport, or the status a call
// ends with when it has none.
func (s *grpcServer) fileTransport() (FileTransport, error) {
	ft, ok := optional[FileTransport](s.impl)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "transport does not transfer files")
	}
	return ft, nil
}

func (s *grpcServer) Upload(stream pb.Transport_UploadServer) error {
	ft, err := s.fileTransport()
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "upload did not start with a header")
	}
	req, err := uploadRequestFromProto(h)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "decode upload header: %s", err)
	}
	content := &uploadReader{stream: stream, left: req.Size}
	if path := h.GetLocalPath(); path != "" {
		f, err := openLocal(req, path)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }() // read only
		content.local = f
	}
	if _, err := ft.Upload(stream.Context(), req, content); err != nil {
		return errorToStatus(err)
	}
	if !content.done {
		// The implementation returned without reading to the end: it
		// cannot have committed what the host asked for (a directory or
		// link carries no data, but still ends with Done).
		if _, err := io.Copy(io.Discard, content); err != nil {
			return errorToStatus(fmt.Errorf("upload %s: %w", req.Path, err))
		}
		if req.Type == RegularFile && req.Size > 0 {
			return status.Errorf(codes.Internal, "transport returned from Upload of %s without reading its content", req.Path)
		}
	}
	return stream.SendAndClose(&pb.Upload_Response{})
}

// openLocal opens the file on this machine whose data an Upload left
// there rather than in the stream: the plugin reads it itself, so the
// bytes cross neither the plugin channel nor its TLS. That was most of the
// CPU of an upload: a copy out of the file, TLS both ways and an
// unmarshalled chunk per 32 KiB in the plugin. The error is a status.
func openLocal(req *UploadRequest, path string) (*os.File, error) {
	if req.Type != RegularFile || !filepath.IsAbs(path) {
		return nil, status.Errorf(codes.InvalidArgument, "upload %s: a local path is for a regular file, and absolute: %q", req.Path, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errorToStatus(fmt.Errorf("upload %s: %w", req.Path, err))
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		err = errorToStatus(fmt.Errorf("upload %s: %w", req.Path, err))
	case !fi.Mode().IsRegular() || fi.Size() != req.Size:
		err = status.Errorf(codes.FailedPrecondition, "upload %s: %s is not the regular file of %d bytes it was (it changed during the run?)", req.Path, path, req.Size)
	default:
		return f, nil
	}
	_ = f.Close() // read only
	return nil, err
}

// errUploadTruncated is what an upload's content returns when the stream
// ended without the sender's Done: the host went away mid-transfer.
var errUploadTruncated = errors.New("upload ended before all of its content arrived")

// uploadReader is the content an Upload implementation reads: the data
// messages of the stream, or the local file the host named instead, then
// io.EOF once Done arrives after exactly the declared size. Anything else
// is an error, so that an implementation that commits on io.EOF never
// commits a partial file.
type uploadReader struct {
	stream pb.Transport_UploadServer
	local  *os.File // the data, when the host left it on this machine
	left   int64    // bytes still to come
	buf    []byte   // received, not yet read
	done   bool     // Done received
}

func (r *uploadReader) Read(p []byte) (int, error) {
	if r.local != nil && r.left > 0 {
		return r.readLocal(p)
	}
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		m, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			return 0, errUploadTruncated
		}
		if err != nil {
			return 0, err
		}
		switch msg := m.GetMessage().(type) {
		case *pb.Upload_Message_Data:
			if int64(len(msg.Data)) > r.left {
				return 0, fmt.Errorf("upload carries more than its declared size")
			}
			r.left -= int64(len(msg.Data))
			r.buf = msg.Data
		case *pb.Upload_Message_Done:
			if r.left != 0 {
				return 0, fmt.Errorf("upload done %d bytes short of its declared size", r.left)
			}
			r.done = true
		default:
			return 0, fmt.Errorf("unexpected upload message %T", msg)
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// readLocal reads the data from the local file: the stream then carries
// Done only (a data message is more than the declared size).
func (r *uploadReader) readLocal(p []byte) (int, error) {
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.local.Read(p)
	r.left -= int64(n)
	if errors.Is(err, io.EOF) && r.left > 0 {
		err = fmt.Errorf("%s ended %d bytes short of its size (it changed during the run?)", r.local.Name(), r.left)
	} else if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func (s *grpcServer) Download(req *pb.Download_Request, stream pb.Transport_DownloadServer) error {
	ft, err := s.fileTransport()
	if err != nil {
		return err
	}
	w := &downloadWriter{stream: stream}
	resp, err := ft.Download(stream.Context(), downloadRequestFromProto(req), w)
	// As for Exec: a write after Download returned must not reach a
	// finished stream.
	w.close()
	if err != nil {
		return errorToStatus(err)
	}
	if resp == nil {
		return status.Error(codes.Internal, "transport returned no download response")
	}
	return stream.Send(&pb.Download_Event{Event: &pb.Download_Event_End{End: downloadResponseToProto(resp)}})
}

// errDownloadFinished is what a write to a Download's content returns once
// that Download has returned.
var errDownloadFinished = errors.New("download already finished")

// downloadWriter sends what a Download implementation writes as data
// events of at most maxChunk bytes.
type downloadWriter struct {
	mu sync.Mutex
	// guarded by mu
	stream pb.Transport_DownloadServer
	closed bool
}

func (w *downloadWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, errDownloadFinished
	}
	n := 0
	for len(p) > 0 {
		size := min(len(p), maxChunk)
		// As in execStream.send, Send has marshalled the message when it
		// returns, so the event may carry the caller's bytes.
		if err := w.stream.Send(&pb.Download_Event{Event: &pb.Download_Event_Data{Data: p[:size]}}); err != nil {
			return n, err
		}
		n += size
		p = p[size:]
	}
	return n, nil
}

func (w *downloadWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

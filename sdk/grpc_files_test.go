package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// files is a fake with file transfers the test supplies.
type files struct {
	fake
	upload   func(ctx context.Context, req *sdk.UploadRequest, content io.Reader) error
	download func(ctx context.Context, req *sdk.DownloadRequest, content io.Writer) (*sdk.DownloadResponse, error)
}

func (f *files) Upload(ctx context.Context, req *sdk.UploadRequest, content io.Reader) (*sdk.UploadResponse, error) {
	if err := f.upload(ctx, req, content); err != nil {
		return nil, err
	}
	return &sdk.UploadResponse{}, nil
}

func (f *files) Download(ctx context.Context, req *sdk.DownloadRequest, content io.Writer) (*sdk.DownloadResponse, error) {
	return f.download(ctx, req, content)
}

func fileTransport(t *testing.T, impl sdk.Transport) sdk.FileTransport {
	t.Helper()
	ft, ok := sdktest.NewHarness(t, impl).Transport().(sdk.FileTransport)
	if !ok {
		t.Fatal("the client Transport does not implement sdk.FileTransport")
	}
	return ft
}

func TestGRPCUploadRoundTrip(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 40000) // many chunks
	var got *sdk.UploadRequest
	var body []byte
	impl := &files{upload: func(_ context.Context, req *sdk.UploadRequest, r io.Reader) error {
		got = req
		var err error
		body, err = io.ReadAll(r)
		return err
	}}
	req := &sdk.UploadRequest{Host: "web1", Path: "/srv/a.tgz", Type: sdk.RegularFile, Mode: 0o640, Size: int64(len(content))}
	if _, err := fileTransport(t, impl).Upload(context.Background(), req, bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if *got != *req {
		t.Errorf("request %+v arrived as %+v", *req, *got)
	}
	if !bytes.Equal(body, content) {
		t.Errorf("content of %d bytes arrived as %d bytes, or changed", len(content), len(body))
	}
}

func TestGRPCUploadModesAndTypes(t *testing.T) {
	var got []sdk.UploadRequest
	impl := &files{upload: func(_ context.Context, req *sdk.UploadRequest, r io.Reader) error {
		got = append(got, *req)
		_, err := io.Copy(io.Discard, r)
		return err
	}}
	ft := fileTransport(t, impl)
	reqs := []sdk.UploadRequest{
		{Host: "h", Path: "/d", Type: sdk.Directory, Mode: 0o777 | fs.ModeSticky},
		{Host: "h", Path: "/d/l", Type: sdk.Symlink, LinkTarget: "../x"},
		{Host: "h", Path: "/d/f", Type: sdk.RegularFile, Mode: 0o755 | fs.ModeSetuid | fs.ModeSetgid},
	}
	for _, r := range reqs {
		if _, err := ft.Upload(context.Background(), &r, bytes.NewReader(nil)); err != nil {
			t.Fatalf("%s: %v", r.Path, err)
		}
	}
	for i := range reqs {
		if got[i] != reqs[i] {
			t.Errorf("request %+v arrived as %+v", reqs[i], got[i])
		}
	}
}

// The content an implementation reads ends with an error, never io.EOF,
// when the host sent fewer bytes than it declared: an implementation that
// commits on io.EOF cannot commit a short file.
func TestGRPCUploadShortContentIsAnError(t *testing.T) {
	readErr := make(chan error, 1)
	reading := make(chan struct{})
	impl := &files{upload: func(_ context.Context, _ *sdk.UploadRequest, r io.Reader) error {
		// The first bytes arrived: the host may now find its content short.
		_, err := r.Read(make([]byte, 1))
		close(reading)
		if err == nil {
			_, err = io.ReadAll(r)
		}
		readErr <- err
		return err
	}}
	req := &sdk.UploadRequest{Host: "h", Path: "/f", Size: 100}
	content := &gatedReader{data: []byte("only this"), gate: reading}
	if _, err := fileTransport(t, impl).Upload(context.Background(), req, content); err == nil {
		t.Error("Upload of 9 bytes declared as 100 succeeded")
	}
	if err := <-readErr; err == nil {
		t.Error("the implementation read the short content to io.EOF")
	}
}

// gatedReader gives data, then ends once gate is closed.
type gatedReader struct {
	data []byte
	gate <-chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.data) > 0 {
		n := copy(p, g.data)
		g.data = g.data[n:]
		return n, nil
	}
	<-g.gate
	return 0, io.EOF
}

func TestGRPCUploadNotReadIsAnError(t *testing.T) {
	impl := &files{upload: func(context.Context, *sdk.UploadRequest, io.Reader) error { return nil }}
	req := &sdk.UploadRequest{Host: "h", Path: "/f", Size: 5}
	if _, err := fileTransport(t, impl).Upload(context.Background(), req, strings.NewReader("hello")); err == nil {
		t.Error("an Upload whose implementation never read the content succeeded")
	}
}

func TestGRPCDownloadRoundTrip(t *testing.T) {
	content := bytes.Repeat([]byte("x"), 1<<20+3)
	impl := &files{download: func(_ context.Context, req *sdk.DownloadRequest, w io.Writer) (*sdk.DownloadResponse, error) {
		if req.Host != "web1" || req.Path != "/var/log/app.log" {
			return nil, errors.New("wrong request")
		}
		if _, err := w.Write(content); err != nil {
			return nil, err
		}
		return &sdk.DownloadResponse{Mode: 0o600, Size: int64(len(content))}, nil
	}}
	var got bytes.Buffer
	resp, err := fileTransport(t, impl).Download(context.Background(), &sdk.DownloadRequest{Host: "web1", Path: "/var/log/app.log"}, &got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), content) || resp.Size != int64(len(content)) || resp.Mode != 0o600 {
		t.Errorf("got %d bytes, response %+v", got.Len(), *resp)
	}
}

// A transport that declares file transfers must implement them: Describe
// fails rather than promise calls the plugin cannot serve.
func TestDescribeFilesWithoutFileTransport(t *testing.T) {
	impl := &fake{describe: func(context.Context) (*sdk.DescribeResponse, error) {
		return &sdk.DescribeResponse{Name: "liar", Capabilities: sdk.Capabilities{Upload: true}}, nil
	}}
	_, err := sdktest.NewHarness(t, impl).Transport().Describe(context.Background(), &sdk.DescribeRequest{})
	if err == nil || !strings.Contains(err.Error(), "sdk.FileTransport") {
		t.Errorf("Describe error = %v, want one naming sdk.FileTransport", err)
	}
}

// A Go plugin always declares Exec, even one written before the field: the
// Transport interface has an Exec.
func TestDescribeDeclaresExec(t *testing.T) {
	impl := &fake{describe: func(context.Context) (*sdk.DescribeResponse, error) {
		return &sdk.DescribeResponse{Name: "old", Capabilities: sdk.Capabilities{Signal: true}}, nil
	}}
	out, err := sdktest.NewHarness(t, impl).Transport().Describe(context.Background(), &sdk.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (sdk.Capabilities{Signal: true, Exec: true}); out.Capabilities != want {
		t.Errorf("capabilities = %+v, want %+v", out.Capabilities, want)
	}
}

// Calls a transport does not serve say so.
func TestGRPCFilesNotServed(t *testing.T) {
	ft := fileTransport(t, &fake{})
	_, err := ft.Upload(context.Background(), &sdk.UploadRequest{Host: "h", Path: "/f"}, bytes.NewReader(nil))
	if !errors.Is(err, sdk.ErrNotSupported) {
		t.Errorf("Upload error = %v, want sdk.ErrNotSupported", err)
	}
	_, err = ft.Download(context.Background(), &sdk.DownloadRequest{Host: "h", Path: "/f"}, io.Discard)
	if !errors.Is(err, sdk.ErrNotSupported) {
		t.Errorf("Download error = %v, want sdk.ErrNotSupported", err)
	}
}

// TestGRPCUploadFromLocalFile: a file fanout opened on this machine is read
// by the plugin from its path, never by fanout (whose descriptor stays
// unread), with the same content and the same commit rule; a file whose
// name now names another file goes through the stream, as any reader.
func TestGRPCUploadFromLocalFile(t *testing.T) {
	content := bytes.Repeat([]byte("fedcba9876543210"), 40000)
	dir := t.TempDir()
	path := filepath.Join(dir, "release.tgz")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		replace  bool // another file is renamed over the name once opened
		hostRead bool // fanout read the descriptor (the stream was used)
	}{{"by path", false, false}, {"name replaced: streamed", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			impl := &files{upload: func(_ context.Context, _ *sdk.UploadRequest, r io.Reader) error {
				var err error
				body, err = io.ReadAll(r)
				return err
			}}
			impl.describe = func(context.Context) (*sdk.DescribeResponse, error) {
				return &sdk.DescribeResponse{Name: "files", Version: "0.1.0", Capabilities: sdk.Capabilities{Exec: true, Upload: true, Download: true}}, nil
			}
			ft := fileTransport(t, impl)
			if _, err := ft.(sdk.Transport).Describe(context.Background(), &sdk.DescribeRequest{}); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = f.Close() }()
			if tt.replace {
				other := filepath.Join(dir, "other")
				if err := os.WriteFile(other, bytes.ToUpper(content), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(other, path); err != nil {
					t.Fatal(err)
				}
			}
			req := &sdk.UploadRequest{Host: "web1", Path: "/srv/release.tgz", Type: sdk.RegularFile, Mode: 0o644, Size: int64(len(content))}
			if _, err := ft.Upload(context.Background(), req, f); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, content) {
				t.Errorf("content of %d bytes arrived as %d bytes, or changed", len(content), len(body))
			}
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				t.Fatal(err)
			}
			if read := off != 0; read != tt.hostRead {
				t.Errorf("fanout's descriptor is at %d after the upload: read by the host %v, want %v", off, read, tt.hostRead)
			}
		})
	}
}

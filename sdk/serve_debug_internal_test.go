package sdk

import (
	"context"
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// runFiles is a Transport with file transfers, one per debug-mode run.
type runFiles struct {
	Transport
	run int
}

func (*runFiles) Close(context.Context, *CloseRequest) (*CloseResponse, error) {
	return &CloseResponse{}, nil
}

func (*runFiles) Upload(context.Context, *UploadRequest, io.Reader) (*UploadResponse, error) {
	return &UploadResponse{}, nil
}

func (*runFiles) Download(context.Context, *DownloadRequest, io.Writer) (*DownloadResponse, error) {
	return &DownloadResponse{}, nil
}

// In debug mode each fanout run gets a new Transport: the second run's
// file transfers must reach the second Transport, not the first, closed.
func TestDebugFilesReachTheCurrentRun(t *testing.T) {
	runs := 0
	rt := &renewing{logger: hclog.NewNullLogger(), newTransport: func(hclog.Logger) Transport {
		runs++
		return &runFiles{run: runs}
	}}
	s := &grpcServer{impl: rt}
	for want := 1; want <= 2; want++ {
		ft, err := s.fileTransport()
		if err != nil {
			t.Fatalf("run %d: %v", want, err)
		}
		if got := ft.(*runFiles).run; got != want {
			t.Errorf("run %d: file transfers reach the Transport of run %d", want, got)
		}
		if _, err := rt.Close(context.Background(), &CloseRequest{}); err != nil {
			t.Fatal(err)
		}
	}
}

package client

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/fanout/fanout/sdk"
	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// TestDiagnosticUnsetSeverity: a diagnostic whose severity a plugin (in
// another language, say) left unset on the wire stops the run.
func TestDiagnosticUnsetSeverity(t *testing.T) {
	if got := diagnosticsFromProto([]*pb.Diagnostic{{Summary: "x"}}); got[0].Severity != sdk.Error {
		t.Errorf("unset severity read as %v, want Error", got[0].Severity)
	}
}

// TestErrorFromStatus: a plugin's error reads as its own message, and
// cancellation statuses still match the context's errors.
func TestErrorFromStatus(t *testing.T) {
	tests := []struct {
		st   error
		want string
		is   error
	}{
		{status.Error(codes.Unknown, "host key mismatch for web1"), "host key mismatch for web1", nil},
		{status.Error(codes.Canceled, "context canceled"), "context canceled", context.Canceled},
		{status.Error(codes.DeadlineExceeded, "deadline"), "deadline", context.DeadlineExceeded},
	}
	for _, tt := range tests {
		got := errorFromStatus(tt.st)
		if got.Error() != tt.want {
			t.Errorf("message = %q, want %q", got, tt.want)
		}
		if tt.is != nil && !errors.Is(got, tt.is) {
			t.Errorf("errors.Is(%v, %v) = false", got, tt.is)
		}
	}
	plain := errors.New("not a status")
	if errorFromStatus(plain) != plain {
		t.Error("an error that is not a status was rewrapped")
	}
}

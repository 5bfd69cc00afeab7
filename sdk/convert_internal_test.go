package sdk

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestErrorToStatusKeepsStatus: an implementation that returns a gRPC
// status itself has it sent as it is.
func TestErrorToStatusKeepsStatus(t *testing.T) {
	st := status.Error(codes.PermissionDenied, "no")
	if errorToStatus(st) != st {
		t.Error("a status error was rewrapped")
	}
}

package sdktest

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fanout/fanout/sdk"
	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// describer answers Describe.
type describer struct{ sdk.Transport }

func (describer) Describe(context.Context, *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{Name: "t"}, nil
}

// The harness's connection is mutual TLS, as fanout's to a plugin is: its
// own client is answered, a client without the certificate is not.
func TestHarnessIsMutualTLS(t *testing.T) {
	h := NewHarness(t, describer{})
	if d, err := h.Transport().Describe(context.Background(), &sdk.DescribeRequest{}); err != nil || d.Name != "t" {
		t.Fatalf("Describe through the harness = %+v, %v", d, err)
	}
	for name, creds := range map[string]credentials.TransportCredentials{
		"plaintext":                          insecure.NewCredentials(),
		"TLS without the client certificate": credentials.NewTLS(&tls.Config{InsecureSkipVerify: true}),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := grpc.NewClient("unix://"+h.socket, grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }() // the answer, or its absence, is what counts
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if resp, err := pb.NewTransportClient(conn).Describe(ctx, &pb.Describe_Request{}); err == nil {
				t.Fatalf("a stranger's Describe was answered: %v", resp)
			}
		})
	}
}

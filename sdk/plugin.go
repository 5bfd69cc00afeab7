package sdk

import (
	"google.golang.org/grpc"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// The server end of the protocol belongs to this package, which does not
// export it: sdk/sdktest reaches it through wire.Server to serve a
// Transport in the test process, as Serve does in a plugin's.
func init() {
	wire.Server = func(impl any) func(*grpc.Server) { return register(impl.(Transport)) }
}

// register returns the registration of impl as the gRPC Transport service.
func register(impl Transport) func(*grpc.Server) {
	return func(s *grpc.Server) {
		pb.RegisterTransportServer(s, &grpcServer{impl: impl})
	}
}

// optional returns impl as T, one of the optional interfaces
// (FileTransport, HostValidator, Releaser), looking through the wrappers Serve puts
// around the author's Transport. It is asked on each call, not once: in
// debug mode the wrapped Transport is a new one for each fanout run.
func optional[T any](impl Transport) (T, bool) {
	if v, ok := impl.(T); ok {
		return v, true
	}
	if w, ok := impl.(interface{ unwrap() Transport }); ok {
		return optional[T](w.unwrap())
	}
	var zero T
	return zero, false
}

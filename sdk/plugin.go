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
		pb.RegisterTransportServer(s, &grpcServer{impl: impl, files: fileTransportOf(impl)})
	}
}

// fileTransportOf returns impl's FileTransport, looking through the
// wrappers Serve puts around the author's Transport (as hostValidator
// does); nil when it has none.
func fileTransportOf(impl Transport) FileTransport {
	if ft, ok := impl.(FileTransport); ok {
		return ft
	}
	if w, ok := impl.(interface{ unwrap() Transport }); ok {
		return fileTransportOf(w.unwrap())
	}
	return nil
}

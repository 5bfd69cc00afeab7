package sdk

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// maxChunk bounds the bytes of output one Exec event carries. Writes larger
// than this are split into equal parts, so that a message stays far below
// gRPC's default 4 MiB limit and output keeps flowing while a large write is
// sent.
//
// It is also what keeps streaming cheap: gRPC takes the buffer of each
// message, on both ends, from a pool of power-of-two sizes (32 KiB, then
// 1 MiB) and zeroes the whole buffer each time. An event a few bytes over
// 32 KiB, which a 32 KiB write (io.Copy's, os/exec's, x/crypto/ssh's)
// would make, takes and clears a 1 MiB buffer on both sides: half the
// plugin's CPU when streaming, and megabytes of buffers in flight. Events
// of at most maxChunk bytes of output fit the 32 KiB buffers, and a 32 KiB
// write becomes two 16 KiB events rather than one full and one tiny.
const maxChunk = 32<<10 - eventOverhead

// eventOverhead is more than what an Exec event adds to its output bytes
// when marshalled: a field tag and a length.
const eventOverhead = 16

// grpcServer serves a Transport implementation as the gRPC Transport
// service, inside the plugin process.
type grpcServer struct {
	pb.UnimplementedTransportServer

	impl Transport
	// hostConfigs decodes the hosts' settings of Connect and ValidateHost.
	hostConfigs hostConfigs
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.Describe_Request) (*pb.Describe_Response, error) {
	resp, err := s.impl.Describe(ctx, &DescribeRequest{})
	if err != nil {
		return nil, errorToStatus(err)
	}
	if resp == nil {
		return nil, status.Error(codes.Internal, "transport returned no describe response")
	}
	if err := s.checkCapabilities(resp); err != nil {
		return nil, err
	}
	out, err := describeResponseToProto(resp)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode describe response: %s", err)
	}
	// Reading a local source is this SDK's work, not the transport's:
	// every transport that uploads gets it (grpc_files.go).
	if out.Capabilities != nil && out.Capabilities.Upload {
		out.Capabilities.UploadLocalPath = true
	}
	return out, nil
}

func (s *grpcServer) Configure(ctx context.Context, req *pb.Configure_Request) (*pb.Configure_Response, error) {
	r, err := configureRequestFromProto(req)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "decode configure request: %s", err)
	}
	resp, err := s.impl.Configure(ctx, r)
	if err != nil {
		return nil, errorToStatus(err)
	}
	if resp == nil {
		resp = &ConfigureResponse{}
	}
	return configureResponseToProto(resp), nil
}

func (s *grpcServer) Connect(ctx context.Context, req *pb.Connect_Request) (*pb.Connect_Response, error) {
	r, err := connectRequestFromProto(req, &s.hostConfigs)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "decode connect request: %s", err)
	}
	resp, err := s.impl.Connect(ctx, r)
	if err != nil {
		return nil, errorToStatus(err)
	}
	return connectResponseToProto(resp), nil
}

// checkCapabilities refuses a description that declares a capability whose
// optional interface the Transport does not implement: fanout would make
// calls the plugin cannot serve. The declaration is the truth otherwise: a
// Transport that implements an interface without declaring it is not
// called through it.
func (s *grpcServer) checkCapabilities(resp *DescribeResponse) error {
	c := resp.Capabilities
	if _, ok := optional[FileTransport](s.impl); (c.Upload || c.Download) && !ok {
		return status.Errorf(codes.Internal,
			"transport %s declares file transfers but does not implement sdk.FileTransport", resp.Name)
	}
	if _, ok := optional[HostValidator](s.impl); c.ValidateHost && !ok {
		return status.Errorf(codes.Internal,
			"transport %s declares ValidateHost but does not implement sdk.HostValidator", resp.Name)
	}
	if _, ok := optional[Releaser](s.impl); c.Release && !ok {
		return status.Errorf(codes.Internal,
			"transport %s declares Release but does not implement sdk.Releaser", resp.Name)
	}
	return nil
}

func (s *grpcServer) Release(ctx context.Context, req *pb.Release_Request) (*pb.Release_Response, error) {
	rel, ok := optional[Releaser](s.impl)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the transport does not release hosts")
	}
	if _, err := rel.Release(ctx, &ReleaseRequest{Hosts: req.GetHosts()}); err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Release_Response{}, nil
}

func (s *grpcServer) ValidateHost(ctx context.Context, req *pb.ValidateHost_Request) (*pb.ValidateHost_Response, error) {
	v, ok := optional[HostValidator](s.impl)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the transport does not validate hosts")
	}
	r, err := validateHostRequestFromProto(req, &s.hostConfigs)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "decode validate host request: %s", err)
	}
	resp, err := v.ValidateHost(ctx, r)
	if err != nil {
		return nil, errorToStatus(err)
	}
	if resp == nil {
		resp = &ValidateHostResponse{}
	}
	return &pb.ValidateHost_Response{Diagnostics: diagnosticsToProto(resp.Diagnostics)}, nil
}

func (s *grpcServer) Exec(req *pb.Exec_Request, stream pb.Transport_ExecServer) error {
	es := &execStream{stream: stream}
	resp, err := s.impl.Exec(stream.Context(), execRequestFromProto(req), ExecOutput{
		Stdout: execStreamWriter{s: es},
		Stderr: execStreamWriter{s: es, stderr: true},
	})
	// From here on only this goroutine sends: a write that an
	// implementation makes after its Exec returned must not touch a stream
	// whose handler has finished.
	es.close()
	if err != nil {
		return errorToStatus(err)
	}
	if resp == nil {
		return status.Error(codes.Internal, "transport returned no exec response")
	}
	return stream.Send(&pb.Exec_Event{Event: &pb.Exec_Event_Exit{Exit: execResponseToProto(resp)}})
}

func (s *grpcServer) Signal(ctx context.Context, req *pb.Signal_Request) (*pb.Signal_Response, error) {
	if _, err := s.impl.Signal(ctx, signalRequestFromProto(req)); err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Signal_Response{}, nil
}

func (s *grpcServer) Close(ctx context.Context, _ *pb.Close_Request) (*pb.Close_Response, error) {
	if _, err := s.impl.Close(ctx, &CloseRequest{}); err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Close_Response{}, nil
}

// errExecFinished is what a write to an Exec's output returns once that
// Exec has returned.
var errExecFinished = errors.New("exec already finished")

// execStream sends one Exec's output as it is written. A gRPC stream allows
// one sender at a time, and Stdout and Stderr are written concurrently, so
// every send goes through mu.
type execStream struct {
	mu sync.Mutex
	// guarded by mu
	stream pb.Transport_ExecServer
	closed bool
}

func (s *execStream) send(stderr bool, p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errExecFinished
	}
	n := 0
	parts := (len(p) + maxChunk - 1) / maxChunk
	for len(p) > 0 {
		size := min(len(p), (len(p)+parts-1)/parts)
		parts--
		// Send marshals the message before it returns, and only a stats
		// handler or tracer would look at it afterwards: Serve installs
		// none (plugin.DefaultGRPCServer), so the event can carry p's
		// bytes, which the caller reuses, without a copy of its own. The
		// copy was half of what the plugin allocated when streaming.
		b := p[:size]
		ev := &pb.Exec_Event{}
		if stderr {
			ev.Event = &pb.Exec_Event_Stderr{Stderr: b}
		} else {
			ev.Event = &pb.Exec_Event_Stdout{Stdout: b}
		}
		if err := s.stream.Send(ev); err != nil {
			return n, err
		}
		n += size
		p = p[size:]
	}
	return n, nil
}

func (s *execStream) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// execStreamWriter is the io.Writer an implementation sees as Stdout or
// Stderr.
type execStreamWriter struct {
	s      *execStream
	stderr bool
}

func (w execStreamWriter) Write(p []byte) (int, error) { return w.s.send(w.stderr, p) }

// ReadFrom sends what it reads from r until r ends. io.Copy, which
// x/crypto/ssh sessions and os/exec use to deliver a command's output,
// calls it instead of allocating a 32 KiB buffer per stream (13 MB for
// 200 hosts' `true`). It reads into a small pooled buffer first, most
// commands printing little, and into a larger one each time a read fills
// the buffer, up to bulkChunk. A large read drains everything a fast
// command has queued at once: an SSH channel sends a window adjustment (an
// encrypted packet and a write) for every Read, so 32 KiB reads of a 300
// MB stream spent a fifth of the plugin's CPU on them. Only a stream that
// fills a maxChunk read, one with output waiting, takes a bulk buffer, so
// many hosts printing a little do not hold 256 KiB each. send cuts what was
// read into events.
func (w execStreamWriter) ReadFrom(r io.Reader) (int64, error) {
	tier := 0
	bp := readBuffers[tier].Get().(*[]byte)
	defer func() { readBuffers[tier].Put(bp) }()
	var n int64
	for {
		m, err := r.Read(*bp)
		if m > 0 {
			// send is done with the bytes when it returns: the buffer
			// can be reused.
			if _, werr := w.s.send(w.stderr, (*bp)[:m]); werr != nil {
				return n, werr
			}
			n += int64(m)
			if m == len(*bp) && tier < len(readBuffers)-1 {
				readBuffers[tier].Put(bp)
				tier++
				bp = readBuffers[tier].Get().(*[]byte)
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// bulkChunk is the read size of a stream that fills maxChunk reads.
const bulkChunk = 256 << 10

// readBuffers hold ReadFrom's buffers, smallest first.
var readBuffers = [...]*sync.Pool{
	{New: func() any { b := make([]byte, 2<<10); return &b }},
	{New: func() any { b := make([]byte, maxChunk); return &b }},
	{New: func() any { b := make([]byte, bulkChunk); return &b }},
}

package client

import (
	"encoding/binary"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	protov2 "google.golang.org/protobuf/proto"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// execCodec is the codec of Exec streams: the proto codec, except that an
// output event (nearly every event of a command printing a lot) is decoded
// by hand, with one copy of its bytes into a buffer the Exec loop reuses.
//
// The proto codec copies each event twice, once to join the HTTP/2 frames
// it arrived in and once into a new slice for the bytes field, and
// allocates that slice: for a command printing 270 MB, 270 MB of garbage
// whose collection was a quarter of fanout's CPU (W5 in
// docs/performance.md). The wire format is as the proto codec reads it;
// an event of any other shape (an exit, an unknown field) goes to the
// proto codec.
type execCodec struct {
	encoding.CodecV2
}

// execCodecOption selects execCodec for one call: gRPC's
// grpc.ForceCodecV2, pinned with gRPC's version in go.mod, as it is marked
// experimental. The name stays "proto", which the plugin's server expects.
var execCodecOption = grpc.ForceCodecV2(execCodec{encoding.GetCodecV2(proto.Name)})

func (c execCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if ev, ok := v.(*pb.Exec_Event); ok && decodeOutput(data, ev) {
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}

// Field numbers of pb.Exec_Event's output (transport.proto).
const (
	stdoutField protowire.Number = 1
	stderrField protowire.Number = 2
)

// decodeOutput decodes data into ev when it is one output event, a single
// stdout or stderr field and nothing else, and reports whether it was.
// The bytes land in a buffer from outputBufs, which releaseOutput takes
// back.
func decodeOutput(data mem.BufferSlice, ev *pb.Exec_Event) bool {
	r := data.Reader()
	defer func() { _ = r.Close() }()
	tag, err := binary.ReadUvarint(r)
	if err != nil {
		return false
	}
	num, typ := protowire.DecodeTag(tag)
	if typ != protowire.BytesType || (num != stdoutField && num != stderrField) {
		return false
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n != uint64(r.Remaining()) {
		return false // not the only field: the proto codec's case
	}
	b := outputBuffer(int(n))
	if _, err := io.ReadFull(r, b); err != nil {
		return false
	}
	protov2.Reset(ev)
	if num == stdoutField {
		ev.Event = &pb.Exec_Event_Stdout{Stdout: b}
	} else {
		ev.Event = &pb.Exec_Event_Stderr{Stderr: b}
	}
	return true
}

// outputBufSize is the size of the reused output buffers: what a plugin
// served by sdk.Serve puts in an event at most. Larger events, from other
// servers, get buffers of their own.
const outputBufSize = 32 << 10

// outputBufs recycles the output events' buffers: the Exec loop releases
// each once the event's bytes are written, which io.Writer's contract
// lets it do.
var outputBufs = sync.Pool{New: func() any {
	b := make([]byte, outputBufSize)
	return &b
}}

// outputBuffer returns a buffer of n bytes.
func outputBuffer(n int) []byte {
	if n > outputBufSize {
		return make([]byte, n)
	}
	return (*outputBufs.Get().(*[]byte))[:n]
}

// releaseOutput takes back b, an output event's bytes, once written. A
// slice the buffers did not come from is left to the garbage collector.
func releaseOutput(b []byte) {
	if cap(b) == outputBufSize {
		b = b[:outputBufSize]
		outputBufs.Put(&b)
	}
}

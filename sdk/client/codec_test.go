package client

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protov2 "google.golang.org/protobuf/proto"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// split cuts b into a BufferSlice of pieces of size bytes, as HTTP/2
// frames deliver a message.
func split(b []byte, size int) mem.BufferSlice {
	var s mem.BufferSlice
	for len(b) > 0 {
		n := min(size, len(b))
		s = append(s, mem.SliceBuffer(bytes.Clone(b[:n])))
		b = b[n:]
	}
	return s
}

// TestExecCodecOutput: execCodec decodes every Exec event as the proto
// codec does, bytes exact, however the message is cut into frames (the
// length prefix across two of them included), and an output event of up
// to 32 KiB lands in a reused buffer rather than a new slice.
func TestExecCodecOutput(t *testing.T) {
	pattern := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*7 + i/251)
		}
		return b
	}
	events := map[string]*pb.Exec_Event{
		"empty stdout":   {Event: &pb.Exec_Event_Stdout{Stdout: []byte{}}},
		"one byte":       {Event: &pb.Exec_Event_Stdout{Stdout: []byte{'x'}}},
		"stderr line":    {Event: &pb.Exec_Event_Stderr{Stderr: []byte("warning: disk almost full\n")}},
		"sdk's largest":  {Event: &pb.Exec_Event_Stdout{Stdout: pattern(32<<10 - 16)}},
		"buffer's size":  {Event: &pb.Exec_Event_Stderr{Stderr: pattern(outputBufSize)}},
		"over a buffer":  {Event: &pb.Exec_Event_Stdout{Stdout: pattern(outputBufSize + 1)}},
		"another server": {Event: &pb.Exec_Event_Stdout{Stdout: pattern(1 << 20)}},
		"exit":           {Event: &pb.Exec_Event_Exit{Exit: &pb.Exec_Exit{ExitCode: 3, Signal: "TERM"}}},
	}
	c := execCodec{encoding.GetCodecV2(proto.Name)}
	for name, want := range events {
		wire, err := protov2.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 2, 3, 16 << 10, len(wire) + 1} {
			t.Run(fmt.Sprintf("%s/frames of %d", name, size), func(t *testing.T) {
				data := split(wire, size)
				got := &pb.Exec_Event{}
				if err := c.Unmarshal(data, got); err != nil {
					t.Fatal(err)
				}
				if !protov2.Equal(got, want) {
					t.Fatalf("decoded %v, want %v", got, want)
				}
				out := got.GetStdout()
				if out == nil {
					out = got.GetStderr()
				}
				if n := len(out); n > 0 && n <= outputBufSize && cap(out) != outputBufSize {
					t.Errorf("%d bytes of output in a new slice (cap %d), not a reused buffer", n, cap(out))
				}
				releaseOutput(out)
			})
		}
	}
}

// TestExecCodecOtherShapes: an event that is not one output field alone
// (two fields, a truncated one, unknown fields) is the proto codec's to
// decode or refuse, so execCodec agrees with it.
func TestExecCodecOtherShapes(t *testing.T) {
	stdout, _ := protov2.Marshal(&pb.Exec_Event{Event: &pb.Exec_Event_Stdout{Stdout: []byte("out\n")}})
	stderr, _ := protov2.Marshal(&pb.Exec_Event{Event: &pb.Exec_Event_Stderr{Stderr: []byte("err\n")}})
	shapes := map[string][]byte{
		"two fields":     append(bytes.Clone(stdout), stderr...),
		"truncated":      stdout[:len(stdout)-1],
		"unknown field":  append(bytes.Clone(stdout), 0x78, 0x01), // field 15, varint 1
		"only a tag":     stdout[:1],
		"a varint field": {0x08, 0x01},
	}
	std := encoding.GetCodecV2(proto.Name)
	c := execCodec{std}
	for name, wire := range shapes {
		t.Run(name, func(t *testing.T) {
			want, got := &pb.Exec_Event{}, &pb.Exec_Event{}
			wantErr := std.Unmarshal(split(wire, len(wire)), want)
			err := c.Unmarshal(split(wire, 2), got)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, the proto codec's %v", err, wantErr)
			}
			if err == nil && !protov2.Equal(got, want) {
				t.Fatalf("decoded %v, the proto codec %v", got, want)
			}
		})
	}
}

package client

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// FuzzProtoFromWire feeds arbitrary bytes, as a plugin could send them, to
// every message the host receives: what unmarshals must convert to the Go
// contract, or fail with an error, and never panic. kind picks the message;
// the kinds of the messages a plugin receives are package sdk's, which
// fuzzes them with the same numbering and corpus.
func FuzzProtoFromWire(f *testing.F) {
	seeds := []proto.Message{
		&pb.Describe_Response{Name: "ssh", Version: "1.0", TransportSchema: &pb.Schema{Attributes: []*pb.Attribute{{Name: "user", TypeJson: []byte(`"string"`), Required: true}}}},
		&pb.Configure_Request{Config: &pb.DynamicValue{Json: []byte(`{"user":"deploy"}`), TypeJson: []byte(`["object",{"user":"string"}]`)}},
		&pb.Configure_Response{Diagnostics: []*pb.Diagnostic{{Summary: "bad", Detail: "very", Attribute: []string{"user"}}}},
		&pb.Connect_Request{Host: &pb.Host{Name: "web1", Address: "127.0.0.1", Config: &pb.DynamicValue{Json: []byte(`5`), TypeJson: []byte(`"number"`)}}},
		&pb.Connect_Response{Prompts: []*pb.Prompt{{Id: "k", Text: "passphrase", Secret: true}}},
		&pb.Exec_Request{Id: "1", Host: "web1", Command: "true", Env: map[string]string{"A": "b"}},
		&pb.Exec_Event{Event: &pb.Exec_Event_Exit{Exit: &pb.Exec_Exit{ExitCode: 3, Signal: "TERM", TimedOut: true}}},
		&pb.Exec_Event{Event: &pb.Exec_Event_Stdout{Stdout: []byte("line\n")}},
		&pb.Signal_Request{ExecId: "1", Signal: "INT"},
	}
	for i, m := range seeds {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(1), []byte{0x0a, 0x05, 0x0a, 0x01, '{', 0x12, 0x00})
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		switch kind % 10 {
		case 0:
			var m pb.Describe_Response
			if proto.Unmarshal(data, &m) == nil {
				_, _ = describeResponseFromProto(&m)
			}
		case 2:
			var m pb.Configure_Response
			if proto.Unmarshal(data, &m) == nil {
				r := configureResponseFromProto(&m)
				_ = r.Diagnostics.HasErrors()
				_ = r.Diagnostics.Err()
			}
		case 4:
			var m pb.Connect_Response
			if proto.Unmarshal(data, &m) == nil {
				_ = connectResponseFromProto(&m)
			}
		case 6:
			var m pb.Exec_Event
			if proto.Unmarshal(data, &m) == nil {
				switch e := m.GetEvent().(type) {
				case *pb.Exec_Event_Exit:
					_ = execResponseFromProto(e.Exit)
				case *pb.Exec_Event_Stdout:
					_ = len(e.Stdout)
				case *pb.Exec_Event_Stderr:
					_ = len(e.Stderr)
				}
			}
		case 9:
			// A plugin's error status, any code and message.
			code := codes.Unknown
			if len(data) > 0 {
				code = codes.Code(data[0] % 17)
			}
			if err := errorFromStatus(status.Error(code, string(data))); err != nil {
				_ = err.Error()
			}
		}
	})
}

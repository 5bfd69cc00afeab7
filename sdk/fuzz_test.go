package sdk

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// FuzzProtoFromWire feeds arbitrary bytes, as the core could send them, to
// every message a plugin receives: what unmarshals must convert to the Go
// contract, or fail with an error, and never panic. kind picks the message;
// the kinds of the messages the host receives are sdk/client's, which
// fuzzes them with the same numbering and corpus. (Both halves together
// are checked by the round trips over gRPC in convert_test.go.)
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
		case 1:
			var m pb.Configure_Request
			if proto.Unmarshal(data, &m) == nil {
				if r, err := configureRequestFromProto(&m); err == nil {
					_ = r.Config.GoString()
				}
			}
		case 3:
			var m pb.Connect_Request
			if proto.Unmarshal(data, &m) == nil {
				_, _ = connectRequestFromProto(&m, &hostConfigs{})
			}
		case 5:
			var m pb.Exec_Request
			if proto.Unmarshal(data, &m) == nil {
				if r := execRequestFromProto(&m); r.Timeout < 0 {
					t.Errorf("negative timeout %s", r.Timeout)
				}
			}
		case 7:
			var m pb.Signal_Request
			if proto.Unmarshal(data, &m) == nil {
				_ = signalRequestFromProto(&m)
			}
		case 8:
			var m pb.Host
			if proto.Unmarshal(data, &m) == nil {
				_, _ = hostFromProto(&m, &hostConfigs{})
			}
		}
	})
}

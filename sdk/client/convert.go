package client

// This file maps between the Go contract of package sdk and the wire
// messages of sdk/internal/transportv1, on the host's end: requests go out
// (ToProto), responses come in (FromProto). The plugin's end, the mirror
// image, is package sdk's convert.go; a field added to one file is added
// to the other.

import (
	"context"
	"fmt"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/fanout/fanout/sdk"
	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// valueToProto encodes v as JSON with its type. cty.NilVal, the absence of a
// value, becomes nil. Marks (such as sensitivity) are dropped: the plugin
// needs the real value, and redaction is the core's concern. Unknown values
// cannot cross the wire and are an error.
func valueToProto(v cty.Value) (*pb.DynamicValue, error) {
	if v.Type() == cty.NilType {
		return nil, nil
	}
	v, _ = v.UnmarkDeep()
	ty := v.Type()
	typeJSON, err := ctyjson.MarshalType(ty)
	if err != nil {
		return nil, fmt.Errorf("encode type %s: %w", ty.FriendlyName(), err)
	}
	valJSON, err := ctyjson.Marshal(v, ty)
	if err != nil {
		return nil, fmt.Errorf("encode value of type %s: %w", ty.FriendlyName(), err)
	}
	return &pb.DynamicValue{Json: valJSON, TypeJson: typeJSON}, nil
}

// typeFromProto decodes a type the plugin encoded as JSON; empty is
// cty.NilType (no type declared).
func typeFromProto(b []byte) (cty.Type, error) {
	if len(b) == 0 {
		return cty.NilType, nil
	}
	return ctyjson.UnmarshalType(b)
}

func schemaFromProto(s *pb.Schema) (sdk.Schema, error) {
	var out sdk.Schema
	for _, a := range s.GetAttributes() {
		ty, err := typeFromProto(a.GetTypeJson())
		if err != nil {
			return sdk.Schema{}, fmt.Errorf("attribute %q: %w", a.GetName(), err)
		}
		out.Attributes = append(out.Attributes, sdk.Attribute{
			Name:        a.GetName(),
			Type:        ty,
			Required:    a.GetRequired(),
			Description: a.GetDescription(),
			Sensitive:   a.GetSensitive(),
		})
	}
	return out, nil
}

// capabilitiesFromProto decodes what a plugin declares. A plugin of
// protocol 1.1 sends no exec field, and runs commands.
func capabilitiesFromProto(c *pb.Capabilities) sdk.Capabilities {
	return sdk.Capabilities{
		Signal:       c.GetSignal(),
		ValidateHost: c.GetValidateHost(),
		Exec:         c == nil || c.Exec == nil || c.GetExec(),
		Stdin:        c.GetStdin(),
		Upload:       c.GetUpload(),
		Download:     c.GetDownload(),
		CommandList:  c.GetCommandList(),
		Release:      c.GetRelease(),
	}
}

func diagnosticsFromProto(diags []*pb.Diagnostic) sdk.Diagnostics {
	if len(diags) == 0 {
		return nil
	}
	out := make(sdk.Diagnostics, 0, len(diags))
	for _, d := range diags {
		// Anything but an explicit warning stops the run: a plugin that
		// forgot to set the severity must not have its error ignored.
		sev := sdk.Error
		if d.GetSeverity() == pb.Diagnostic_WARNING {
			sev = sdk.Warning
		}
		out = append(out, sdk.Diagnostic{
			Severity:  sev,
			Summary:   d.GetSummary(),
			Detail:    d.GetDetail(),
			Attribute: sdk.AttributePath(d.GetAttribute()),
		})
	}
	return out
}

func describeResponseFromProto(r *pb.Describe_Response) (*sdk.DescribeResponse, error) {
	ts, err := schemaFromProto(r.GetTransportSchema())
	if err != nil {
		return nil, fmt.Errorf("transport schema: %w", err)
	}
	hs, err := schemaFromProto(r.GetHostSchema())
	if err != nil {
		return nil, fmt.Errorf("host schema: %w", err)
	}
	return &sdk.DescribeResponse{
		Name:            r.GetName(),
		Version:         r.GetVersion(),
		Capabilities:    capabilitiesFromProto(r.GetCapabilities()),
		TransportSchema: ts,
		HostSchema:      hs,
	}, nil
}

func configureRequestToProto(r *sdk.ConfigureRequest) (*pb.Configure_Request, error) {
	cfg, err := valueToProto(r.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &pb.Configure_Request{Config: cfg, RunId: r.RunID}, nil
}

func configureResponseFromProto(r *pb.Configure_Response) *sdk.ConfigureResponse {
	return &sdk.ConfigureResponse{Diagnostics: diagnosticsFromProto(r.GetDiagnostics())}
}

func hostToProto(h sdk.Host, configs *hostConfigs) (*pb.Host, error) {
	cfg, err := configs.encode(h.Config)
	if err != nil {
		return nil, fmt.Errorf("host %s config: %w", h.Name, err)
	}
	return &pb.Host{Name: h.Name, Address: h.Address, Config: cfg}, nil
}

func connectRequestToProto(r *sdk.ConnectRequest, configs *hostConfigs) (*pb.Connect_Request, error) {
	h, err := hostToProto(r.Host, configs)
	if err != nil {
		return nil, err
	}
	return &pb.Connect_Request{Host: h, Answers: r.Answers}, nil
}

func validateHostRequestToProto(r *sdk.ValidateHostRequest, configs *hostConfigs) (*pb.ValidateHost_Request, error) {
	h, err := hostToProto(r.Host, configs)
	if err != nil {
		return nil, err
	}
	return &pb.ValidateHost_Request{Host: h}, nil
}

func connectResponseFromProto(r *pb.Connect_Response) *sdk.ConnectResponse {
	out := &sdk.ConnectResponse{}
	for _, p := range r.GetPrompts() {
		out.Prompts = append(out.Prompts, sdk.Prompt{ID: p.GetId(), Text: p.GetText(), Secret: p.GetSecret(), NoAnswer: p.GetNoAnswer()})
	}
	return out
}

func execRequestToProto(r *sdk.ExecRequest) *pb.Exec_Request {
	out := &pb.Exec_Request{
		Id:       r.ID,
		Host:     r.Host,
		Command:  r.Command,
		Env:      r.Env,
		Stdin:    r.Stdin,
		Commands: r.Commands,
	}
	if r.Timeout > 0 {
		out.Timeout = durationpb.New(r.Timeout)
	}
	return out
}

func execResponseFromProto(e *pb.Exec_Exit) *sdk.ExecResponse {
	return &sdk.ExecResponse{
		ExitCode: int(e.GetExitCode()),
		Signal:   e.GetSignal(),
		TimedOut: e.GetTimedOut(),
		Command:  int(e.GetCommand()),
	}
}

func signalRequestToProto(r *sdk.SignalRequest) *pb.Signal_Request {
	return &pb.Signal_Request{ExecId: r.ExecID, Signal: r.Signal}
}

// errorFromStatus turns the status of a failed call back into an error
// whose message is the implementation's, without gRPC's "rpc error: code =
// ... desc =" wrapping. Cancellation and deadline statuses still match
// context.Canceled and context.DeadlineExceeded with errors.Is. Errors that
// are not statuses pass through.
func errorFromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return &remoteError{msg: st.Message(), code: st.Code()}
}

// remoteError is an error returned by the Transport on the other side of
// the wire, reduced to its message.
type remoteError struct {
	msg  string
	code codes.Code
}

func (e *remoteError) Error() string { return e.msg }

func (e *remoteError) Unwrap() error {
	switch e.code {
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	}
	return nil
}

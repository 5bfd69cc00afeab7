package sdk

// This file is the only place that maps between the Go contract
// (transport.go, diagnostics.go) and the wire messages of
// internal/transportv1. Each mapping comes as a pair, ToProto and FromProto,
// so that a field added to one side is easy to add to the other.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

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

// valueFromProto decodes what valueToProto encoded; nil or empty is
// cty.NilVal.
func valueFromProto(dv *pb.DynamicValue) (cty.Value, error) {
	if dv == nil || (len(dv.GetJson()) == 0 && len(dv.GetTypeJson()) == 0) {
		return cty.NilVal, nil
	}
	ty, err := ctyjson.UnmarshalType(dv.GetTypeJson())
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode type: %w", err)
	}
	v, err := ctyjson.Unmarshal(dv.GetJson(), ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("decode value of type %s: %w", ty.FriendlyName(), err)
	}
	return v, nil
}

// typeToProto encodes a type as JSON; cty.NilType (no type declared)
// becomes empty.
func typeToProto(ty cty.Type) ([]byte, error) {
	if ty == cty.NilType {
		return nil, nil
	}
	return ctyjson.MarshalType(ty)
}

// typeFromProto decodes what typeToProto encoded.
func typeFromProto(b []byte) (cty.Type, error) {
	if len(b) == 0 {
		return cty.NilType, nil
	}
	return ctyjson.UnmarshalType(b)
}

func schemaToProto(s Schema) (*pb.Schema, error) {
	out := &pb.Schema{Attributes: make([]*pb.Attribute, 0, len(s.Attributes))}
	for _, a := range s.Attributes {
		ty, err := typeToProto(a.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		out.Attributes = append(out.Attributes, &pb.Attribute{
			Name:        a.Name,
			TypeJson:    ty,
			Required:    a.Required,
			Description: a.Description,
			Sensitive:   a.Sensitive,
		})
	}
	return out, nil
}

func schemaFromProto(s *pb.Schema) (Schema, error) {
	var out Schema
	for _, a := range s.GetAttributes() {
		ty, err := typeFromProto(a.GetTypeJson())
		if err != nil {
			return Schema{}, fmt.Errorf("attribute %q: %w", a.GetName(), err)
		}
		out.Attributes = append(out.Attributes, Attribute{
			Name:        a.GetName(),
			Type:        ty,
			Required:    a.GetRequired(),
			Description: a.GetDescription(),
			Sensitive:   a.GetSensitive(),
		})
	}
	return out, nil
}

func capabilitiesToProto(c Capabilities) *pb.Capabilities {
	return &pb.Capabilities{Signal: c.Signal}
}

func capabilitiesFromProto(c *pb.Capabilities) Capabilities {
	return Capabilities{Signal: c.GetSignal()}
}

func diagnosticsToProto(diags Diagnostics) []*pb.Diagnostic {
	if len(diags) == 0 {
		return nil
	}
	out := make([]*pb.Diagnostic, 0, len(diags))
	for _, d := range diags {
		sev := pb.Diagnostic_ERROR
		if d.Severity == Warning {
			sev = pb.Diagnostic_WARNING
		}
		out = append(out, &pb.Diagnostic{
			Severity:  sev,
			Summary:   d.Summary,
			Detail:    d.Detail,
			Attribute: d.Attribute,
		})
	}
	return out
}

func diagnosticsFromProto(diags []*pb.Diagnostic) Diagnostics {
	if len(diags) == 0 {
		return nil
	}
	out := make(Diagnostics, 0, len(diags))
	for _, d := range diags {
		// Anything but an explicit warning stops the run: a plugin that
		// forgot to set the severity must not have its error ignored.
		sev := Error
		if d.GetSeverity() == pb.Diagnostic_WARNING {
			sev = Warning
		}
		out = append(out, Diagnostic{
			Severity:  sev,
			Summary:   d.GetSummary(),
			Detail:    d.GetDetail(),
			Attribute: AttributePath(d.GetAttribute()),
		})
	}
	return out
}

func describeResponseToProto(r *DescribeResponse) (*pb.Describe_Response, error) {
	ts, err := schemaToProto(r.TransportSchema)
	if err != nil {
		return nil, fmt.Errorf("transport schema: %w", err)
	}
	hs, err := schemaToProto(r.HostSchema)
	if err != nil {
		return nil, fmt.Errorf("host schema: %w", err)
	}
	return &pb.Describe_Response{
		Name:            r.Name,
		Version:         r.Version,
		Capabilities:    capabilitiesToProto(r.Capabilities),
		TransportSchema: ts,
		HostSchema:      hs,
	}, nil
}

func describeResponseFromProto(r *pb.Describe_Response) (*DescribeResponse, error) {
	ts, err := schemaFromProto(r.GetTransportSchema())
	if err != nil {
		return nil, fmt.Errorf("transport schema: %w", err)
	}
	hs, err := schemaFromProto(r.GetHostSchema())
	if err != nil {
		return nil, fmt.Errorf("host schema: %w", err)
	}
	return &DescribeResponse{
		Name:            r.GetName(),
		Version:         r.GetVersion(),
		Capabilities:    capabilitiesFromProto(r.GetCapabilities()),
		TransportSchema: ts,
		HostSchema:      hs,
	}, nil
}

func configureRequestToProto(r *ConfigureRequest) (*pb.Configure_Request, error) {
	cfg, err := valueToProto(r.Config)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &pb.Configure_Request{Config: cfg, RunId: r.RunID}, nil
}

func configureRequestFromProto(r *pb.Configure_Request) (*ConfigureRequest, error) {
	cfg, err := valueFromProto(r.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &ConfigureRequest{Config: cfg, RunID: r.GetRunId()}, nil
}

func configureResponseToProto(r *ConfigureResponse) *pb.Configure_Response {
	return &pb.Configure_Response{Diagnostics: diagnosticsToProto(r.Diagnostics)}
}

func configureResponseFromProto(r *pb.Configure_Response) *ConfigureResponse {
	return &ConfigureResponse{Diagnostics: diagnosticsFromProto(r.GetDiagnostics())}
}

func hostToProto(h Host) (*pb.Host, error) {
	cfg, err := valueToProto(h.Config)
	if err != nil {
		return nil, fmt.Errorf("host %s config: %w", h.Name, err)
	}
	return &pb.Host{Name: h.Name, Address: h.Address, Config: cfg}, nil
}

func hostFromProto(h *pb.Host) (Host, error) {
	cfg, err := valueFromProto(h.GetConfig())
	if err != nil {
		return Host{}, fmt.Errorf("host %s config: %w", h.GetName(), err)
	}
	return Host{Name: h.GetName(), Address: h.GetAddress(), Config: cfg}, nil
}

func connectRequestToProto(r *ConnectRequest) (*pb.Connect_Request, error) {
	h, err := hostToProto(r.Host)
	if err != nil {
		return nil, err
	}
	return &pb.Connect_Request{Host: h, Answers: r.Answers}, nil
}

func connectRequestFromProto(r *pb.Connect_Request) (*ConnectRequest, error) {
	h, err := hostFromProto(r.GetHost())
	if err != nil {
		return nil, err
	}
	return &ConnectRequest{Host: h, Answers: r.GetAnswers()}, nil
}

func connectResponseToProto(r *ConnectResponse) *pb.Connect_Response {
	out := &pb.Connect_Response{}
	if r == nil {
		return out
	}
	for _, p := range r.Prompts {
		out.Prompts = append(out.Prompts, &pb.Prompt{Id: p.ID, Text: p.Text, Secret: p.Secret, NoAnswer: p.NoAnswer})
	}
	return out
}

func connectResponseFromProto(r *pb.Connect_Response) *ConnectResponse {
	out := &ConnectResponse{}
	for _, p := range r.GetPrompts() {
		out.Prompts = append(out.Prompts, Prompt{ID: p.GetId(), Text: p.GetText(), Secret: p.GetSecret(), NoAnswer: p.GetNoAnswer()})
	}
	return out
}

func execRequestToProto(r *ExecRequest) *pb.Exec_Request {
	out := &pb.Exec_Request{
		Id:      r.ID,
		Host:    r.Host,
		Command: r.Command,
		Env:     r.Env,
	}
	if r.Timeout > 0 {
		out.Timeout = durationpb.New(r.Timeout)
	}
	return out
}

func execRequestFromProto(r *pb.Exec_Request) *ExecRequest {
	var timeout time.Duration
	if d := r.GetTimeout(); d != nil && d.AsDuration() > 0 {
		timeout = d.AsDuration()
	}
	return &ExecRequest{
		ID:      r.GetId(),
		Host:    r.GetHost(),
		Command: r.GetCommand(),
		Env:     r.GetEnv(),
		Timeout: timeout,
	}
}

func execResponseToProto(r *ExecResponse) *pb.Exec_Exit {
	return &pb.Exec_Exit{
		ExitCode: int32(r.ExitCode),
		Signal:   r.Signal,
		TimedOut: r.TimedOut,
	}
}

func execResponseFromProto(e *pb.Exec_Exit) *ExecResponse {
	return &ExecResponse{
		ExitCode: int(e.GetExitCode()),
		Signal:   e.GetSignal(),
		TimedOut: e.GetTimedOut(),
	}
}

func signalRequestToProto(r *SignalRequest) *pb.Signal_Request {
	return &pb.Signal_Request{ExecId: r.ExecID, Signal: r.Signal}
}

func signalRequestFromProto(r *pb.Signal_Request) *SignalRequest {
	return &SignalRequest{ExecID: r.GetExecId(), Signal: r.GetSignal()}
}

// errorToStatus turns an error returned by a Transport implementation into
// the gRPC status the stream or call ends with. Context errors keep their
// meaning as codes; anything else is carried by its message alone.
func errorToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
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

package sdk

// This file maps between the Go contract (transport.go, diagnostics.go)
// and the wire messages of internal/transportv1, on the plugin's end:
// requests come in (FromProto), responses go out (ToProto). The host's
// end, the mirror image, is sdk/client's convert.go; a field added to one
// file is added to the other.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// valueFromProto decodes a value the host encoded as JSON with its type;
// nil or empty is cty.NilVal.
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

// capabilitiesToProto encodes what a Go transport declares. Exec is always
// declared: every Transport has an Exec, and a plugin built before the
// field existed must keep running commands.
func capabilitiesToProto(c Capabilities) *pb.Capabilities {
	exec := true
	return &pb.Capabilities{
		Signal:       c.Signal,
		ValidateHost: c.ValidateHost,
		Exec:         &exec,
		Stdin:        c.Stdin,
		Upload:       c.Upload,
		Download:     c.Download,
		CommandList:  c.CommandList,
		Release:      c.Release,
	}
}

func diagnosticsToProto(diags Diagnostics) []*pb.Diagnostic {
	if len(diags) == 0 {
		return nil
	}
	out := make([]*pb.Diagnostic, 0, len(diags))
	for _, d := range diags {
		// A severity left unset is sent as an error: a plugin that
		// forgot it must not have its problem ignored.
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

func hostFromProto(h *pb.Host, configs *hostConfigs) (Host, error) {
	cfg, err := configs.decode(h.GetConfig())
	if err != nil {
		return Host{}, fmt.Errorf("host %s config: %w", h.GetName(), err)
	}
	return Host{Name: h.GetName(), Address: h.GetAddress(), Config: cfg}, nil
}

func connectRequestFromProto(r *pb.Connect_Request, configs *hostConfigs) (*ConnectRequest, error) {
	h, err := hostFromProto(r.GetHost(), configs)
	if err != nil {
		return nil, err
	}
	return &ConnectRequest{Host: h, Answers: r.GetAnswers()}, nil
}

func validateHostRequestFromProto(r *pb.ValidateHost_Request, configs *hostConfigs) (*ValidateHostRequest, error) {
	h, err := hostFromProto(r.GetHost(), configs)
	if err != nil {
		return nil, err
	}
	return &ValidateHostRequest{Host: h}, nil
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

func execRequestFromProto(r *pb.Exec_Request) *ExecRequest {
	var timeout time.Duration
	if d := r.GetTimeout(); d != nil && d.AsDuration() > 0 {
		timeout = d.AsDuration()
	}
	return &ExecRequest{
		ID:       r.GetId(),
		Host:     r.GetHost(),
		Command:  r.GetCommand(),
		Env:      r.GetEnv(),
		Timeout:  timeout,
		Stdin:    r.GetStdin(),
		Commands: r.GetCommands(),
	}
}

func uploadRequestFromProto(h *pb.Upload_Header) (*UploadRequest, error) {
	var typ FileType
	switch h.GetType() {
	case pb.Upload_FILE:
		typ = RegularFile
	case pb.Upload_DIRECTORY:
		typ = Directory
	case pb.Upload_SYMLINK:
		typ = Symlink
	default:
		return nil, fmt.Errorf("unknown entry type %d", h.GetType())
	}
	if h.GetMode() > wire.MaxMode {
		return nil, fmt.Errorf("mode %#o has bits beyond %#o", h.GetMode(), wire.MaxMode)
	}
	if h.GetSize() < 0 || (typ != RegularFile && h.GetSize() != 0) {
		return nil, fmt.Errorf("size %d for a %s", h.GetSize(), typ)
	}
	return &UploadRequest{
		Host:       h.GetHost(),
		Path:       h.GetPath(),
		Type:       typ,
		Mode:       ModeFromChmod(h.GetMode()),
		Size:       h.GetSize(),
		LinkTarget: h.GetLinkTarget(),
	}, nil
}

func downloadRequestFromProto(r *pb.Download_Request) *DownloadRequest {
	return &DownloadRequest{Host: r.GetHost(), Path: r.GetPath()}
}

func downloadResponseToProto(r *DownloadResponse) *pb.Download_End {
	return &pb.Download_End{Mode: ChmodBits(r.Mode), Size: r.Size}
}

func execResponseToProto(r *ExecResponse) *pb.Exec_Exit {
	return &pb.Exec_Exit{
		ExitCode: int32(r.ExitCode),
		Signal:   r.Signal,
		TimedOut: r.TimedOut,
		Command:  int32(r.Command),
	}
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

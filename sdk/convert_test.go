package sdk

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

func TestValueRoundTrip(t *testing.T) {
	tests := map[string]cty.Value{
		"string":       cty.StringVal("sh"),
		"number":       cty.NumberIntVal(22),
		"bool":         cty.True,
		"null string":  cty.NullVal(cty.String),
		"null object":  cty.NullVal(cty.Object(map[string]cty.Type{"shell": cty.String})),
		"empty object": cty.EmptyObjectVal,
		"object": cty.ObjectVal(map[string]cty.Value{
			"user":         cty.StringVal("deploy"),
			"port":         cty.NumberIntVal(22),
			"max_sessions": cty.NullVal(cty.Number),
			"env":          cty.MapVal(map[string]cty.Value{"A": cty.StringVal("1")}),
			"jump":         cty.ListVal([]cty.Value{cty.StringVal("bastion")}),
			"opts":         cty.TupleVal([]cty.Value{cty.StringVal("x"), cty.False}),
		}),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			dv, err := valueToProto(v)
			if err != nil {
				t.Fatalf("valueToProto: %v", err)
			}
			got, err := valueFromProto(dv)
			if err != nil {
				t.Fatalf("valueFromProto: %v", err)
			}
			if !got.Type().Equals(v.Type()) || !got.RawEquals(v) {
				t.Errorf("round trip of %#v gave %#v", v, got)
			}
		})
	}
}

func TestValueNil(t *testing.T) {
	dv, err := valueToProto(cty.NilVal)
	if err != nil || dv != nil {
		t.Fatalf("valueToProto(NilVal) = %v, %v; want nil, nil", dv, err)
	}
	for _, dv := range []*pb.DynamicValue{nil, {}} {
		v, err := valueFromProto(dv)
		if err != nil || v.Type() != cty.NilType {
			t.Errorf("valueFromProto(%v) = %#v, %v; want NilVal", dv, v, err)
		}
	}
}

func TestValueMarksDropped(t *testing.T) {
	v := cty.ObjectVal(map[string]cty.Value{"password": cty.StringVal("s3cret").Mark("sensitive")})
	dv, err := valueToProto(v)
	if err != nil {
		t.Fatalf("valueToProto: %v", err)
	}
	got, err := valueFromProto(dv)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetAttr("password").AsString() != "s3cret" {
		t.Errorf("got %#v", got)
	}
}

func TestValueUnknownRejected(t *testing.T) {
	if _, err := valueToProto(cty.UnknownVal(cty.String)); err == nil {
		t.Error("valueToProto accepted an unknown value")
	}
}

func TestDescribeRoundTrip(t *testing.T) {
	in := &DescribeResponse{
		Name:         "ssh",
		Version:      "1.2.3",
		Capabilities: Capabilities{Signal: true},
		TransportSchema: Schema{Attributes: []Attribute{
			{Name: "user", Type: cty.String, Required: true, Description: "Login user."},
			{Name: "port", Type: cty.Number},
			{Name: "password", Type: cty.String, Sensitive: true},
			{Name: "extra", Type: cty.Map(cty.List(cty.String))},
			{Name: "anything"}, // no type declared
		}},
		HostSchema: Schema{Attributes: []Attribute{{Name: "port", Type: cty.Number}}},
	}
	p, err := describeResponseToProto(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := describeResponseFromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != in.Name || out.Version != in.Version || out.Capabilities != in.Capabilities {
		t.Errorf("got %+v", out)
	}
	for i, a := range in.TransportSchema.Attributes {
		b := out.TransportSchema.Attributes[i]
		if a.Name != b.Name || a.Required != b.Required || a.Description != b.Description || a.Sensitive != b.Sensitive ||
			(a.Type == cty.NilType) != (b.Type == cty.NilType) || (a.Type != cty.NilType && !a.Type.Equals(b.Type)) {
			t.Errorf("attribute %d: got %+v, want %+v", i, b, a)
		}
	}
	if len(out.HostSchema.Attributes) != 1 {
		t.Errorf("host schema = %+v", out.HostSchema)
	}
}

func TestDiagnosticsRoundTrip(t *testing.T) {
	in := Diagnostics{
		{Severity: Error, Summary: "Unknown user", Detail: "Set user.", Attribute: AttributePath{"user"}},
		{Severity: Warning, Summary: "Deprecated", Attribute: AttributePath{"tags", "env"}},
		{Severity: Error, Summary: "Whole block"},
	}
	out := diagnosticsFromProto(diagnosticsToProto(in))
	if len(out) != len(in) {
		t.Fatalf("got %d diagnostics, want %d", len(out), len(in))
	}
	for i := range in {
		if in[i].Severity != out[i].Severity || in[i].Summary != out[i].Summary || in[i].Detail != out[i].Detail ||
			in[i].Attribute.String() != out[i].Attribute.String() {
			t.Errorf("diagnostic %d = %+v, want %+v", i, out[i], in[i])
		}
	}
	// A severity the plugin left unset must not turn an error into nothing.
	if got := diagnosticsFromProto([]*pb.Diagnostic{{Summary: "x"}}); got[0].Severity != Error {
		t.Errorf("unset severity read as %v, want Error", got[0].Severity)
	}
}

func TestExecRoundTrip(t *testing.T) {
	tests := []ExecRequest{
		{ID: "1", Host: "web1", Command: "uptime", Env: map[string]string{"A": "b"}, Timeout: 1500 * time.Millisecond},
		{ID: "2", Host: "web2", Command: "true"},
	}
	for _, in := range tests {
		out := execRequestFromProto(execRequestToProto(&in))
		if out.ID != in.ID || out.Host != in.Host || out.Command != in.Command || out.Timeout != in.Timeout || len(out.Env) != len(in.Env) {
			t.Errorf("got %+v, want %+v", out, in)
		}
	}
	for _, in := range []ExecResponse{{ExitCode: 0}, {ExitCode: 255}, {ExitCode: -1, Signal: "KILL", TimedOut: true}} {
		if out := execResponseFromProto(execResponseToProto(&in)); *out != in {
			t.Errorf("got %+v, want %+v", *out, in)
		}
	}
}

func TestErrorStatusRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		err  error
		is   error
	}{
		{name: "plain", err: errors.New("host key mismatch for web1")},
		{name: "canceled", err: context.Canceled, is: context.Canceled},
		{name: "deadline", err: context.DeadlineExceeded, is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorFromStatus(errorToStatus(tt.err))
			if got.Error() != tt.err.Error() {
				t.Errorf("message = %q, want %q", got.Error(), tt.err.Error())
			}
			if tt.is != nil && !errors.Is(got, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", got, tt.is)
			}
		})
	}
	st := status.Error(codes.PermissionDenied, "no")
	if errorToStatus(st) != st {
		t.Error("a status error was rewrapped")
	}
}

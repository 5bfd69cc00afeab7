package sdk_test

// Round trips through both halves of the mapping to the wire: the host's
// (sdk/client) and the plugin's (this package), over real gRPC.

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// configured serves a transport that records the Config it is given and
// returns the client end.
func configured(t *testing.T) (sdk.Transport, *cty.Value) {
	var got cty.Value
	impl := &fake{configure: func(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
		got = req.Config
		return &sdk.ConfigureResponse{}, nil
	}}
	return sdktest.NewHarness(t, impl).Transport(), &got
}

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
		"no value": cty.NilVal,
	}
	tr, got := configured(t)
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := tr.Configure(context.Background(), &sdk.ConfigureRequest{Config: v}); err != nil {
				t.Fatal(err)
			}
			if v == cty.NilVal {
				if *got != cty.NilVal {
					t.Errorf("NilVal arrived as %#v", *got)
				}
				return
			}
			if !got.Type().Equals(v.Type()) || !got.RawEquals(v) {
				t.Errorf("round trip of %#v gave %#v", v, *got)
			}
		})
	}
}

func TestValueMarksDropped(t *testing.T) {
	tr, got := configured(t)
	v := cty.ObjectVal(map[string]cty.Value{"password": cty.StringVal("s3cret").Mark("sensitive")})
	if _, err := tr.Configure(context.Background(), &sdk.ConfigureRequest{Config: v}); err != nil {
		t.Fatal(err)
	}
	if got.GetAttr("password").AsString() != "s3cret" {
		t.Errorf("got %#v", *got)
	}
}

func TestValueUnknownRejected(t *testing.T) {
	tr, _ := configured(t)
	if _, err := tr.Configure(context.Background(), &sdk.ConfigureRequest{Config: cty.UnknownVal(cty.String)}); err == nil {
		t.Error("an unknown value was sent")
	}
}

func TestDescribeRoundTrip(t *testing.T) {
	in := &sdk.DescribeResponse{
		Name:         "ssh",
		Version:      "1.2.3",
		Capabilities: sdk.Capabilities{Signal: true, Exec: true, Stdin: true, CommandList: true},
		TransportSchema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "user", Type: cty.String, Required: true, Description: "Login user."},
			{Name: "port", Type: cty.Number},
			{Name: "password", Type: cty.String, Sensitive: true},
			{Name: "extra", Type: cty.Map(cty.List(cty.String))},
			{Name: "anything"}, // no type declared
		}},
		HostSchema: sdk.Schema{Attributes: []sdk.Attribute{{Name: "port", Type: cty.Number}}},
	}
	impl := &fake{describe: func(context.Context) (*sdk.DescribeResponse, error) { return in, nil }}
	out, err := sdktest.NewHarness(t, impl).Transport().Describe(context.Background(), &sdk.DescribeRequest{})
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
	in := sdk.Diagnostics{
		{Severity: sdk.Error, Summary: "Unknown user", Detail: "Set user.", Attribute: sdk.AttributePath{"user"}},
		{Severity: sdk.Warning, Summary: "Deprecated", Attribute: sdk.AttributePath{"tags", "env"}},
		{Severity: sdk.Error, Summary: "Whole block"},
		// A severity the plugin left unset must not turn an error into
		// nothing: it arrives as an Error.
		{Summary: "Unset severity"},
	}
	impl := &fake{configure: func(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
		return &sdk.ConfigureResponse{Diagnostics: in}, nil
	}}
	resp, err := sdktest.NewHarness(t, impl).Transport().Configure(context.Background(), &sdk.ConfigureRequest{Config: cty.EmptyObjectVal})
	if err != nil {
		t.Fatal(err)
	}
	out := resp.Diagnostics
	if len(out) != len(in) {
		t.Fatalf("got %d diagnostics, want %d", len(out), len(in))
	}
	for i := range in {
		want := in[i].Severity
		if want == sdk.SeverityInvalid {
			want = sdk.Error
		}
		if out[i].Severity != want || in[i].Summary != out[i].Summary || in[i].Detail != out[i].Detail ||
			in[i].Attribute.String() != out[i].Attribute.String() {
			t.Errorf("diagnostic %d = %+v, want %+v with severity %v", i, out[i], in[i], want)
		}
	}
}

func TestExecRoundTrip(t *testing.T) {
	tests := []struct {
		req  sdk.ExecRequest
		resp sdk.ExecResponse
	}{
		{sdk.ExecRequest{ID: "1", Host: "web1", Command: "uptime", Env: map[string]string{"A": "b"}, Timeout: 1500 * time.Millisecond}, sdk.ExecResponse{ExitCode: 0}},
		{sdk.ExecRequest{ID: "2", Host: "web2", Command: "true", Stdin: []byte("password\n")}, sdk.ExecResponse{ExitCode: 255}},
		{sdk.ExecRequest{ID: "3", Host: "web3", Command: "sleep 9"}, sdk.ExecResponse{ExitCode: -1, Signal: "KILL", TimedOut: true}},
		{sdk.ExecRequest{ID: "4", Host: "web4", Commands: []string{"true", "false", "true"}}, sdk.ExecResponse{ExitCode: 1, Command: 1}},
	}
	for _, tt := range tests {
		var got *sdk.ExecRequest
		impl := &fake{exec: func(_ context.Context, req *sdk.ExecRequest, _ sdk.ExecOutput) (*sdk.ExecResponse, error) {
			got = req
			resp := tt.resp
			return &resp, nil
		}}
		out, err := sdktest.NewHarness(t, impl).Transport().Exec(context.Background(), &tt.req, sdk.ExecOutput{})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tt.req.ID || got.Host != tt.req.Host || got.Command != tt.req.Command || got.Timeout != tt.req.Timeout || len(got.Env) != len(tt.req.Env) ||
			!bytes.Equal(got.Stdin, tt.req.Stdin) || !slices.Equal(got.Commands, tt.req.Commands) {
			t.Errorf("request %+v arrived as %+v", tt.req, *got)
		}
		if *out != tt.resp {
			t.Errorf("response %+v arrived as %+v", tt.resp, *out)
		}
	}
}

func TestSignalRoundTrip(t *testing.T) {
	var got *sdk.SignalRequest
	impl := &fake{signal: func(_ context.Context, req *sdk.SignalRequest) { got = req }}
	in := &sdk.SignalRequest{ExecID: "7", Signal: "INT"}
	if _, err := sdktest.NewHarness(t, impl).Transport().Signal(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if *got != *in {
		t.Errorf("signal request %+v arrived as %+v", *in, *got)
	}
}

func TestErrorRoundTrip(t *testing.T) {
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
			impl := &fake{connect: func(context.Context, *sdk.ConnectRequest) error { return tt.err }}
			_, got := sdktest.NewHarness(t, impl).Transport().Connect(context.Background(), &sdk.ConnectRequest{Host: sdk.Host{Name: "web1"}})
			if got == nil || got.Error() != tt.err.Error() {
				t.Fatalf("error = %v, want %q", got, tt.err.Error())
			}
			if tt.is != nil && !errors.Is(got, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", got, tt.is)
			}
		})
	}
}

package core

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
)

// describedTransport is the schema fake with another description.
type describedTransport struct {
	*schemaTransport
	desc *sdk.DescribeResponse
}

func (d *describedTransport) Describe(context.Context, *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return d.desc, nil
}

func TestPluginDeclaringReservedAttributes(t *testing.T) {
	tests := []struct {
		name      string
		transport []sdk.Attribute
		host      []sdk.Attribute
		want      string
	}{
		{name: "sha256", transport: []sdk.Attribute{{Name: "sha256", Type: cty.String}},
			want: `Transport plugin "echo" declares the reserved attribute "sha256"`},
		{name: "address", host: []sdk.Attribute{{Name: "address", Type: cty.String}},
			want: `Transport plugin "echo" declares the reserved attribute "address"`},
		{name: "transport", host: []sdk.Attribute{{Name: "transport", Type: cty.String}},
			want: `Transport plugin "echo" declares the reserved attribute "transport"`},
		{name: "roles", host: []sdk.Attribute{{Name: "dir", Type: cty.String}, {Name: "roles", Type: cty.List(cty.String)}},
			want: `Transport plugin "echo" declares the reserved attribute "roles"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &describedTransport{schemaTransport: &schemaTransport{fakeTransport: newFake()}, desc: &sdk.DescribeResponse{
				Name: "echo", TransportSchema: sdk.Schema{Attributes: tt.transport}, HostSchema: sdk.Schema{Attributes: tt.host},
			}}
			_, diags := planSource(t, "transport \"echo\" {}\nhost \"a\" {\n  transport = \"echo\"\n}"+okTask, launcherFunc(
				func(context.Context, string) (sdk.Transport, func(), error) { return st, func() {}, nil }))
			if !diags.HasErrors() {
				t.Fatalf("a plugin declaring %q was accepted", tt.name)
			}
			d := diags[0]
			if d.Summary != tt.want || d.Subject == nil || d.Subject.Start.Line != 1 {
				t.Errorf("got %q at %v, want %q on the transport block (all: %v)", d.Summary, d.Subject, tt.want, diags)
			}
			if !strings.Contains(d.Detail, "fanout refuses the plugin") {
				t.Errorf("detail %q does not say the plugin is refused", d.Detail)
			}
			if st.configured != cty.NilVal {
				t.Errorf("the refused plugin was configured with %#v", st.configured)
			}
		})
	}
}

// TestPluginDeclaringBadSchema: a schema attribute HCL cannot write, or
// one declared twice, is the plugin's bug, refused at plan time as such
// (fanout took it silently).
func TestPluginDeclaringBadSchema(t *testing.T) {
	for _, tt := range []struct {
		name  string
		attrs []sdk.Attribute
		why   string
	}{
		{"duplicate", []sdk.Attribute{{Name: "dir", Type: cty.String}, {Name: "dir", Type: cty.Number}}, `"dir" is declared twice`},
		{"space", []sdk.Attribute{{Name: "has space", Type: cty.String}}, `"has space" is not a name HCL can write`},
		{"empty", []sdk.Attribute{{Name: "", Type: cty.String}}, `"" is not a name HCL can write`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &describedTransport{schemaTransport: &schemaTransport{fakeTransport: newFake()}}
			st.desc, _ = st.schemaTransport.Describe(context.Background(), nil)
			st.desc.HostSchema.Attributes = tt.attrs
			_, diags := planSource(t, "transport \"echo\" { greeting = \"hi\" }\nhost \"a\" {\n  transport = \"echo\"\n}"+okTask, launcherFunc(
				func(context.Context, string) (sdk.Transport, func(), error) { return st, func() {}, nil }))
			if !diags.HasErrors() || diags[0].Summary != `Transport plugin "echo" declares a bad host schema` || !strings.Contains(diags[0].Detail, tt.why) {
				t.Errorf("diagnostics %v, want the plugin's bad schema named", diags)
			}
		})
	}
}

func TestPluginDescribeNameDiffers(t *testing.T) {
	st := &describedTransport{schemaTransport: &schemaTransport{fakeTransport: newFake()}}
	st.desc, _ = st.schemaTransport.Describe(context.Background(), nil)
	st.desc.Name = "docker"
	p, diags := planSource(t, "transport \"echo\" { greeting = \"hi\" }\nhost \"a\" {\n  transport = \"echo\"\n}"+okTask, launcherFunc(
		func(context.Context, string) (sdk.Transport, func(), error) { return st, func() {}, nil }))
	if diags.HasErrors() || p == nil {
		t.Fatalf("a plugin with another name was refused: %v", diags)
	}
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != `Transport plugin "echo" calls itself "docker"` ||
		diags[0].Subject == nil || diags[0].Subject.Start.Line != 1 {
		t.Errorf("diagnostics %v, want one warning on the transport block", diags)
	}
}

// hostChecking is the schema fake that validates hosts: dir must not be
// "/nope". declare says whether Describe declares it can.
type hostChecking struct {
	*schemaTransport
	declare bool
	checked []string
}

func (h *hostChecking) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	d, err := h.schemaTransport.Describe(ctx, req)
	d.Capabilities.ValidateHost = h.declare
	return d, err
}

func (h *hostChecking) ValidateHost(_ context.Context, req *sdk.ValidateHostRequest) (*sdk.ValidateHostResponse, error) {
	h.checked = append(h.checked, req.Host.Name)
	if dir := req.Host.Config.GetAttr("dir"); !dir.IsNull() && dir.AsString() == "/nope" {
		return &sdk.ValidateHostResponse{Diagnostics: sdk.Diagnostics{{
			Severity: sdk.Error, Summary: "No such directory", Detail: "/nope does not exist.", Attribute: sdk.AttributePath{"dir"},
		}}}, nil
	}
	return &sdk.ValidateHostResponse{}, nil
}

func TestValidateHostAtPlan(t *testing.T) {
	src := `transport "echo" { greeting = "hi" }
host "good" {
  transport = "echo"
  dir       = "/tmp"
}
host "bad" {
  transport = "echo"
  dir       = "/nope"
}
host "plain" {
  transport = "echo"
}
task "t" {
  on  = ["good"]
  run = "true"
}`
	launch := func(h *hostChecking) Launcher {
		return launcherFunc(func(context.Context, string) (sdk.Transport, func(), error) { return h, func() {}, nil })
	}
	h := &hostChecking{schemaTransport: &schemaTransport{fakeTransport: newFake()}, declare: true}
	_, diags := planSource(t, src, launch(h))
	if !diags.HasErrors() {
		t.Fatal("the bad host passed the plan")
	}
	d := diags[0]
	if len(diags) != 1 || d.Summary != "No such directory" || d.Subject == nil || d.Subject.Start.Line != 8 || d.Context == nil {
		t.Errorf("got %v, want one error at dir's line 8", diags)
	}
	if !slices.Equal(h.checked, []string{"good", "bad"}) && !slices.Equal(h.checked, []string{"bad", "good"}) {
		t.Errorf("hosts checked: %v, want both, the unused one too, and not plain, which sets nothing", h.checked)
	}

	// A plugin that does not declare the capability (protocol 1.1) is
	// never asked.
	h = &hostChecking{schemaTransport: &schemaTransport{fakeTransport: newFake()}}
	if _, diags := planSource(t, src, launch(h)); diags.HasErrors() || len(h.checked) != 0 {
		t.Errorf("a plugin without the capability: diagnostics %v, checked %v", diags, h.checked)
	}
}

// configureRefusing refuses its settings in Configure.
type configureRefusing struct{ *hostChecking }

func (c configureRefusing) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{Diagnostics: sdk.Diagnostics{{Severity: sdk.Error, Summary: "Bad greeting", Attribute: sdk.AttributePath{"greeting"}}}}, nil
}

// TestValidateHostNotAfterRefusedConfigure: a transport that refused its
// settings is not asked to check hosts against them: the one error is its
// own, not one more for every host.
func TestValidateHostNotAfterRefusedConfigure(t *testing.T) {
	src := `transport "echo" { greeting = "hi" }
host "a" {
  transport = "echo"
  dir       = "/nope"
}
task "t" { run = "true" }`
	h := &hostChecking{schemaTransport: &schemaTransport{fakeTransport: newFake()}, declare: true}
	_, diags := planSource(t, src, launcherFunc(func(context.Context, string) (sdk.Transport, func(), error) {
		return configureRefusing{h}, func() {}, nil
	}))
	if len(diags) != 1 || diags[0].Summary != "Bad greeting" || len(h.checked) != 0 {
		t.Errorf("diagnostics %v, hosts checked %v; want only the transport's error, no host checked", diags, h.checked)
	}
}

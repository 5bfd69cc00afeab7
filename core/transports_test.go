package core

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// schemaTransport is a fake whose schema the tests check settings against;
// its Configure rejects greeting = "bad" through a plugin diagnostic.
type schemaTransport struct {
	*fakeTransport
	configured cty.Value
}

func (s *schemaTransport) Describe(context.Context, *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{
		Name: "echo",
		TransportSchema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "greeting", Type: cty.String, Required: true},
			{Name: "repeat", Type: cty.Number},
			{Name: "token", Type: cty.String, Sensitive: true},
		}},
		HostSchema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "dir", Type: cty.String},
		}},
	}, nil
}

func (s *schemaTransport) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	s.configured = req.Config
	if g := req.Config.GetAttr("greeting"); g.IsKnown() && !g.IsNull() && g.AsString() == "bad" {
		return &sdk.ConfigureResponse{Diagnostics: sdk.Diagnostics{{
			Summary: "Unwelcome greeting", Detail: "Say hello.", Attribute: sdk.AttributePath{"greeting"},
		}}}, nil
	}
	return &sdk.ConfigureResponse{}, nil
}

// planSource plans src, main.hcl, with the echo transport served by st.
func planSource(t *testing.T, src string, l Launcher) (*Plan, hcl.Diagnostics) {
	t.Helper()
	return planSourceWith(t, src, l, "")
}

// planSourceWith is planSource for the run runID.
func planSourceWith(t *testing.T, src string, l Launcher, runID string) (*Plan, hcl.Diagnostics) {
	t.Helper()
	return planConfig(t, loadTestConfig(t, src), l, runID)
}

// planConfig plans cfg for the run runID with the transports l launches.
func planConfig(t *testing.T, cfg *config.Config, l Launcher, runID string) (*Plan, hcl.Diagnostics) {
	t.Helper()
	ts := NewTransports(l, nil)
	closeTransports(t, ts)
	return BuildPlan(context.Background(), cfg, PlanOptions{Transports: ts, RunID: runID})
}

// closeTransports closes ts when t ends, failing t if a transport does
// not close cleanly.
func closeTransports(t testing.TB, ts *Transports) {
	t.Cleanup(func() {
		if err := ts.Close(context.Background()); err != nil {
			t.Errorf("close the transports: %v", err)
		}
	})
}

// closeJournal closes a journal a test wrote, failing t if that fails.
func closeJournal(t testing.TB, j *FileJournal) {
	t.Helper()
	if err := j.Close(); err != nil {
		t.Errorf("close the journal %s: %v", j.Path(), err)
	}
}

func echoLauncher(st *schemaTransport) Launcher {
	return launcherFunc(func(_ context.Context, name string) (sdk.Transport, func(), error) {
		if name != "echo" {
			return nil, nil, fmt.Errorf("no transport %q", name)
		}
		return st, func() {}, nil
	})
}

const okTask = `
task "t" {
  run = "true"
}
`

func TestSchemaDiagnostics(t *testing.T) {
	tests := []struct {
		name, src string
		summary   string
		line      int
		detail    string
	}{
		{
			name: "typo in the transport block",
			src: `transport "echo" {
  greeting = "hi"
  repaet   = 2
}
host "a" { transport = "echo" }` + okTask,
			summary: "Unsupported argument", line: 3, detail: `Did you mean "repeat"?`,
		},
		{
			name:    "missing required",
			src:     "transport \"echo\" {\n}\nhost \"a\" { transport = \"echo\" }" + okTask,
			summary: "Missing required argument", line: 1, detail: `"greeting" is required`,
		},
		{
			name:    "wrong type",
			src:     "transport \"echo\" {\n  greeting = \"hi\"\n  repeat = \"many\"\n}\nhost \"a\" { transport = \"echo\" }" + okTask,
			summary: "Incorrect attribute value type", line: 3, detail: "a number is required",
		},
		{
			name: "typo in a host block",
			src: `transport "echo" { greeting = "hi" }
host "a" {
  transport = "echo"
  dri       = "/tmp"
}` + okTask,
			summary: "Unsupported argument", line: 4, detail: `Did you mean "dir"?`,
		},
		{
			name: "typo of one of fanout's own host attributes",
			src: `transport "echo" { greeting = "hi" }
host "a" {
  transport = "echo"
  adress    = "10.0.0.1"
}` + okTask,
			summary: "Unsupported argument", line: 4, detail: `Did you mean "address"?`,
		},
		{
			name: "typo in a host no task uses",
			src: `transport "echo" { greeting = "hi" }
host "a" { transport = "echo" }
host "b" {
  transport = "echo"
  dri       = "/tmp"
}
task "t" {
  on  = ["a"]
  run = "true"
}`,
			summary: "Unsupported argument", line: 5,
		},
		{
			name:    "plugin diagnostic lands on its attribute",
			src:     "transport \"echo\" {\n  repeat = 1\n  greeting = \"bad\"\n}\nhost \"a\" { transport = \"echo\" }" + okTask,
			summary: "Unwelcome greeting", line: 3, detail: "Say hello.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := planSource(t, tt.src, echoLauncher(&schemaTransport{fakeTransport: newFake()}))
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			d := diags[0]
			if d.Summary != tt.summary || d.Subject == nil || d.Subject.Filename != "main.hcl" || d.Subject.Start.Line != tt.line {
				t.Errorf("got %q at %v, want %q at main.hcl line %d (all: %v)", d.Summary, d.Subject, tt.summary, tt.line, diags)
			}
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", d.Detail, tt.detail)
			}
		})
	}
}

func TestSchemaSettingsReachThePlugin(t *testing.T) {
	st := &schemaTransport{fakeTransport: newFake()}
	src := `variable "tok" {
  default = "s3cret"
}
transport "echo" {
  greeting = "hi ${var.tok}"
  token    = var.tok
}
host "a" {
  transport = "echo"
  dir       = "/srv"
}` + okTask
	p, diags := planSource(t, src, echoLauncher(st))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := cty.ObjectVal(map[string]cty.Value{
		"greeting": cty.StringVal("hi s3cret"),
		"repeat":   cty.NullVal(cty.Number),
		"token":    cty.StringVal("s3cret"),
	})
	if !st.configured.RawEquals(want) {
		t.Errorf("Configure got %#v, want %#v", st.configured, want)
	}
	if h := p.Hosts[0]; !h.Config.RawEquals(cty.ObjectVal(map[string]cty.Value{"dir": cty.StringVal("/srv")})) {
		t.Errorf("host config = %#v", h.Config)
	}
	tp := p.Transports[0]
	var got []string
	for _, s := range tp.Attributes() {
		got = append(got, fmt.Sprintf("%s=%#v sensitive=%v", s.Name, s.Value, s.Sensitive))
	}
	wantAttrs := []string{
		`greeting=cty.StringVal("hi s3cret") sensitive=false`,
		`repeat=cty.NullVal(cty.Number) sensitive=false`,
		`token=cty.StringVal("s3cret") sensitive=true`,
	}
	if diff := cmp.Diff(wantAttrs, got); diff != "" {
		t.Errorf("Attributes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Secret{{Name: "transport." + tp.Name + ".token", Value: "s3cret"}}, Secrets(nil, p)); diff != "" {
		t.Errorf("Secrets (-want +got):\n%s", diff)
	}
}

// explainedError is a launcher's error that explains itself.
type explainedError struct{ summary, detail string }

func (e *explainedError) Error() string   { return "not started" }
func (e *explainedError) Summary() string { return e.summary }
func (e *explainedError) Detail() string  { return e.detail }

// TestLaunchErrorDiagnostic: a launcher's error that explains itself
// (pluginhost's not found, checksum, lock file and protocol errors) is the
// diagnostic, on the transport block.
func TestLaunchErrorDiagnostic(t *testing.T) {
	l := launcherFunc(func(context.Context, string) (sdk.Transport, func(), error) {
		return nil, nil, fmt.Errorf("start: %w", &explainedError{summary: `Transport plugin "nope" not found`, detail: "Install it."})
	})
	src := "\ntransport \"nope\" {\n  x = 1\n}\nhost \"a\" { transport = \"nope\" }" + okTask
	_, diags := planSource(t, src, l)
	if len(diags) != 1 {
		t.Fatalf("diagnostics = %v, want one", diags)
	}
	d := diags[0]
	if d.Summary != `Transport plugin "nope" not found` || d.Detail != "Install it." || d.Subject == nil || d.Subject.Start.Line != 2 {
		t.Errorf("got %q (%q) at %v", d.Summary, d.Detail, d.Subject)
	}

	// A name one letter from a built-in one was meant to be it.
	l = launcherFunc(func(context.Context, string) (sdk.Transport, func(), error) {
		return nil, nil, fmt.Errorf("start: %w", &explainedError{summary: `Transport plugin "sssh" not found`, detail: "Install it."})
	})
	_, diags = planSource(t, "\ntransport \"sssh\" {}\nhost \"a\" { transport = \"sssh\" }"+okTask, l)
	if len(diags) != 1 || !strings.HasPrefix(diags[0].Detail, `Did you mean "ssh"?`) {
		t.Errorf("diagnostics = %v, want one suggesting ssh", diags)
	}
}

func TestPinNeedsARequestLauncher(t *testing.T) {
	src := "transport \"echo\" {\n  sha256 = \"" + strings.Repeat("a", 64) + "\"\n  greeting = \"hi\"\n}\nhost \"a\" { transport = \"echo\" }" + okTask
	_, diags := planSource(t, src, echoLauncher(&schemaTransport{fakeTransport: newFake()}))
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, "cannot verify") {
		t.Fatalf("a pinned transport started through a launcher that cannot verify it: %v", diags)
	}
}

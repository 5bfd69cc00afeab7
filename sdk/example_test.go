package sdk_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
)

// newMyTransport stands for a plugin author's constructor of an
// sdk.Transport.
func newMyTransport(hclog.Logger) sdk.Transport { return &echoTransport{} }

// A transport plugin's main function: Serve builds the transport with the
// logger fanout reads, and serves it until fanout ends the plugin.
func ExampleServe() {
	sdk.Serve(func(logger hclog.Logger) sdk.Transport {
		return newMyTransport(logger)
	}, &sdk.ServeOpts{Name: "docker"})
}

// Configure decodes the transport block's settings into a struct whose
// fields hold the defaults: an attribute left unset (null) keeps them.
func ExampleDecode() {
	type settings struct {
		Shell   string   `cty:"shell"`
		Retries int      `cty:"retries"`
		Prefix  []string `cty:"prefix"`
		Token   *string  `cty:"token"`
	}
	// What fanout sends for `transport "docker" { retries = 3 }`: every
	// declared attribute, null when not set.
	config := cty.ObjectVal(map[string]cty.Value{
		"shell":   cty.NullVal(cty.String),
		"retries": cty.NumberIntVal(3),
		"prefix":  cty.NullVal(cty.List(cty.String)),
		"token":   cty.NullVal(cty.String),
	})
	s := settings{Shell: "/bin/sh", Retries: 1}
	if err := sdk.Decode(config, &s); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %d %q %v\n", s.Shell, s.Retries, s.Prefix, s.Token)
	// Output:
	// /bin/sh 3 [] <nil>
}

// ExecResponse.Signal takes a signal's name as SignalName gives it, which
// fanout shows as "killed by SIGSEGV"; SignalNum reads a SignalRequest's.
func ExampleSignalName() {
	fmt.Println(sdk.SignalName(syscall.SIGSEGV), sdk.SignalName(syscall.SIGTERM))
	sig, ok := sdk.SignalNum("INT")
	fmt.Println(sig == syscall.SIGINT, ok)
	_, ok = sdk.SignalNum("NOPE")
	fmt.Println(ok)
	// Output:
	// SEGV TERM
	// true true
	// false
}

// A transport declares the settings of its transport block and of the host
// blocks that use it as data. fanout checks a configuration against them
// before anything runs: an unknown attribute, a missing required one or a
// value of the wrong type is an error at its line, and sensitive values
// are never shown.
func ExampleSchema() {
	s := sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "greeting", Type: cty.String, Required: true, Description: "Exported as ECHO_GREETING."},
		{Name: "prefix", Type: cty.List(cty.String), Description: "Command line that runs sh -c."},
		{Name: "token", Type: cty.String, Sensitive: true, Description: "Never shown."},
	}}
	for _, a := range s.Attributes {
		fmt.Printf("%-8s %-14s required=%-5v sensitive=%v\n", a.Name, a.Type.FriendlyName(), a.Required, a.Sensitive)
	}
	// Output:
	// greeting string         required=true  sensitive=false
	// prefix   list of string required=false sensitive=false
	// token    string         required=false sensitive=true
}

// Configure reports what the schema cannot say as diagnostics naming the
// attribute, which fanout shows at that attribute's line; Err joins the
// errors for a caller that only wants an error.
func ExampleDiagnostics_Err() {
	diags := sdk.Diagnostics{
		{Severity: sdk.Warning, Summary: "Greeting is long"},
		{
			Severity:  sdk.Error,
			Summary:   "Prefix command not found",
			Detail:    `"nicer" cannot be run here`,
			Attribute: sdk.AttributePath{"prefix"},
		},
	}
	fmt.Println(diags.HasErrors())
	fmt.Println(diags.Err())
	// Output:
	// true
	// prefix: Prefix command not found: "nicer" cannot be run here
}

// upper is a useless transport: it "runs" a command by writing it back in
// upper case, output going to out as it is produced. The other methods
// come from a test transport that answers them trivially.
type upper struct{ *echoTransport }

func (upper) Exec(_ context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if _, err := fmt.Fprintln(out.Stdout, strings.ToUpper(req.Command)); err != nil {
		return nil, err
	}
	if strings.Contains(req.Command, "fail") {
		return &sdk.ExecResponse{ExitCode: 1}, nil
	}
	return &sdk.ExecResponse{}, nil
}

// The order in which fanout calls a transport: Describe, Configure once,
// Connect per host, Exec many times (concurrently, in a real run), then
// Close. A command that exits non-zero is a response, not an error.
func Example_lifecycle() {
	ctx := context.Background()
	var tr sdk.Transport = upper{&echoTransport{}}
	desc, _ := tr.Describe(ctx, &sdk.DescribeRequest{})
	fmt.Println("transport", desc.Name)
	_, _ = tr.Configure(ctx, &sdk.ConfigureRequest{Config: cty.EmptyObjectVal})
	_, _ = tr.Connect(ctx, &sdk.ConnectRequest{Host: sdk.Host{Name: "web1"}})
	for i, cmd := range []string{"deploy", "fail now"} {
		resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: fmt.Sprint(i), Host: "web1", Command: cmd},
			sdk.ExecOutput{Stdout: os.Stdout})
		fmt.Println("exit", resp.ExitCode, err)
	}
	_, _ = tr.Close(ctx, &sdk.CloseRequest{})
	// Output:
	// transport echo
	// DEPLOY
	// exit 0 <nil>
	// FAIL NOW
	// exit 1 <nil>
}

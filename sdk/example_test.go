package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
)

// myTransport stands for a plugin author's sdk.Transport implementation.
var myTransport sdk.Transport

// A transport plugin's main function: create the logger first (Serve
// redirects os.Stderr), then serve.
func ExampleServe() {
	logger := sdk.NewLogger("docker")
	_ = logger // a real plugin hands it to its Transport
	sdk.Serve(myTransport, &sdk.ServeOpts{Logger: logger})
}

// The host side: start a plugin process, use its Transport, and end it.
func ExampleNewClient() {
	ctx := context.Background()
	logger := hclog.New(&hclog.LoggerOptions{Name: "fanout", Level: hclog.Info})
	client, err := sdk.NewClient(sdk.ClientConfig{
		Cmd:    exec.Command("fanout-transport-docker"),
		Logger: logger.Named("docker"),
		SHA256: "9f2c6b1e5a0d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3",
	})
	var ce *sdk.ChecksumError
	if errors.As(err, &ce) {
		fmt.Fprintf(os.Stderr, "refusing %s: its sha256 is %s, want %s\n", ce.Path, ce.Got, ce.Want)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer client.Kill()
	tr := client.Transport()
	defer tr.Close(ctx, &sdk.CloseRequest{}) // runs before Kill

	resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: "1", Host: "web1", Command: "uptime"},
		sdk.ExecOutput{Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("exit code", resp.ExitCode)
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

// SHA256File computes what a transport block's sha256 pins, as sha256sum
// prints it.
func ExampleSHA256File() {
	dir, err := os.MkdirTemp("", "sdk-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "fanout-transport-echo")
	if err := os.WriteFile(p, []byte("hello\n"), 0o755); err != nil {
		fmt.Println(err)
		return
	}
	sum, err := sdk.SHA256File(p)
	fmt.Println(sum, err)
	// Output:
	// 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 <nil>
}

// upper is a useless transport: it "runs" a command by writing it back in
// upper case, output going to out as it is produced. The other methods
// come from a test transport that answers them trivially.
type upper struct{ *echoTransport }

func (upper) Exec(_ context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	fmt.Fprintln(out.Stdout, strings.ToUpper(req.Command))
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

package sdk_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"

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

package client_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
)

// The host's end: start a plugin process, use its Transport, and end it.
func ExampleNew() {
	ctx := context.Background()
	logger := hclog.New(&hclog.LoggerOptions{Name: "fanout", Level: hclog.Info})
	c, err := client.New(client.Config{
		Cmd:    exec.Command("fanout-transport-docker"),
		Logger: logger.Named("docker"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer c.Kill()
	tr := c.Transport()
	defer func() { _, _ = tr.Close(ctx, &sdk.CloseRequest{}) }() // runs before Kill

	resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: "1", Host: "web1", Command: "uptime"},
		sdk.ExecOutput{Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("exit code", resp.ExitCode)
}

//go:build unix

// Command fanout-transport-echo is an example fanout transport plugin, the
// starting point for writing one: it runs each command on this machine with
// "sh -c", under an optional command prefix (such as ["nice", "-n", "10"] or
// ["unshare", "--user", "--map-root-user"]), in a per-host directory, with
// the transport's greeting in its environment. It shows every part of the
// contract: a declared schema with required, typed and sensitive
// attributes, plugin diagnostics on attributes, per-host settings,
// streaming output, timeouts, cancellation, signals and Close.
//
// Build it, put it where fanout looks for plugins, and use it:
//
//	go build -o .fanout/plugins/fanout-transport-echo ./examples/plugins/fanout-transport-echo
//
//	transport "echo" {
//	  greeting = "hi"
//	  prefix   = ["nice", "-n", "10"]
//	}
//	host "box" {
//	  transport = "echo"
//	  dir       = "/tmp"
//	}
//	task "hello" {
//	  run = "echo $ECHO_GREETING from $(pwd)"
//	}
//
// Its test runs sdktest.Conformance against the transport in process, over
// gRPC, and as the built binary. It runs on Unix systems only.
package main

import (
	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/sdk"
)

func main() {
	// Serve hands New the logger fanout reads the plugin's logs from.
	sdk.Serve(func(logger hclog.Logger) sdk.Transport { return New(logger) }, &sdk.ServeOpts{Name: "echo"})
}

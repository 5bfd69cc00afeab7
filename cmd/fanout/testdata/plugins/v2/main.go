// Command v2 is a test plugin built as if with a future sdk that speaks
// only version 2 of the transport protocol: it answers go-plugin's
// handshake offering version 2 alone, which fanout must refuse, naming
// both versions, before it tries to connect.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	// The handshake's magic cookie (docs/plugins.md), checked as any
	// plugin checks it.
	if os.Getenv("FANOUT_PLUGIN_MAGIC_COOKIE") != "6a1c3f0e0b8d4e56a9f2d27c1b4e8f03" {
		fmt.Fprintln(os.Stderr, "v2: a fanout transport plugin, started by fanout")
		os.Exit(1)
	}
	// core protocol | app protocol | network | address | protocol
	fmt.Println("1|2|unix|/nonexistent/fanout-v2.sock|grpc")
	time.Sleep(time.Hour) // until fanout, having refused it, kills it
}

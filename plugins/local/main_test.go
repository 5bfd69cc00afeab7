package local_test

import (
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
)

// pluginEnv makes the test binary, re-executed by a test, serve the local
// transport as a plugin process instead of running tests: the way fanout
// re-executes itself to serve its built-in transports.
const pluginEnv = "FANOUT_LOCAL_TEST_PLUGIN"

func TestMain(m *testing.M) {
	// As fanout's main does: the test binary is also the commands'
	// supervisor, for the transport in this process and in its plugin
	// processes alike.
	local.SupervisorMain()
	if os.Getenv(pluginEnv) == "1" {
		sdk.Serve(func(l hclog.Logger) sdk.Transport { return local.New(l) }, &sdk.ServeOpts{Name: "local"})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/plugins/ssh"
	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/go-hclog"
)

// builtins are the transports served by this binary itself, which
// re-executes as `fanout internal-plugin NAME` so that every transport,
// built in or not, runs out of process through the same protocol.
var builtins = map[string]func(hclog.Logger) sdk.Transport{
	"local": func(l hclog.Logger) sdk.Transport { return local.New(l) },
	"ssh":   func(l hclog.Logger) sdk.Transport { return ssh.New(l) },
}

func runInternalPlugin(args []string, s *streams) int {
	if len(args) != 1 {
		fmt.Fprintln(s.Err, "usage: fanout internal-plugin NAME (fanout runs this itself)")
		return exitUsage
	}
	newT, ok := builtins[args[0]]
	if !ok {
		fmt.Fprintf(s.Err, "fanout internal-plugin: no built-in transport %q\n", args[0])
		return exitUsage
	}
	logger := sdk.NewLogger(args[0])
	sdk.Serve(newT(logger), &sdk.ServeOpts{Logger: logger})
	return exitOK
}

// newLauncher returns the launcher for this binary's built-ins and the
// plugin search path: ./.fanout/plugins, $FANOUT_PLUGIN_PATH,
// ~/.fanout/plugins, then $PATH.
func newLauncher(logger hclog.Logger) *core.PluginLauncher {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	b := map[string][]string{}
	for name := range builtins {
		b[name] = []string{self, "internal-plugin", name}
	}
	path := []string{filepath.Join(".fanout", "plugins")}
	path = append(path, filepath.SplitList(os.Getenv("FANOUT_PLUGIN_PATH"))...)
	if home, err := os.UserHomeDir(); err == nil {
		path = append(path, filepath.Join(home, ".fanout", "plugins"))
	}
	return &core.PluginLauncher{Builtin: b, SearchPath: path, Logger: logger}
}

package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/internal/pluginhost"
	"github.com/fanout/fanout/internal/userhome"
	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/plugins/ssh"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
)

// builtins are the transports served by this binary itself, which
// re-executes as `fanout internal-plugin NAME` so that every transport,
// built in or not, runs out of process through the same protocol.
var builtins = map[string]builtin{
	"local": {newTransport: func(l hclog.Logger) sdk.Transport { return local.New(l) }},
	"ssh":   {newTransport: func(l hclog.Logger) sdk.Transport { return ssh.New(l) }, limitProcs: true},
}

// builtin is one of builtins.
type builtin struct {
	newTransport func(hclog.Logger) sdk.Transport
	// limitProcs says whether the transport's process runs on fewer CPUs
	// (see limitProcs). Not the local transport: its work is starting
	// processes, and a fork holds its P, so with one P the commands
	// started one at a time (10,000 pairs of `true`, 20 at once: 10.5 s
	// instead of 9.0).
	limitProcs bool
}

func runInternalPlugin(args []string, s *streams) int {
	if len(args) != 1 {
		printf(s.Err, "usage: fanout internal-plugin NAME (fanout runs this itself)\n")
		return exitUsage
	}
	b, ok := builtins[args[0]]
	if !ok {
		printf(s.Err, "fanout internal-plugin: no built-in transport %q\n", args[0])
		return exitUsage
	}
	if b.limitProcs {
		limitProcs()
	}
	sdk.Serve(b.newTransport, &sdk.ServeOpts{Name: args[0]})
	return exitOK
}

// newLauncher returns the launcher for this binary's built-ins and the
// plugin search path: ./.fanout/plugins, $FANOUT_PLUGIN_PATH,
// ~/.fanout/plugins, then $PATH. Its plugins' sockets go in a private
// directory under $TMPDIR, which its owner removes with Close once the
// plugins are stopped.
func newLauncher(logger hclog.Logger) *pluginhost.Launcher {
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
	if home, err := userhome.Dir(); err == nil {
		path = append(path, filepath.Join(home, ".fanout", "plugins"))
	}
	// run refused a malformed value before any command ran.
	reattach, _ := client.ParseReattach(os.Getenv(client.ReattachEnv))
	return &pluginhost.Launcher{Builtin: b, SearchPath: path, SystemPath: filepath.SplitList(os.Getenv("PATH")), Logger: logger,
		TempDir: os.TempDir(), Reattach: reattach}
}

// coreLauncher is how the core starts transports: through a
// pluginhost.Launcher, whose plugin process it stops once it has closed
// the transport. A plugin that dies under a call is reported to the core
// as a crash once what it left running is gone (crashAware).
type coreLauncher struct{ l *pluginhost.Launcher }

var (
	_ core.Launcher        = coreLauncher{}
	_ core.RequestLauncher = coreLauncher{}
)

// Launch starts the named transport with no pinned checksum (the lock file
// still applies).
func (c coreLauncher) Launch(ctx context.Context, name string) (sdk.Transport, func(), error) {
	return c.LaunchWith(ctx, core.LaunchRequest{Name: name})
}

// LaunchWith starts the transport req names, verified as req asks.
func (c coreLauncher) LaunchWith(ctx context.Context, req core.LaunchRequest) (sdk.Transport, func(), error) {
	p, err := c.l.Start(ctx, pluginhost.Request{Name: req.Name, SHA256: req.SHA256})
	if err != nil {
		return nil, nil, err
	}
	return &crashAware{Transport: p.Client.Transport(), plugin: p}, p.Client.Kill, nil
}

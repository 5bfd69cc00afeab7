package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/internal/pluginhost"
	"github.com/fanout/fanout/sdk"
)

const pluginsHelp = `Usage: fanout plugins [options] [FILE.hcl|DIR]
       fanout plugins lock [options] FILE.hcl|DIR

  Without a configuration, list the built-in transports and every
  third-party plugin found: fanout-transport-NAME in ./.fanout/plugins,
  $FANOUT_PLUGIN_PATH (colon-separated), ~/.fanout/plugins, then $PATH. With
  one, list the transports it uses and whether the lock file records them.
  Each plugin is started to show its path, protocol and plugin versions,
  and the attributes its transport and host blocks accept.

  "lock" writes .fanout.lock.hcl next to the configuration with the SHA-256
  of each third-party plugin it uses; later runs refuse a plugin binary
  that does not match. Run it again after upgrading a plugin. A transport
  block's own sha256 must match too: after rebuilding a plugin, "lock
  -update-pins" rewrites the sha256 of every transport block that has one
  to the binary found, then writes the lock file.

Options:
  -var NAME=VALUE   Set a variable (repeatable).
  -var-file FILE    Set variables from a file (repeatable).
  -update-pins      With lock: rewrite the sha256 of transport blocks that
                    pin one to the checksum of the binary found.
  -json             Print the list as JSON.
  -no-color         Disable colors.

Examples:
  fanout plugins                       what is installed
  fanout plugins deploy.hcl            what deploy.hcl uses
  fanout plugins lock deploy.hcl       pin what deploy.hcl uses
  fanout plugins lock -update-pins .   after rebuilding a pinned plugin
`

// pluginStartTimeout bounds how long `fanout plugins` waits for one plugin
// to start and describe itself: a listing must not hang on a bad binary.
const pluginStartTimeout = 30 * time.Second

// newConfigLauncher returns the launcher for the configuration at
// configPath: newLauncher's, checking third-party plugins against the lock
// file next to the configuration.
func newConfigLauncher(logger hclog.Logger, configPath string) *pluginhost.Launcher {
	l := newLauncher(logger)
	l.LockFile = lockFilePath(configPath)
	return l
}

// lockFilePath returns where the lock file of the configuration at p
// lives: in p if it is a directory, else beside it.
func lockFilePath(p string) string {
	return filepath.Join(configDir(p), pluginhost.LockFileName)
}

func runPlugins(args []string, s *streams) int {
	if len(args) > 0 && args[0] == "lock" {
		return runPluginsLock(args[1:], s)
	}
	a, err := arguments.ParsePlugins(args)
	if err == nil && a.UpdatePins {
		err = errors.New("-update-pins goes with lock: fanout plugins lock -update-pins FILE.hcl|DIR")
	}
	if code, ok := parseArgs(err, s, "plugins"); !ok {
		return code
	}
	logger := newLogger(s)
	var infos []*views.Plugin
	if a.Path == "" {
		launcher := newLauncher(logger)
		infos = installedPlugins(launcher)
		_ = launcher.Close()
	} else {
		l := newLoader(s, &a.Common)
		cfg, ok := l.load(&a.Common)
		if !ok {
			return exitUsage
		}
		launcher := newConfigLauncher(logger, a.Path)
		infos = configPlugins(launcher, cfg)
		_ = launcher.Close()
	}
	views.NewPlugins(a.ViewType, s.Out, views.Options{Color: s.Color && !a.NoColor}).List(a.Path, infos)
	for _, info := range infos {
		if info.Error != "" {
			return exitFailed
		}
	}
	return exitOK
}

// installedPlugins describes the built-ins and every plugin found.
func installedPlugins(l *pluginhost.Launcher) []*views.Plugin {
	var infos []*views.Plugin
	names := make([]string, 0, len(l.Builtin))
	for n := range l.Builtin {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		infos = append(infos, describePlugin(l, n, ""))
	}
	for _, f := range l.Discover() {
		if _, builtin := l.Builtin[f.Name]; builtin {
			continue // a built-in name is never looked up
		}
		info := describePlugin(l, f.Name, "")
		info.Shadowed = f.Shadowed
		infos = append(infos, info)
	}
	return infos
}

// configPlugins describes the transports cfg uses, checked as a run would
// check them (sha256 pins, lock file), and how the lock file records them.
func configPlugins(l *pluginhost.Launcher, cfg *config.Config) []*views.Plugin {
	lock, diags := pluginhost.ReadLockFile(l.LockFile)
	var infos []*views.Plugin
	for _, n := range usedTransports(cfg) {
		pin := ""
		if t := cfg.Transports[n]; t != nil {
			pin = t.SHA256
		}
		info := describePlugin(l, n, pin)
		if !info.Builtin {
			switch {
			case diags.HasErrors():
				info.Lock = "lock file unreadable: " + diags.Error()
			case lock == nil:
				info.Lock = "no lock file (fanout plugins lock writes " + l.LockFile + ")"
			case lock.Transports[n] == nil:
				info.Lock = "not recorded in " + l.LockFile
			case info.SHA256 != "" && lock.Transports[n].SHA256 != info.SHA256:
				info.Lock = fmt.Sprintf("MISMATCH: %s records %s", l.LockFile, lock.Transports[n].SHA256)
			default:
				info.Lock = "recorded in " + l.LockFile
			}
		}
		infos = append(infos, info)
	}
	return infos
}

// usedTransports returns the names of the transports cfg declares or its
// hosts use, sorted.
func usedTransports(cfg *config.Config) []string {
	var names []string
	for n := range cfg.Transports {
		names = append(names, n)
	}
	for _, h := range cfg.Hosts {
		if !slices.Contains(names, h.Transport) {
			names = append(names, h.Transport)
		}
	}
	sort.Strings(names)
	return names
}

// describePlugin starts the named transport's plugin, asks it to describe
// itself and stops it. Problems are recorded in the result's Error.
func describePlugin(l *pluginhost.Launcher, name, pin string) *views.Plugin {
	_, builtin := l.Builtin[name]
	info := &views.Plugin{Name: name, Builtin: builtin, TransportSchema: []views.PluginAttribute{}, HostSchema: []views.PluginAttribute{}}
	if !builtin {
		if path, err := l.Find(name); err == nil {
			info.Path = path
			info.SHA256, _ = pluginhost.SHA256File(path)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), pluginStartTimeout)
	defer cancel()
	p, err := l.Start(ctx, pluginhost.Request{Name: name, SHA256: pin})
	if err != nil {
		info.Error = core.CleanText(err.Error())
		return info
	}
	defer func() {
		_, _ = p.Client.Transport().Close(ctx, &sdk.CloseRequest{})
		p.Client.Kill()
	}()
	info.Path = p.Path
	info.ProtocolVersion = p.Client.ProtocolVersion()
	desc, err := p.Client.Transport().Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		info.Error = "describe: " + core.CleanText(err.Error())
		return info
	}
	info.Version = desc.Version
	info.Capabilities = capabilityNames(desc.Capabilities)
	info.TransportSchema = attributeInfos(desc.TransportSchema)
	info.HostSchema = attributeInfos(desc.HostSchema)
	return info
}

// capabilityNames lists what a plugin declares it can do, by the names
// plan-time refusals use.
func capabilityNames(c sdk.Capabilities) []string {
	var out []string
	for _, k := range []struct {
		on   bool
		name string
	}{
		{c.Exec, "exec"}, {c.CommandList, "command lists"}, {c.Stdin, "stdin"}, {c.Signal, "signal"},
		{c.Upload, "upload"}, {c.Download, "download"}, {c.ValidateHost, "validate host"}, {c.Release, "release"},
	} {
		if k.on {
			out = append(out, k.name)
		}
	}
	return out
}

func attributeInfos(s sdk.Schema) []views.PluginAttribute {
	out := []views.PluginAttribute{}
	for _, a := range s.Attributes {
		ty := "any"
		if a.Type != cty.NilType && a.Type != cty.DynamicPseudoType {
			ty = a.Type.FriendlyName()
		}
		out = append(out, views.PluginAttribute{Name: a.Name, Type: ty, Required: a.Required, Sensitive: a.Sensitive, Description: a.Description})
	}
	return out
}

// runPluginsLock is `fanout plugins lock`.
func runPluginsLock(args []string, s *streams) int {
	a, err := arguments.ParsePlugins(args)
	if err == nil && a.Path == "" {
		err = errors.New("lock needs a configuration: fanout plugins lock FILE.hcl|DIR")
	}
	if code, ok := parseArgs(err, s, "plugins"); !ok {
		return code
	}
	l := newLoader(s, &a.Common)
	cfg, ok := l.load(&a.Common)
	if !ok {
		return exitUsage
	}
	// No lock file for the launcher: it is the file being rewritten.
	launcher := newLauncher(newLogger(s))
	defer func() { _ = launcher.Close() }() // a socket directory left behind costs nothing
	c := &pluginsLock{
		s: s, a: a, cfg: cfg, launcher: launcher,
		lf: &pluginhost.LockFile{Path: lockFilePath(a.Path), Transports: map[string]*pluginhost.LockedTransport{}},
	}
	old, _ := pluginhost.ReadLockFile(c.lf.Path)

	failed := false
	for _, name := range usedTransports(cfg) {
		if _, builtin := launcher.Builtin[name]; builtin {
			continue
		}
		if !c.lock(name) {
			failed = true
		}
	}
	if failed {
		printf(s.Err, "fanout plugins lock: %s was not written.\n", c.lf.Path)
		return exitFailed
	}
	return c.write(old)
}

// pluginsLock is the state of the steps of `fanout plugins lock`: the lock
// file being made, and the pins of the configuration to update.
type pluginsLock struct {
	s        *streams
	a        *arguments.Plugins
	cfg      *config.Config
	launcher *pluginhost.Launcher
	lf       *pluginhost.LockFile
	pins     []pinUpdate
}

// lock starts the plugin of transport name and adds it to the lock file,
// or to the pins to update with -update-pins. It reports whether it could.
func (c *pluginsLock) lock(name string) bool {
	s, a := c.s, c.a
	pin := ""
	if t := c.cfg.Transports[name]; t != nil {
		pin = t.SHA256
	}
	if pin != "" {
		// The binary's sum, to update the pin to or to say why it
		// fails.
		if sum, ok := binarySum(c.launcher, name); ok && !strings.EqualFold(sum, pin) {
			if !a.UpdatePins {
				printf(s.Err, "fanout plugins lock: transport %q pins sha256 %s, but the binary found is %s: "+
					"if it is the one you built, run \"fanout plugins lock -update-pins %s\"\n", name, pin, sum, a.Path)
			} else {
				c.pins = append(c.pins, pinUpdate{transport: c.cfg.Transports[name], sum: sum})
				pin = sum
			}
		}
	}
	// Starting the plugin checks it against its block's pin and
	// proves it is a plugin of this protocol before it is trusted.
	info := describePlugin(c.launcher, name, pin)
	if info.Error != "" {
		printf(s.Err, "fanout plugins lock: transport %q: %s\n", name, info.Error)
		return false
	}
	c.lf.Transports[name] = &pluginhost.LockedTransport{Name: name, Version: info.Version, SHA256: info.SHA256}
	return true
}

// write updates the pins, then writes the lock file, and shows what
// changed since old, the lock file before, if any.
func (c *pluginsLock) write(old *pluginhost.LockFile) int {
	s, a, lf := c.s, c.a, c.lf
	// The configuration first: a lock file that disagrees with its pins
	// would refuse every run.
	if err := updatePins(c.pins); err != nil {
		printf(s.Err, "fanout plugins lock: %s; %s was not written.\n", err, lf.Path)
		return exitFailed
	}
	for _, p := range c.pins {
		printf(s.Out, "Updated the sha256 of transport %q in %s: %s (was %s).\n",
			p.transport.Name, p.transport.DeclRange.Filename, p.sum, p.transport.SHA256)
	}
	if len(lf.Transports) == 0 {
		views.PluginsLocked(s.Out, a.Path, "", nil)
		return exitOK
	}
	if err := lf.Write(); err != nil {
		printf(s.Err, "fanout plugins lock: %s\n", err)
		return exitFailed
	}
	var locked []views.LockedPlugin
	for n, t := range lf.Transports {
		lp := views.LockedPlugin{Name: n, Version: t.Version, SHA256: t.SHA256}
		if old != nil && old.Transports[n] != nil && old.Transports[n].SHA256 != t.SHA256 {
			lp.Was = old.Transports[n].SHA256
		}
		locked = append(locked, lp)
	}
	views.PluginsLocked(s.Out, a.Path, lf.Path, locked)
	return exitOK
}

package pluginhost

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/sdk/client"
)

// Launcher starts transports as plugin processes through go-plugin:
// built-ins by re-executing the fanout binary, others as binaries named
// fanout-transport-NAME found by Find. Before starting a third-party binary
// it checks it against the sha256 its transport block pins and against the
// lock file, and refuses one that does not match.
//
// Its fields must not change once it is in use; its methods are safe for
// concurrent use. Its owner calls Close once every plugin it started has
// been killed.
type Launcher struct {
	// Builtin maps a built-in transport's name to the command line that
	// serves it (the fanout binary and its hidden plugin command).
	Builtin map[string][]string
	// SearchPath lists the directories searched, in order, for
	// fanout-transport-NAME before those of SystemPath. The CLI passes
	// ./.fanout/plugins, the entries of $FANOUT_PLUGIN_PATH, then
	// ~/.fanout/plugins.
	SearchPath []string
	// SystemPath lists the directories searched last: the CLI passes those
	// of $PATH. This package reads no environment.
	SystemPath []string
	// LockFile is the path of the configuration's lock file (LockFileName
	// next to it); empty for none. When the file exists, every
	// third-party plugin must be recorded in it and match its checksum; a
	// missing file checks nothing.
	LockFile string
	// StartTimeout bounds how long a plugin has to complete the go-plugin
	// handshake; zero means client.Config's default (one minute).
	StartTimeout time.Duration
	// Logger receives each plugin's logs, under the transport's name.
	Logger hclog.Logger
	// Reattach names transports whose plugin runs already, started by
	// hand in debug mode (under a debugger), by transport name: Start
	// attaches to it instead of starting a binary, and checks nothing
	// (the CLI reads it from $FANOUT_REATTACH_PLUGINS).
	Reattach map[string]*client.ReattachConfig

	// TempDir is where the launcher makes the directory its plugins put
	// their sockets in: TempDir/fanout-UID/PID-RANDOM, which only the
	// operator can enter, made on the first Start and removed by Close.
	// Directories there of fanout processes that died are removed too.
	// Empty means os.TempDir(); the CLI passes it, since this package
	// reads no environment.
	TempDir string

	lockOnce sync.Once
	lock     *LockFile // set by lockOnce
	lockErr  error     // set by lockOnce

	sockMu  sync.Mutex
	sockDir string // guarded by sockMu; "" until the first Start
}

// PluginPrefix is the file name prefix of third-party transport plugins.
const PluginPrefix = "fanout-transport-"

// Request names the transport to start and what the configuration
// requires of its plugin binary.
type Request struct {
	// Name is the transport's name.
	Name string
	// SHA256 pins the plugin binary (the transport block's sha256): 64
	// hexadecimal digits, or empty when not pinned.
	SHA256 string
}

// Plugin is a started plugin process.
type Plugin struct {
	// Client is the process; its owner calls Transport().Close, then Kill.
	Client *client.Client
	// Name is the transport's name.
	Name string
	// Path is the binary started (for a built-in, the fanout binary).
	Path string
	// Builtin is true for a transport served by the fanout binary itself.
	Builtin bool
	// SHA256 is the checksum the binary was verified against; empty when
	// nothing pinned it.
	SHA256 string

	pid    int // the process's, which leads its session (isolate)
	logger hclog.Logger
}

// Start starts the plugin process of the transport req names and completes
// the handshake: the one way fanout starts a plugin, built in or not. The
// plugin's socket goes in the launcher's private directory (TempDir), and
// its channel is authenticated with mutual TLS (sdk/client). It
// blocks for at most StartTimeout (ctx is not consulted: go-plugin cannot
// abandon a start half-way). A third-party binary is verified first:
// against req.SHA256 when set, and against the lock file when there is
// one; the errors are *PluginNotFoundError, *ChecksumMismatchError,
// *LockError, or client.New's, wrapped (a plugin that cannot do mutual
// TLS is refused). Each explains itself to the
// operator through Summary and Detail (core.LaunchError). On error nothing
// is left running.
func (l *Launcher) Start(_ context.Context, req Request) (*Plugin, error) {
	p := &Plugin{Name: req.Name}
	if rc, ok := l.Reattach[req.Name]; ok {
		return l.attach(p, rc)
	}
	var argv []string
	if b, ok := l.Builtin[req.Name]; ok {
		if req.SHA256 != "" {
			// The configuration refuses sha256 on a built-in; a caller
			// that asks anyway must not believe it was checked.
			return nil, fmt.Errorf("transport %q is built in: there is no plugin binary to check against sha256 %s", req.Name, req.SHA256)
		}
		argv, p.Path, p.Builtin = b, b[0], true
	} else {
		path, err := l.Find(req.Name)
		if err != nil {
			return nil, err
		}
		if p.SHA256, err = l.verify(req, path); err != nil {
			return nil, err
		}
		argv, p.Path = []string{path}, path
	}
	logger := l.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	sockets, err := l.socketDir()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	isolate(cmd)
	c, err := client.New(client.Config{Cmd: cmd, Logger: logger.Named(req.Name), StartTimeout: l.StartTimeout, SocketDir: sockets})
	if err != nil {
		return nil, explain(req.Name, err)
	}
	p.Client, p.pid, p.logger = c, cmd.Process.Pid, logger.Named(req.Name)
	return p, nil
}

// attach makes p the plugin process rc describes, which the operator
// started in debug mode: it is neither found nor verified, and its
// commands are the debugger's to end should it die.
func (l *Launcher) attach(p *Plugin, rc *client.ReattachConfig) (*Plugin, error) {
	logger := l.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	logger = logger.Named(p.Name)
	c, err := client.Attach(rc, logger)
	if err != nil {
		return nil, err
	}
	logger.Warn("attached to a plugin in debug mode, not started or verified by fanout", "pid", rc.Pid, "address", rc.Addr.String)
	p.Client, p.Path, p.logger = c, fmt.Sprintf("(debug, pid %d)", rc.Pid), logger
	return p, nil
}

// lockFile reads the lock file once.
func (l *Launcher) lockFile() (*LockFile, error) {
	l.lockOnce.Do(func() {
		if l.LockFile == "" {
			return
		}
		lf, diags := ReadLockFile(l.LockFile)
		if diags.HasErrors() {
			l.lockErr = fmt.Errorf("read lock file %s: %s", l.LockFile, diags.Error())
			return
		}
		l.lock = lf
	})
	return l.lock, l.lockErr
}

// Find returns the path of the binary that serves the named third-party
// transport: the first executable file named fanout-transport-NAME in
// SearchPath, then in SystemPath. When there is none the error is a
// *PluginNotFoundError naming every directory searched.
func (l *Launcher) Find(name string) (string, error) {
	file := PluginPrefix + name
	search, system := l.dirs()
	var notExecutable []string
	for _, dir := range append(search[:len(search):len(search)], system...) {
		p := filepath.Join(dir, file)
		if isExecutable(p) {
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			return p, nil
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			notExecutable = append(notExecutable, p)
		}
	}
	return "", &PluginNotFoundError{Name: name, SearchPath: search, SystemPath: system, NotExecutable: notExecutable}
}

// FoundPlugin is a third-party plugin binary found on the search path.
type FoundPlugin struct {
	// Name is the transport's name: the file name without PluginPrefix.
	Name string
	// Path is the binary a transport block of that name would start.
	Path string
	// Shadowed lists binaries of the same name later in the search path,
	// which Path hides.
	Shadowed []string
}

// Discover lists every third-party plugin binary on the search path, by
// name, the one Find would start first.
func (l *Launcher) Discover() []FoundPlugin {
	search, system := l.dirs()
	byName := map[string]*FoundPlugin{}
	for _, dir := range append(search[:len(search):len(search)], system...) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // a missing directory holds no plugin
		}
		for _, e := range entries {
			name, ok := strings.CutPrefix(e.Name(), PluginPrefix)
			p := filepath.Join(dir, e.Name())
			if !ok || name == "" || !isExecutable(p) {
				continue
			}
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			if f, ok := byName[name]; ok {
				if f.Path != p {
					f.Shadowed = append(f.Shadowed, p)
				}
				continue
			}
			byName[name] = &FoundPlugin{Name: name, Path: p}
		}
	}
	out := make([]FoundPlugin, 0, len(byName))
	for _, f := range byName {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// dirs returns the directories to search, empty entries dropped (in $PATH
// an empty entry means the working directory, which plugins are never
// taken from).
func (l *Launcher) dirs() (search, system []string) {
	sys := l.SystemPath
	// A directory named twice is searched once, where it first appears.
	seen := map[string]bool{}
	keep := func(in []string) []string {
		var out []string
		for _, d := range in {
			if d != "" && !seen[filepath.Clean(d)] {
				seen[filepath.Clean(d)] = true
				out = append(out, d)
			}
		}
		return out
	}
	search = keep(l.SearchPath)
	return search, keep(sys)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

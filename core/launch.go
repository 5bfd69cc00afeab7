package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/go-hclog"
)

// PluginLauncher starts transports as plugin processes through go-plugin:
// built-ins by re-executing the fanout binary, others as binaries named
// fanout-transport-NAME found by Find. Before starting a third-party binary
// it checks it against the sha256 its transport block pins and against the
// lock file, and refuses one that does not match.
//
// Its fields must not change once it is in use; its methods are safe for
// concurrent use.
type PluginLauncher struct {
	// Builtin maps a built-in transport's name to the command line that
	// serves it (the fanout binary and its hidden plugin command).
	Builtin map[string][]string
	// SearchPath lists the directories searched, in order, for
	// fanout-transport-NAME before those of SystemPath. The CLI passes
	// ./.fanout/plugins, the entries of $FANOUT_PLUGIN_PATH, then
	// ~/.fanout/plugins.
	SearchPath []string
	// SystemPath lists the directories searched last; nil means those of
	// $PATH.
	SystemPath []string
	// LockFile is the path of the configuration's lock file (LockFileName
	// next to it); empty for none. When the file exists, every
	// third-party plugin must be recorded in it and match its checksum; a
	// missing file checks nothing.
	LockFile string
	// StartTimeout bounds how long a plugin has to complete the go-plugin
	// handshake; zero means sdk.ClientConfig's default (one minute).
	StartTimeout time.Duration
	// Logger receives each plugin's logs, under the transport's name.
	Logger hclog.Logger

	lockOnce sync.Once
	lock     *LockFile // set by lockOnce
	lockErr  error     // set by lockOnce
}

var (
	_ Launcher        = (*PluginLauncher)(nil)
	_ RequestLauncher = (*PluginLauncher)(nil)
)

// PluginPrefix is the file name prefix of third-party transport plugins.
const PluginPrefix = "fanout-transport-"

// Plugin is a started plugin process, for callers that need more of it
// than its Transport (`fanout plugins` shows the negotiated protocol).
type Plugin struct {
	// Client is the process; its owner calls Transport().Close, then Kill.
	Client *sdk.Client
	// Name is the transport's name.
	Name string
	// Path is the binary started (for a built-in, the fanout binary).
	Path string
	// Builtin is true for a transport served by the fanout binary itself.
	Builtin bool
	// SHA256 is the checksum the binary was verified against; empty when
	// nothing pinned it.
	SHA256 string
}

// Launch starts the named transport's plugin process with no pinned
// checksum (the lock file still applies).
func (l *PluginLauncher) Launch(ctx context.Context, name string) (sdk.Transport, func(), error) {
	return l.LaunchWith(ctx, LaunchRequest{Name: name})
}

// LaunchWith starts the plugin process req asks for; see Start.
func (l *PluginLauncher) LaunchWith(ctx context.Context, req LaunchRequest) (sdk.Transport, func(), error) {
	p, err := l.Start(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	return p.Client.Transport(), p.Client.Kill, nil
}

// Start starts the plugin process of the named transport and completes the
// handshake; it blocks for at most StartTimeout (ctx is not consulted:
// go-plugin cannot abandon a start half-way). A third-party binary is
// verified first: against req.SHA256 when set, and against the lock file
// when there is one; the errors are *PluginNotFoundError,
// *ChecksumMismatchError, *LockError, or sdk's start errors, wrapped. On
// error nothing is left running.
func (l *PluginLauncher) Start(_ context.Context, req LaunchRequest) (*Plugin, error) {
	logger := l.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if argv, ok := l.Builtin[req.Name]; ok {
		if req.SHA256 != "" {
			// The configuration refuses sha256 on a built-in; a caller
			// that asks anyway must not believe it was checked.
			return nil, fmt.Errorf("transport %q is built in: there is no plugin binary to check against sha256 %s", req.Name, req.SHA256)
		}
		client, err := l.newClient(exec.Command(argv[0], argv[1:]...), req.Name, "", logger)
		if err != nil {
			return nil, err
		}
		return &Plugin{Client: client, Name: req.Name, Path: argv[0], Builtin: true}, nil
	}

	path, err := l.Find(req.Name)
	if err != nil {
		return nil, err
	}
	want, err := l.expectedSum(req, path)
	if err != nil {
		return nil, err
	}
	client, err := l.newClient(exec.Command(path), req.Name, want.sum, logger)
	var ce *sdk.ChecksumError
	if errors.As(err, &ce) {
		return nil, &ChecksumMismatchError{Name: req.Name, Path: path, Want: ce.Want, Got: ce.Got, LockFile: want.lockFile}
	}
	if err != nil {
		return nil, err
	}
	return &Plugin{Client: client, Name: req.Name, Path: path, SHA256: want.sum}, nil
}

func (l *PluginLauncher) newClient(cmd *exec.Cmd, name, sum string, logger hclog.Logger) (*sdk.Client, error) {
	isolate(cmd)
	return sdk.NewClient(sdk.ClientConfig{
		Cmd:          cmd,
		Logger:       logger.Named(name),
		SHA256:       sum,
		StartTimeout: l.StartTimeout,
	})
}

// expected is the checksum a third-party binary must have, and where it
// comes from: the lock file, or (lockFile empty) the transport block.
type expected struct {
	sum      string
	lockFile string
}

// expectedSum works out what the binary at path must hash to. The block's
// pin and the lock file must agree when both exist: a lock file that
// records a transport the configuration pins differently is stale.
func (l *PluginLauncher) expectedSum(req LaunchRequest, path string) (expected, error) {
	want := expected{sum: strings.ToLower(req.SHA256)}
	lock, err := l.lockFile()
	if err != nil || lock == nil {
		return want, err
	}
	locked, ok := lock.Transports[req.Name]
	switch {
	case !ok:
		return want, &LockError{Name: req.Name, Path: path, LockFile: lock.Path}
	case want.sum != "" && locked.SHA256 != want.sum:
		return want, &LockError{Name: req.Name, Path: path, LockFile: lock.Path, Pinned: want.sum, Locked: locked.SHA256}
	case want.sum == "":
		want = expected{sum: locked.SHA256, lockFile: lock.Path}
	}
	return want, nil
}

// lockFile reads the lock file once.
func (l *PluginLauncher) lockFile() (*LockFile, error) {
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
func (l *PluginLauncher) Find(name string) (string, error) {
	file := PluginPrefix + name
	search, system := l.dirs()
	for _, dir := range append(search[:len(search):len(search)], system...) {
		p := filepath.Join(dir, file)
		if isExecutable(p) {
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
			return p, nil
		}
	}
	return "", &PluginNotFoundError{Name: name, SearchPath: search, SystemPath: system}
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
func (l *PluginLauncher) Discover() []FoundPlugin {
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
func (l *PluginLauncher) dirs() (search, system []string) {
	sys := l.SystemPath
	if sys == nil {
		sys = filepath.SplitList(os.Getenv("PATH"))
	}
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

// PluginNotFoundError is the error of a third-party transport whose plugin
// binary is in none of the directories searched.
type PluginNotFoundError struct {
	// Name is the transport's name; the binary is PluginPrefix+Name.
	Name string
	// SearchPath and SystemPath are the directories searched, in order.
	SearchPath, SystemPath []string
}

func (e *PluginNotFoundError) Error() string {
	places := append([]string{}, e.SearchPath...)
	if len(e.SystemPath) > 0 {
		places = append(places, "$PATH ("+strings.Join(e.SystemPath, ", ")+")")
	} else {
		places = append(places, "$PATH (empty)")
	}
	return fmt.Sprintf("no plugin binary %s%s in %s", PluginPrefix, e.Name, strings.Join(places, ", "))
}

// ChecksumMismatchError is the error of a third-party plugin binary whose
// SHA-256 is not the one the configuration expects; it was not started.
type ChecksumMismatchError struct {
	Name, Path string
	// Want is the expected checksum and Got the binary's, in lower-case
	// hexadecimal; Got is empty when the binary could not be read.
	Want, Got string
	// LockFile is the lock file Want comes from; empty when it comes from
	// the transport block's sha256.
	LockFile string
}

func (e *ChecksumMismatchError) Error() string {
	got := e.Got
	if got == "" {
		got = "unknown (the file could not be read)"
	}
	if e.LockFile != "" {
		return fmt.Sprintf("plugin binary %s does not match the lock file %s: the binary's sha256 is %s, the lock file records %s; "+
			"if the new binary is trusted, run \"fanout plugins lock\" to record it", e.Path, e.LockFile, got, e.Want)
	}
	return fmt.Sprintf("plugin binary %s does not match the sha256 of its transport block: the binary's sha256 is %s, the block's is %s",
		e.Path, got, e.Want)
}

// LockError is the error of a third-party transport that the lock file
// does not record, or records with another checksum than the one its
// transport block pins.
type LockError struct {
	Name, Path, LockFile string
	// Pinned is the transport block's sha256 and Locked the lock file's,
	// when both are set and differ; both empty when the lock file does
	// not record the transport.
	Pinned, Locked string
}

func (e *LockError) Error() string {
	if e.Pinned == "" {
		return fmt.Sprintf("the lock file %s does not record transport %q: run \"fanout plugins lock\" to record the checksum of %s",
			e.LockFile, e.Name, e.Path)
	}
	return fmt.Sprintf("the transport block pins sha256 %s, but the lock file %s records %s: "+
		"make them agree (\"fanout plugins lock\" records the binary's checksum once it matches the block)",
		e.Pinned, e.LockFile, e.Locked)
}

package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/go-hclog"
)

// PluginLauncher starts transports as plugin processes through go-plugin:
// built-ins by re-executing the fanout binary, others as binaries named
// fanout-transport-NAME found on SearchPath.
type PluginLauncher struct {
	// Builtin maps a built-in transport's name to the command line that
	// serves it (the fanout binary and its hidden plugin command).
	Builtin map[string][]string
	// SearchPath lists the directories searched, in order, for
	// fanout-transport-NAME.
	SearchPath []string
	// SHA256 pins plugin binaries by transport name; a mismatch refuses
	// to start the plugin.
	SHA256 map[string]string
	Logger hclog.Logger
}

var _ Launcher = (*PluginLauncher)(nil)

// PluginPrefix is the file name prefix of third-party transport plugins.
const PluginPrefix = "fanout-transport-"

// Launch starts the named transport's plugin process.
func (l *PluginLauncher) Launch(ctx context.Context, name string) (sdk.Transport, func(), error) {
	logger := l.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	var cmd *exec.Cmd
	if argv, ok := l.Builtin[name]; ok {
		cmd = exec.Command(argv[0], argv[1:]...)
	} else {
		path, err := l.find(name)
		if err != nil {
			return nil, nil, err
		}
		cmd = exec.Command(path)
	}
	client, err := sdk.NewClient(sdk.ClientConfig{
		Cmd:    cmd,
		Logger: logger.Named(name),
		SHA256: l.SHA256[name],
	})
	if err != nil {
		return nil, nil, err
	}
	return client.Transport(), client.Kill, nil
}

// find looks for fanout-transport-NAME on the search path.
func (l *PluginLauncher) find(name string) (string, error) {
	file := PluginPrefix + name
	var searched []string
	for _, dir := range l.SearchPath {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, file)
		searched = append(searched, dir)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(file); err == nil {
		return p, nil
	} else if !errors.Is(err, exec.ErrNotFound) {
		return "", err
	}
	searched = append(searched, "$PATH")
	return "", fmt.Errorf("no plugin binary %s in %s", file, strings.Join(searched, ", "))
}

package pluginhost

import (
	"fmt"
	"os"
)

// socketDir returns the directory the launcher's plugins put their
// sockets in, made on the first call after sweeping away those of fanout
// processes that died without removing theirs. Empty where plugins do not
// use unix sockets.
func (l *Launcher) socketDir() (string, error) {
	l.sockMu.Lock()
	defer l.sockMu.Unlock()
	if l.sockDir != "" {
		return l.sockDir, nil
	}
	base := l.TempDir
	if base == "" {
		base = os.TempDir()
	}
	dir, err := newRunDir(base)
	if err != nil {
		return "", fmt.Errorf("make a private directory for plugin sockets: %w", err)
	}
	l.sockDir = dir
	return dir, nil
}

// Close removes the directory of the plugins' sockets. Call it once every
// plugin the launcher started has been killed; a later Start makes a new
// directory. It is safe to call more than once, and on a launcher that
// started nothing.
func (l *Launcher) Close() error {
	l.sockMu.Lock()
	defer l.sockMu.Unlock()
	if l.sockDir == "" {
		return nil
	}
	err := os.RemoveAll(l.sockDir)
	l.sockDir = ""
	return err
}

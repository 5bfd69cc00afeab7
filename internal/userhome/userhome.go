// Package userhome finds the operator's home directory, where ~/.ssh and
// ~/.fanout are.
package userhome

import (
	"errors"
	"os"
	"os/user"
)

// Dir returns $HOME, or, when it is unset or empty (a systemd unit
// without User=, `env -i`, some cron daemons), the home directory of the
// user's passwd entry, which is where ssh always looks.
func Dir() (string, error) {
	if h := os.Getenv("HOME"); h != "" {
		return h, nil
	}
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	if u.HomeDir == "" {
		return "", errors.New("$HOME is not set and the user has no home directory")
	}
	return u.HomeDir, nil
}

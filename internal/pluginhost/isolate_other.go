//go:build !unix

package pluginhost

import "os/exec"

// isolate does nothing where process groups do not exist.
func isolate(*exec.Cmd) {}

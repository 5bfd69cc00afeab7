//go:build !linux

package local

import (
	"fmt"
	"os"
)

// superviseCommands is false: commands run directly under the plugin, and
// a plugin that crashes leaves them running. Fanout's host side cannot
// reap them either (it is a subreaper on Linux only).
const superviseCommands = false

// supervise is never started on this system; see superviseCommands.
func supervise([]string) int {
	fmt.Fprintln(os.Stderr, "fanout: the local transport's command supervisor runs on Linux only")
	return 2
}

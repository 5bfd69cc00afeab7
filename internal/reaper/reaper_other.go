//go:build !linux

package reaper

import (
	"context"
	"errors"
	"fmt"
)

// Enable would make this process a child subreaper; there is no such thing
// on this system.
func Enable() error {
	return fmt.Errorf("become a child subreaper: %w", errors.ErrUnsupported)
}

// Enabled is always false: there are no child subreapers on this system.
func Enabled() bool { return false }

// KillOrphans cannot find this process's orphans on this system.
func KillOrphans(context.Context, func(Process) bool) ([]int, error) {
	return nil, fmt.Errorf("kill orphaned processes: %w", errors.ErrUnsupported)
}

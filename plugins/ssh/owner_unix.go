//go:build unix

package ssh

import (
	"os"
	"syscall"
)

// fileOwner returns the user ID that owns the file fi describes, and
// whether the platform says.
func fileOwner(fi os.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

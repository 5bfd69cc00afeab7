package core

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// reserveSize is the space a journal sets aside beside itself when it is
// created or opened: enough for thousands of records. When the disk
// fills mid-run, the first write that finds no space removes it and is
// written again: the run then stops as after a failure, and its
// rollbacks and its end are recorded too. Without it they were not, and
// the journal showed a run unfinished whose rollbacks had run: `fanout
// rollback` would have run them a second time.
const reserveSize = 1 << 20

// setAside writes the reserve of the journal at path, best effort (a
// disk already too full for it leaves the journal as it was without
// one), and returns its name, or "" when there is none.
func setAside(path string) string {
	name := path + ".reserve"
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return ""
	}
	// Written, not truncated to its size: a sparse file frees nothing.
	zeros := make([]byte, 64<<10)
	for n := 0; n < reserveSize; n += len(zeros) {
		if _, err := f.Write(zeros); err != nil {
			_ = f.Close()
			_ = os.Remove(name)
			return ""
		}
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(name)
		return ""
	}
	return name
}

// useReserve answers a failed write: when it failed for want of space and
// the reserve is there, it removes the reserve and cuts the journal back
// to its last whole record, for the write to be made again, and returns
// the error that stops the run; otherwise nil. Called with j.mu held.
func (j *FileJournal) useReserve(err error) error {
	if j.reserve == "" || !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		return nil
	}
	if rerr := os.Remove(j.reserve); rerr != nil {
		return nil
	}
	j.reserve = ""
	if terr := j.f.Truncate(j.size); terr != nil {
		return nil
	}
	return fmt.Errorf("write the journal: %w; the run stops, and the journal records the rest in the space it had set aside", err)
}

// dropReserve removes the reserve, once the journal is closed. Called
// with j.mu held.
func (j *FileJournal) dropReserve() {
	if j.reserve != "" {
		_ = os.Remove(j.reserve)
		j.reserve = ""
	}
}

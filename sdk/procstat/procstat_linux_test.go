package procstat_test

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/fanout/fanout/sdk/procstat"
)

// TestReadSelf reads this test process, whose ids the system calls give.
func TestReadSelf(t *testing.T) {
	s, err := procstat.Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	sid, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	want := procstat.Stat{PID: os.Getpid(), Comm: s.Comm, State: s.State, PPID: os.Getppid(), PGID: syscall.Getpgrp(), SID: sid}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("Read(self) (-want +got):\n%s", diff)
	}
	if s.Ended() || !strings.HasPrefix("procstat.test", s.Comm) {
		t.Errorf("Read(self) = %+v: want a live procstat.test", s)
	}

	all, err := procstat.All()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(all, func(p procstat.Stat) bool { return p.PID == os.Getpid() && p.PPID == os.Getppid() }) {
		t.Errorf("All() (%d processes) lacks this one, %d", len(all), os.Getpid())
	}
	if _, err := procstat.Read(-1); err == nil {
		t.Error("Read(-1): no error")
	}
}

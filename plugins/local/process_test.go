package local

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// TestUnsupervised runs commands as a binary that does not call
// SupervisorMain does, and as every system but Linux does: directly under
// the transport's process. The other tests run them supervised.
func TestUnsupervised(t *testing.T) {
	if !supervisorReady.Load() {
		t.Fatal("TestMain did not call SupervisorMain")
	}
	supervisorReady.Store(false)
	t.Cleanup(func() { supervisorReady.Store(true) })

	tr := New(nil)
	t.Cleanup(func() { _, _ = tr.Close(context.Background(), &sdk.CloseRequest{}) })
	tests := []struct {
		command string
		want    sdk.ExecResponse
	}{
		{"exit 3", sdk.ExecResponse{ExitCode: 3}},
		{"ulimit -c 0; kill -SEGV $$", sdk.ExecResponse{ExitCode: -1, Signal: "SEGV"}},
	}
	for _, tt := range tests {
		var stdout sdktest.Output
		resp, err := tr.Exec(context.Background(), &sdk.ExecRequest{Command: "echo $PPID; " + tt.command}, sdk.ExecOutput{Stdout: &stdout})
		if err != nil {
			t.Fatalf("Exec %q: %v", tt.command, err)
		}
		if *resp != tt.want {
			t.Errorf("Exec %q = %+v, want %+v", tt.command, *resp, tt.want)
		}
		// The shell's parent is this process, not a supervisor.
		if ppid, _ := strconv.Atoi(strings.TrimSpace(stdout.String())); ppid != syscall.Getpid() {
			t.Errorf("Exec %q: the shell's parent is %d, want this process %d", tt.command, ppid, syscall.Getpid())
		}
	}
}

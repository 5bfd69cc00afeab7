package sdktest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
)

// PluginKillOptions describe the plugin PluginKill starts and the host it
// runs a command on.
type PluginKillOptions struct {
	// Config sets the transport block's values (see Configure).
	Config map[string]cty.Value
	// Host names the host the command runs on; HostConfig sets its
	// values (see Object).
	Host       string
	HostConfig map[string]cty.Value
	// Dir is a directory that the command, on Host, and the test both
	// see, and whose processes share the test's process ids: a
	// t.TempDir() for a transport that runs commands on this machine.
	// Required.
	Dir string
	// Wait bounds each wait; DefaultWait when zero.
	Wait time.Duration
}

// PluginKill checks that a plugin process killed with SIGKILL, as a crash
// kills it, takes the commands it runs with it: everything in their process
// groups, not only their shells. fanout rolls back what a crashed plugin
// was doing, and a rollback that runs while the command it undoes still
// runs is the worst outcome a rollout can have.
//
// cmd starts the built plugin binary, not yet started; PluginKill starts
// it as fanout does (package sdk/client), configures it, connects the
// host, and runs a command that records its shell's process id and that
// of a child it starts in the background in opts.Dir; then it kills the
// plugin, and fails t unless both processes are gone within opts.Wait.
//
// fanout, on Linux, also ends what a dead plugin left on this machine; this
// check does not count on it: a plugin passes only if it supervises its
// commands itself (the built-in local transport runs each under a
// supervisor that kills its process group when the plugin dies), which is
// the only way on other systems, and for commands that run elsewhere a
// plugin must end them itself when it loses its process. It runs on Linux
// only, where a process's state is read from /proc.
func PluginKill(t testing.TB, cmd *exec.Cmd, opts PluginKillOptions) {
	t.Helper()
	if !procReadable() {
		t.Skip("sdktest.PluginKill reads processes from /proc: Linux only")
	}
	if opts.Dir == "" {
		t.Fatal("sdktest.PluginKill: PluginKillOptions.Dir is required")
	}
	wait := opts.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	c, err := client.New(client.Config{Cmd: cmd})
	if err != nil {
		t.Fatalf("start the plugin: %v", err)
	}
	defer c.Kill()
	tr := c.Transport()
	desc := Configure(t, tr, opts.Config)
	host := sdk.Host{Name: opts.Host, Config: Object(t, desc.HostSchema, opts.HostConfig)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: host}); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	shellFile, childFile := filepath.Join(opts.Dir, "pluginkill.shell"), filepath.Join(opts.Dir, "pluginkill.child")
	// Each pid is written whole, then renamed into place.
	command := fmt.Sprintf("echo $$ > %[1]s.tmp && mv %[1]s.tmp %[1]s; sleep 600 & echo $! > %[2]s.tmp && mv %[2]s.tmp %[2]s; wait",
		shellFile, childFile)
	run := StartExec(ctx, tr, &sdk.ExecRequest{ID: "pluginkill", Host: host.Name, Command: command})
	var pids []int
	Eventually(t, wait, "the command to record its pids in "+opts.Dir, func() bool {
		pids = pids[:0]
		for _, f := range []string{shellFile, childFile} {
			b, err := os.ReadFile(f)
			if err != nil {
				return false
			}
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				return false
			}
			pids = append(pids, pid)
		}
		return true
	})
	defer func() {
		for _, pid := range pids {
			killProcess(pid) // whatever outlived the check
		}
	}()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill the plugin: %v", err)
	}
	if res := run.Wait(t, wait); res.Err == nil {
		t.Errorf("Exec returned %+v after its plugin was killed, want an error", res.Resp)
	}
	deadline := time.Now().Add(wait)
	for {
		var left []string
		for i, pid := range pids {
			if processRuns(pid) {
				left = append(left, fmt.Sprintf("%s %d", []string{"its shell", "the shell's background child"}[i], pid))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin was killed, and %s still run(s) %s later: "+
				"a plugin must make the commands it runs die with it, whole process groups (see docs/plugins.md, \"When a plugin fails\")",
				strings.Join(left, " and "), wait)
		}
		time.Sleep(pollInterval)
	}
}

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fanout/fanout/internal/sshtest"
)

// sshdClosed is what OpenSSH's sshd logs (LogLevel VERBOSE) when an
// authenticated connection ends; the fleet's readiness probes, which
// never log in, do not make it.
const sshdClosed = "Transferred: sent "

// A host whose task has a rollback keeps its connection to the end of
// the run, and a later failure's rollback runs on it: here the task
// itself stops the host's sshd from taking new logins (as a firewall rule
// or a stopped ssh service would), and the rollback still runs, with no
// second login. (Before, the host was let go of once its last task
// ended, and the rollback had to log in again, which failed.)
func TestSSHRollbackOnTheRunsConnection(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	h1, h2 := f.Hosts[0], f.Hosts[1]
	body := fmt.Sprintf(`
task "first" {
  on       = [%q]
  run      = "kill %d"
  rollback = "echo undone-on-$FANOUT_HOST"
}
task "second" {
  on  = [%q]
  run = "sleep 1; exit 4"
}`, h1.Name, h1.ListenerPID(), h2.Name)
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", body))
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "-json", "main.hcl")
	if r.code != exitFailed {
		t.Fatalf("exit %d, want %d (second fails, and first rolls back)\nstdout:\n%s\nstderr:\n%s", r.code, exitFailed, r.stdout, r.stderr)
	}
	var connects []runEvent
	rollback, undone := "", false
	for _, e := range runEvents(t, r.stdout) {
		switch {
		case e.Type == "host_connected" && e.Host == h1.Name:
			connects = append(connects, e)
		case e.Type == "task_finished" && e.Task == "first" && e.Phase == "rollback":
			rollback = e.Result.Status
		case e.Type == "output" && e.Host == h1.Name && strings.Contains(e.Line, "undone-on-"+h1.Name):
			undone = true
		}
	}
	if rollback != "ok" || !undone {
		t.Errorf("first's rollback on %s: status %q, output seen %v; want ok and its output\n%s", h1.Name, rollback, undone, r.stdout)
	}
	if len(connects) != 1 || !connects[0].Preflight {
		t.Errorf("%s's host_connected events %+v, want the preflight's alone", h1.Name, connects)
	}
	if n := h1.AcceptedPublickey(t); n != 1 {
		t.Errorf("%s accepted %d logins, want 1", h1.Name, n)
	}
}

// A run that succeeds releases every host as its last task there ends,
// one login per host: the connections close during the run, not at its
// end.
func TestSSHHostsReleasedAsTheyFinish(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	last := f.Hosts[2]
	var others []string
	for _, h := range f.Hosts[:2] {
		others = append(others, h.LogFile)
	}
	// The last task, on the last host, waits until both other hosts'
	// sshd saw their client go: 0 if they did, 4 if not within 20 s.
	body := fmt.Sprintf(`
task "all" {
  run = "true"
}
task "wait" {
  on  = [%q]
  run = "i=0; while [ $i -lt 200 ]; do [ $(cat %s | grep -c '%s') -ge 2 ] && exit 0; i=$((i+1)); sleep 0.1; done; exit 4"
}`, last.Name, strings.Join(others, " "), sshdClosed)
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", body))
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0: the other hosts were not released while the last task ran\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range f.Hosts {
		if n := h.AcceptedPublickey(t); n != 1 {
			t.Errorf("%s accepted %d logins, want 1", h.Name, n)
		}
	}
}

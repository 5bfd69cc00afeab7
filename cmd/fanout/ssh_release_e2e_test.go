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

// A host whose last task has ended is let go of (Release, protocol 1.3):
// its SSH connection closes while the run goes on elsewhere. When a later
// failure makes its rollback needed, fanout connects it again, with no
// preflight, and the rollback runs.
func TestSSHReleasedHostReconnectsForRollback(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 2})
	h1, h2 := f.Hosts[0], f.Hosts[1]
	// The second task runs on h2 until h1's sshd says its client went
	// away: exit 3 if it did (released while the run went on), 4 if not
	// within 20 s (kept to the end, as before protocol 1.3). Either fails
	// the run, whose cascade rolls the first task back on h1.
	body := fmt.Sprintf(`
task "first" {
  on       = [%q]
  run      = "true"
  rollback = "echo undone-on-$FANOUT_HOST"
}
task "second" {
  on  = [%q]
  run = "i=0; while [ $i -lt 200 ]; do grep -q '%s' %s && exit 3; i=$((i+1)); sleep 0.1; done; exit 4"
}`, h1.Name, h2.Name, sshdClosed, h1.LogFile)
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", body))
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "-json", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (second fails)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	var connects []runEvent
	secondExit, rollback, undone := -1, "", false
	for _, e := range runEvents(t, r.stdout) {
		switch {
		case e.Type == "host_connected" && e.Host == h1.Name:
			connects = append(connects, e)
		case e.Type == "task_finished" && e.Task == "second" && e.Phase == "run":
			secondExit = e.Result.ExitCode
		case e.Type == "task_finished" && e.Task == "first" && e.Phase == "rollback":
			rollback = e.Result.Status
		case e.Type == "output" && e.Host == h1.Name && strings.Contains(e.Line, "undone-on-"+h1.Name):
			undone = true
		}
	}
	if secondExit != 3 {
		t.Fatalf("second exited %d, want 3: h1's sshd did not see its client go while the run went on (4: not within 20 s)\n%s", secondExit, r.stdout)
	}
	if rollback != "ok" || !undone {
		t.Errorf("first's rollback on %s: status %q, output seen %v; want ok and its output\n%s", h1.Name, rollback, undone, r.stdout)
	}
	if len(connects) != 2 || !connects[0].Preflight || connects[1].Preflight || connects[1].Error != "" {
		t.Errorf("%s's host_connected events %+v, want the preflight's, then one for the rollback", h1.Name, connects)
	}
	// Two logins on h1, the second after the first connection closed: one
	// connection at a time, never two.
	if n := h1.AcceptedPublickey(t); n != 2 {
		t.Errorf("%s accepted %d logins, want 2 (preflight, then the rollback's)", h1.Name, n)
	}
	log := h1.Log(t)
	if i, j := strings.Index(log, sshdClosed), strings.LastIndex(log, "Accepted publickey for "); i < 0 || j < i {
		t.Errorf("%s's sshd log does not show the first connection closed before the second login:\n%s", h1.Name, log)
	}
	// h2 failed: the run stopped with it, so it kept its connection (one
	// login) for a rollback.
	if n := h2.AcceptedPublickey(t); n != 1 {
		t.Errorf("%s accepted %d logins, want 1", h2.Name, n)
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

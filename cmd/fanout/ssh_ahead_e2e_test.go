package main

import (
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
)

// Without preflight, the hosts of a rolling task connect while the hosts
// before them run: the handshakes of the second wave do not wait for the
// first wave to finish.
func TestSSHConnectAheadWithoutPreflight(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 4})
	body := `
fanout { preflight = false }
task "nap" {
  on        = ["web"]
  run       = "sleep 1"
  max_hosts = 2
}`
	dir, _ := workdir(t, sshConfig(f, f.Hosts, "", body))
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "-json", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	events := runEvents(t, r.stdout)
	if len(events) == 0 || events[len(events)-1].Type != "run_finished" || events[len(events)-1].Status != "succeeded" {
		t.Fatalf("the stream does not end in a succeeded run_finished:\n%s", r.stdout)
	}

	first := map[string]bool{f.Hosts[0].Name: true, f.Hosts[1].Name: true}
	// Positions in the stream (the order the run produced them) and
	// timestamps, by host.
	connected, finishedAt := map[string]int{}, map[string]int{}
	connectedAt := map[string]time.Time{}
	var started []string    // hosts in task_started order
	var firstDone time.Time // when the first wave's first unit finished
	for i, e := range events {
		switch e.Type {
		case "host_connected":
			if _, dup := connected[e.Host]; dup {
				t.Errorf("%s: host_connected twice", e.Host)
			}
			connected[e.Host], connectedAt[e.Host] = i, e.Timestamp
			if e.Preflight || e.Error != "" {
				t.Errorf("%s: host_connected preflight=%v error=%q, want a successful connect outside preflight", e.Host, e.Preflight, e.Error)
			}
		case "task_started":
			started = append(started, e.Host)
		case "task_finished":
			finishedAt[e.Host] = i
			if e.Phase != "run" || e.Result.Status != "ok" {
				t.Errorf("%s: %s phase %s, want run ok", e.Host, e.Result.Status, e.Phase)
			}
			if first[e.Host] && firstDone.IsZero() {
				firstDone = e.Timestamp
			}
		}
	}
	if len(finishedAt) != 4 || len(connected) != 4 {
		t.Fatalf("%d units finished and %d hosts connected, want 4 and 4:\n%s", len(finishedAt), len(connected), r.stdout)
	}
	// max_hosts = 2: the first two units to start are the first wave.
	if len(started) < 2 || !first[started[0]] || !first[started[1]] {
		t.Fatalf("first units started on %v, want %s and %s", started, f.Hosts[0].Name, f.Hosts[1].Name)
	}
	firstIdx := min(finishedAt[f.Hosts[0].Name], finishedAt[f.Hosts[1].Name])
	for _, h := range f.Hosts[2:] {
		if connected[h.Name] > firstIdx || !connectedAt[h.Name].Before(firstDone) {
			t.Errorf("%s connected at %v, after the first unit of the first wave finished (%v): not ahead",
				h.Name, connectedAt[h.Name].Format(time.StampMicro), firstDone.Format(time.StampMicro))
		}
	}
}

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestSSHRollout runs the three rollouts of issue 14's proof on a real
// sshd fleet of 10 hosts: a failing canary stops everything; one host's
// check never passing within max_failures = 1 is rolled back and dropped
// while the others finish (exit 1, partial); two failing hosts in one wave
// roll back the whole run, no host twice. Wave boundaries come from the
// records the commands wrote on the hosts.
func TestSSHRollout(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 10})
	var names []string
	for _, h := range f.Hosts {
		names = append(names, h.Name)
	}
	waves := func(sizes ...int) [][]string {
		var out [][]string
		rest := names
		for i := 0; len(rest) > 0; i++ {
			n := min(sizes[min(i, len(sizes)-1)], len(rest))
			out = append(out, rest[:n])
			rest = rest[n:]
		}
		return out
	}
	// failing lists the hosts whose check never passes.
	task := func(batch string, failing ...string) string {
		cond := "true"
		for _, h := range failing {
			cond += fmt.Sprintf(" && [ $FANOUT_HOST != %s ]", h)
		}
		return fmt.Sprintf(`
task "deploy" {
  on           = ["web"]
  batch        = %s
  max_failures = 1
  run          = ["REC start", "REC end"]
  rollback     = "REC start"
  check {
    run      = "REC check; echo health of $FANOUT_HOST; %s"
    interval = "200ms"
    timeout  = "3s"
  }
}
`, batch, cond)
	}
	apply := func(t *testing.T, body string) (result, []record) {
		dir, rec := workdir(t, sshConfig(f, f.Hosts, "", body))
		r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
		return r, rec.read(t)
	}
	ranOn := func(recs []record) map[string]bool {
		out := map[string]bool{}
		for _, x := range recs {
			if x.phase == "run" {
				out[x.host] = true
			}
		}
		return out
	}

	t.Run("a failing canary stops everything", func(t *testing.T) {
		r, recs := apply(t, task("[1, 3]", names[0]))
		if r.code != 1 || strings.Contains(r.stdout, "partial") {
			t.Fatalf("exit %d, want 1 and no partial run\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if ran := ranOn(recs); len(ran) != 1 || !ran[names[0]] {
			t.Errorf("ran on %v; only the canary %s should have", ran, names[0])
		}
		if got := rollbackCounts(recs); len(got) != 1 || got["deploy/"+names[0]] != 1 {
			t.Errorf("rollbacks %v; want the canary once", got)
		}
	})

	t.Run("one host failing within the budget is dropped", func(t *testing.T) {
		bad := names[4] // in the second wave
		r, recs := apply(t, task("3", bad))
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		wantInOutput(t, r.stdout, r.stdout, []string{"partial: 1 of 10 hosts dropped, rolled back", "Dropping host " + bad, "│ health of " + bad})
		if ran := ranOn(recs); len(ran) != 10 {
			t.Errorf("ran on %d hosts, want all 10: %v", len(ran), ran)
		}
		if got := rollbackCounts(recs); len(got) != 1 || got["deploy/"+bad] != 1 {
			t.Errorf("rollbacks %v; want %s once", got, bad)
		}
		assertWaves(t, recs, "deploy", waves(3))
	})

	t.Run("two failing hosts in a wave roll back the run once", func(t *testing.T) {
		r, recs := apply(t, task("3", names[4], names[5]))
		if r.code != 1 || strings.Contains(r.stdout, "partial:") {
			t.Fatalf("exit %d, want 1, not partial\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		ran := ranOn(recs)
		if len(ran) != 6 {
			t.Errorf("ran on %v; the first two waves only", ran)
		}
		got := rollbackCounts(recs)
		for h := range ran {
			if got["deploy/"+h] != 1 {
				t.Errorf("%s rolled back %d times, want once", h, got["deploy/"+h])
			}
		}
		if len(got) != len(ran) {
			t.Errorf("rollbacks %v beyond the hosts that ran", got)
		}
		assertWaves(t, recs, "deploy", waves(3))
	})
}

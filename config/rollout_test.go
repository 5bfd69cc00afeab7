package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRolloutSettings reads every form the rollout settings take, and
// their defaults.
func TestRolloutSettings(t *testing.T) {
	src := `
task "deploy" {
  run          = "deploy"
  batch        = [1, 5, "25%"]
  pause        = "30s"
  max_failures = "10%"
  retries      = 2
  retry_delay  = "5s"
  only_if      = "test -d /opt/app"
  unless       = ["test -f /etc/frozen", "false"]
  check {
    run      = "curl -fsS localhost:8080/health"
    interval = "1s"
    timeout  = "20s"
  }
}

task "plain" {
  run   = "true"
  batch = "50%"
  max_failures = 2
  check { run = "true" }
}

task "none" { run = "true" }
`
	cfg := mustLoad(t, map[string]string{"main.hcl": src}, "main.hcl", LoadOptions{})
	deploy, plain, none := cfg.Tasks[0], cfg.Tasks[1], cfg.Tasks[2]

	want := []Size{{N: 1}, {N: 5}, {N: 25, Percent: true}}
	if diff := cmp.Diff(want, deploy.Batch); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	if deploy.Pause != 30*time.Second || deploy.MaxFailures != (Size{N: 10, Percent: true}) ||
		deploy.Retries != 2 || deploy.RetryDelay != 5*time.Second {
		t.Errorf("pause %v, max_failures %v, retries %d, retry_delay %v", deploy.Pause, deploy.MaxFailures, deploy.Retries, deploy.RetryDelay)
	}
	if diff := cmp.Diff([]string{"test -d /opt/app"}, deploy.OnlyIf); diff != "" {
		t.Errorf("only_if (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"test -f /etc/frozen", "false"}, deploy.Unless); diff != "" {
		t.Errorf("unless (-want +got):\n%s", diff)
	}
	if c := deploy.Check; c == nil || c.Interval != time.Second || c.Timeout != 20*time.Second || len(c.Run) != 1 {
		t.Errorf("check = %+v", c)
	}

	if diff := cmp.Diff([]Size{{N: 50, Percent: true}}, plain.Batch); diff != "" {
		t.Errorf("plain batch (-want +got):\n%s", diff)
	}
	if plain.MaxFailures != (Size{N: 2}) {
		t.Errorf("plain max_failures = %v", plain.MaxFailures)
	}
	if c := plain.Check; c == nil || c.Interval != DefaultCheckInterval || c.Timeout != DefaultCheckTimeout {
		t.Errorf("plain check defaults = %+v", c)
	}
	if none.Batch != nil || none.Check != nil || none.MaxFailures != (Size{}) || none.Retries != 0 || none.OnlyIf != nil {
		t.Errorf("a task without rollout settings has some: %+v", none)
	}
}

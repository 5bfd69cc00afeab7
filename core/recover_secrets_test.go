package core

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// countedTransport is a schemaTransport that counts its Configures.
type countedTransport struct {
	*schemaTransport
	configures int
}

func (c *countedTransport) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	c.configures++
	return c.schemaTransport.Configure(ctx, req)
}

// journaledRecovery plans src with the echo transport, writes the plan's
// journal header, hiding what Secrets lists, and reads it back.
func journaledRecovery(t *testing.T, src string) (*config.Config, *Recovery) {
	t.Helper()
	cfg := loadTestConfig(t, src)
	p, diags := planConfig(t, cfg, echoLauncher(&schemaTransport{fakeTransport: newFake()}), "test-run")
	if diags.HasErrors() {
		t.Fatalf("plan: %v", diags)
	}
	secrets := Secrets(cfg, p)
	_, path, j := newJournal(t, p, "test-run", secrets)
	closeJournal(t, j)
	rc := mustReadJournal(t, path)
	return cfg, rc
}

// TestJournalSecretsStartEachPluginOnce: the secrets of a journal's
// transport settings are found with the plugin started once and not
// configured, and ConfigureFromJournal then configures that same plugin,
// once, with the secret filled in (`fanout rollback` started and
// configured each plugin twice). Without such secrets no plugin starts.
func TestJournalSecretsStartEachPluginOnce(t *testing.T) {
	const vars = `
variable "tok" {
  type      = string
  sensitive = true
  default   = "var-s3cret"
}
host "a" {
  transport = "echo"
}
task "t" {
  run      = "true"
  rollback = "undo ${var.tok}"
}
`
	tests := []struct {
		name         string
		transport    string
		wantSecrets  []Secret
		wantLaunches int
		wantToken    string // in the Configure that follows
	}{
		{
			name:      "sensitive transport setting",
			transport: "transport \"echo\" {\n  greeting = \"hi\"\n  token    = \"tr-s3cret\"\n}\n",
			wantSecrets: []Secret{
				{Name: "var.tok", Value: "var-s3cret"},
				{Name: "transport.echo.token", Value: "tr-s3cret"},
			},
			wantLaunches: 1,
			wantToken:    "tr-s3cret",
		},
		{
			name:         "sensitive variables only",
			transport:    "transport \"echo\" {\n  greeting = \"hi\"\n}\n",
			wantSecrets:  []Secret{{Name: "var.tok", Value: "var-s3cret"}},
			wantLaunches: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, rc := journaledRecovery(t, tt.transport+vars)
			ct := &countedTransport{schemaTransport: &schemaTransport{fakeTransport: newFake()}}
			launches := 0
			ts := NewTransports(launcherFunc(func(_ context.Context, name string) (sdk.Transport, func(), error) {
				if name != "echo" {
					return nil, nil, fmt.Errorf("no transport %q", name)
				}
				launches++
				return ct, func() {}, nil
			}), nil)
			closeTransports(t, ts)

			secrets, diags := ts.JournalSecrets(context.Background(), rc, cfg)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(tt.wantSecrets, secrets); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
			if missing := rc.Missing(secrets); len(missing) > 0 {
				t.Errorf("missing after JournalSecrets: %v", missing)
			}
			if launches != tt.wantLaunches || ct.configures != 0 {
				t.Errorf("JournalSecrets launched %d times and configured %d times, want %d and 0", launches, ct.configures, tt.wantLaunches)
			}
			if tt.wantLaunches == 0 {
				return
			}
			if err := ts.ConfigureFromJournal(context.Background(), rc, secrets); err != nil {
				t.Fatal(err)
			}
			if launches != 1 || ct.configures != 1 {
				t.Errorf("after ConfigureFromJournal: launched %d times and configured %d times, want once each", launches, ct.configures)
			}
			if tok := ct.configured.GetAttr("token"); !tok.RawEquals(cty.StringVal(tt.wantToken)) {
				t.Errorf("configured with token %#v, want %q", tok, tt.wantToken)
			}
		})
	}
}

// TestRollbackJournalRunsThePlanShown: the plan a rollback shows, with
// its secrets' placeholders, is the plan it runs, rebuilt from the journal
// once: RollbackJournal fills the secrets into that plan's commands
// rather than replaying the journal a second time. What was handed out
// before keeps its placeholders, and rc does not keep the secrets.
func TestRollbackJournalRunsThePlanShown(t *testing.T) {
	synctest.Test(t, testRollbackJournalRunsThePlanShown)
}

func testRollbackJournalRunsThePlanShown(t *testing.T) {
	const secret = "hunter2-s3cret"
	f := newFake()
	h := testHosts("h1")
	task := testTask("a", h, "fail 1", "echo "+secret)
	secrets := []Secret{{Name: "var.token", Value: secret}}
	path, _ := journalRun(t, f, testPlan(config.OnFailureStop, task), secrets)
	rc := mustReadJournal(t, path)
	shown, err := rc.Plan()
	if err != nil {
		t.Fatal(err)
	}
	steps, err := rc.RollbackSteps()
	if err != nil {
		t.Fatal(err)
	}
	const placeholder = "echo {{sensitive:var.token}}"
	if diff := cmp.Diff([]string{placeholder}, steps[0].Commands); diff != "" {
		t.Fatalf("shown rollback (-want +got):\n%s", diff)
	}

	rollbackRecovery(t, f, path, rc, secrets)

	var ran []string
	for _, e := range f.events {
		if e.phase == "rollback" && e.kind == "start" {
			ran = append(ran, e.cmd)
		}
	}
	if diff := cmp.Diff([]string{"echo " + secret}, ran); diff != "" {
		t.Errorf("rollback commands (-want +got):\n%s", diff)
	}
	// The one rebuilt plan is the one that ran: its task got the secret.
	if got := shown.Roots[0].(*TaskNode).Rollback; !slices.Equal(got, []string{"echo " + secret}) {
		t.Errorf("the plan shown was not the plan run: its rollback is %q", got)
	}
	if diff := cmp.Diff([]string{placeholder}, steps[0].Commands); diff != "" {
		t.Errorf("the steps shown before changed (-want +got):\n%s", diff)
	}
	again, err := rc.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if again == shown || !slices.Equal(again.Roots[0].(*TaskNode).Rollback, []string{placeholder}) {
		t.Errorf("rc kept the plan the rollback ran, or its secret: %q", again.Roots[0].(*TaskNode).Rollback)
	}
}

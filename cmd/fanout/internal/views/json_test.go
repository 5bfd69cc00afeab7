package views

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/core"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestApplyJSON(t *testing.T) {
	var b bytes.Buffer
	v := NewApply(arguments.ViewJSON, &b, syntheticPlan(), ApplyOptions{Version: "0.1.0-test", Now: fixedClock(20), Options: Options{Redact: NewRedactor([]string{"8080"})}})
	if _, ok := v.(*ApplyJSON); !ok {
		t.Fatalf("NewApply(ViewJSON) = %T", v)
	}
	for _, e := range syntheticEvents() {
		v.Event(e)
	}
	golden(t, "json/apply", b.String())

	// Every line is one JSON object with a type; the first is the version;
	// timestamps never go back (the synthetic events' do).
	sc := bufio.NewScanner(&b)
	n := 0
	var last string
	for sc.Scan() {
		var stamp struct {
			At string `json:"@timestamp"`
		}
		if json.Unmarshal(sc.Bytes(), &stamp) == nil {
			if at, err := time.Parse(time.RFC3339Nano, stamp.At); err == nil && last != "" {
				if prev, _ := time.Parse(time.RFC3339Nano, last); at.Before(prev) {
					t.Errorf("line %d: @timestamp %s before the previous line's %s", n+1, stamp.At, last)
				}
			}
			last = stamp.At
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", n+1, err, sc.Text())
		}
		if n == 0 && (m["type"] != "version" || m["json_version"] != JSONVersion) {
			t.Errorf("first event is %v, want the version", m)
		}
		if _, ok := m["@timestamp"]; !ok || m["type"] == "" {
			t.Errorf("line %d lacks type or @timestamp: %s", n+1, sc.Text())
		}
		n++
	}
	if n < len(syntheticEvents()) {
		t.Errorf("%d lines for %d events", n, len(syntheticEvents()))
	}
}

func TestPlanJSON(t *testing.T) {
	p := syntheticPlan()
	p.OnFailure, p.Preflight = config.OnFailureRollback, true
	qr := p.Roots[1].(*core.Group).Members[0].(*core.TaskNode)
	qr.Run = []string{"systemctl restart queue", "curl -H 'Authorization: s3cret' http://localhost/ready"}
	qr.Rollback = []string{"systemctl start queue-previous"}
	qr.Timeout = 2 * time.Minute
	qr.Env = map[string]string{"TOKEN": "s3cret", "RELEASE": "2026-11-25"}
	p.Hosts[0].Address, p.Hosts[0].Roles, p.Hosts[0].Transport = "10.0.0.11", []string{"web", "app"}, "ssh"
	p.Transports = []*core.TransportPlan{{Name: "ssh", Hosts: 2}}
	var b bytes.Buffer
	PlanJSON(&b, "deploy.hcl", "0.1.0-test", p, Options{Redact: NewRedactor([]string{"s3cret"})})
	golden(t, "json/plan", b.String())
	if strings.Contains(b.String(), "s3cret") {
		t.Error("a sensitive value is in the JSON plan")
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON document: %v", err)
	}
}

func TestPlanHumanRedacts(t *testing.T) {
	p := syntheticPlan()
	p.Roots[0].(*core.TaskNode).Run = []string{"deploy --token s3cret"}
	p.Roots[0].(*core.TaskNode).Env = map[string]string{"TOKEN": "s3cret"}
	var b bytes.Buffer
	PlanHuman(&b, "deploy.hcl", p, Options{Redact: NewRedactor([]string{"s3cret"})})
	if strings.Contains(b.String(), "s3cret") || !strings.Contains(b.String(), "deploy --token (sensitive)") || !strings.Contains(b.String(), `TOKEN="(sensitive)"`) {
		t.Errorf("plan does not redact:\n%s", b.String())
	}
}

func TestDiagnosticsJSON(t *testing.T) {
	src := []byte("task \"a\" {\n  run = \"true\"\n  colour = 3\n}\n")
	f, diags := hclsyntax.ParseConfig(src, "main.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	attr := f.Body.(*hclsyntax.Body).Blocks[0].Body.Attributes["colour"]
	diags = hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Unsupported argument", Detail: `An argument named "colour" is not expected here.`, Subject: attr.NameRange.Ptr()},
		{Severity: hcl.DiagWarning, Summary: "No hosts", Detail: "Tasks run on localhost."},
	}
	var b bytes.Buffer
	DiagnosticsJSON(&b, map[string]*hcl.File{"main.hcl": f}, diags)
	golden(t, "json/validate", b.String())
}

package views

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/sdk"
)

func testTransportPlans() []*core.TransportPlan {
	return []*core.TransportPlan{
		{
			Name: "echo",
			Plugin: &sdk.DescribeResponse{Version: "0.1.0", TransportSchema: sdk.Schema{Attributes: []sdk.Attribute{
				{Name: "greeting", Type: cty.String},
				{Name: "prefix", Type: cty.List(cty.String)},
				{Name: "token", Type: cty.String, Sensitive: true},
				{Name: "unset", Type: cty.Number},
			}}},
			Settings: cty.ObjectVal(map[string]cty.Value{
				"greeting": cty.StringVal("hi pa55"),
				"prefix":   cty.ListVal([]cty.Value{cty.StringVal("nice"), cty.StringVal("-n")}),
				"token":    cty.StringVal("s3cret"),
				"unset":    cty.NullVal(cty.Number),
			}),
			Hosts: 1,
		},
		{Name: "local", Plugin: &sdk.DescribeResponse{Version: "0.1.0"}, Settings: cty.EmptyObjectVal, Hosts: 2},
	}
}

func TestPlanTransports(t *testing.T) {
	var b strings.Builder
	planTransports(&b, testTransportPlans(), Options{Redact: NewRedactor([]string{"pa55"})})
	want := `Transports:
  echo  (plugin 0.1.0, 1 host)
    greeting = "hi (sensitive)"
    prefix   = ["nice", "-n"]
    token    = (sensitive)
  local  (plugin 0.1.0, 2 hosts, default settings)
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTransportSettingsJSON(t *testing.T) {
	settings, sensitive := transportSettingsJSON(testTransportPlans()[0], nil)
	b, err := json.Marshal(map[string]any{"settings": settings, "sensitive": sensitive})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"sensitive":["token"],"settings":{"greeting":"hi pa55","prefix":["nice","-n"],"token":"(sensitive)"}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// TestPlanHostSettings: what host blocks set for their transport is
// listed by host set, in the schema's order, a sensitive one redacted,
// hosts that set nothing left out, and past foldAbove distinct sets the
// rest counted, as Host vars are.
func TestPlanHostSettings(t *testing.T) {
	schema := sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "port", Type: cty.Number},
		{Name: "raw", Type: cty.Bool},
		{Name: "password", Type: cty.String, Sensitive: true},
	}}
	settings := func(port int64, raw bool, password string) cty.Value {
		pw := cty.NullVal(cty.String)
		if password != "" {
			pw = cty.StringVal(password)
		}
		return cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(port), "raw": cty.BoolVal(raw), "password": pw})
	}
	none := cty.ObjectVal(map[string]cty.Value{"port": cty.NullVal(cty.Number), "raw": cty.NullVal(cty.Bool), "password": cty.NullVal(cty.String)})
	p := &core.Plan{Transports: []*core.TransportPlan{{Name: "ssh", Plugin: &sdk.DescribeResponse{HostSchema: schema}}}}
	for i := 1; i <= 4; i++ {
		p.Hosts = append(p.Hosts, &core.Host{Name: fmt.Sprintf("sw%d", i), Transport: "ssh", Config: settings(22, true, "")})
	}
	p.Hosts = append(p.Hosts,
		&core.Host{Name: "web1", Transport: "ssh", Config: none},
		&core.Host{Name: "db1", Transport: "ssh", Config: settings(2222, false, "hunter22")},
		&core.Host{Name: "l1", Transport: "local", Config: cty.EmptyObjectVal})
	var b strings.Builder
	planHostSettings(&b, p, nil)
	want := `Host settings:
  sw[1-4] (4)  port = 22, raw = true
  db1 (1)      port = 2222, raw = false, password = (sensitive)
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	p.Hosts = nil
	for i := range foldAbove + 3 {
		p.Hosts = append(p.Hosts, &core.Host{Name: fmt.Sprintf("h%d", i), Transport: "ssh", Config: settings(int64(2200+i), false, "")})
	}
	b.Reset()
	planHostSettings(&b, p, nil)
	if lines := strings.Count(b.String(), "\n"); lines != foldAbove+2 || !strings.Contains(b.String(), "and 3 more sets of settings") {
		t.Errorf("%d lines:\n%s", lines, b.String())
	}
}

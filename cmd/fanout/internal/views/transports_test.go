package views

import (
	"encoding/json"
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

package client

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestHostConfigsEncodeOncePerValue: a fleet's hosts have equal settings;
// fanout encodes them once, and sends each host its own when they differ,
// marks and unknowns included.
func TestHostConfigsEncodeOncePerValue(t *testing.T) {
	var c hostConfigs
	settings := func(port int64) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(port), "user": cty.NullVal(cty.String)})
	}
	first, err := c.encode(settings(22))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.encode(settings(22))
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("equal settings were encoded twice")
	}
	for round := range 2 {
		for port := int64(1); port <= 12; port++ {
			dv, err := c.encode(settings(port))
			if err != nil {
				t.Fatal(err)
			}
			want, _ := valueToProto(settings(port))
			if string(dv.GetJson()) != string(want.GetJson()) || string(dv.GetTypeJson()) != string(want.GetTypeJson()) {
				t.Errorf("round %d: port %d encoded as %s, want %s", round, port, dv.GetJson(), want.GetJson())
			}
		}
	}
	// A sensitive value is another value (RawEquals compares marks), but
	// goes as the same JSON: redaction is the core's.
	marked, err := c.encode(settings(22).Mark("sensitive"))
	if err != nil || string(marked.GetJson()) != string(first.GetJson()) {
		t.Errorf("marked settings encoded as %s, %v; want %s", marked.GetJson(), err, first.GetJson())
	}
	// Two unknowns are RawEqual; neither may be sent.
	unknown := cty.ObjectVal(map[string]cty.Value{"port": cty.UnknownVal(cty.Number), "user": cty.NullVal(cty.String)})
	for range 2 {
		if _, err := c.encode(unknown); err == nil {
			t.Error("settings with an unknown value encoded without an error")
		}
	}
	if dv, err := c.encode(cty.NilVal); dv != nil || err != nil {
		t.Errorf("no settings encoded as %v, %v; want nil", dv, err)
	}
}

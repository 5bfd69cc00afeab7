package sdk

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

func encodeForTest(t *testing.T, v cty.Value) *pb.DynamicValue {
	t.Helper()
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		t.Fatal(err)
	}
	js, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		t.Fatal(err)
	}
	return &pb.DynamicValue{TypeJson: ty, Json: js}
}

// TestHostConfigsDecodeOncePerEncoding: a fleet's Connects carry the same
// settings; the plugin decodes them once, and still returns each
// request's own value when they differ, also after more distinct values
// than it remembers.
func TestHostConfigsDecodeOncePerEncoding(t *testing.T) {
	var c hostConfigs
	settings := func(port int) cty.Value {
		return cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(int64(port)), "user": cty.NullVal(cty.String)})
	}
	same := encodeForTest(t, settings(22))
	if _, err := c.decode(same); err != nil {
		t.Fatal(err)
	}
	// A request of its own with equal bytes, as gRPC gives each call.
	again := encodeForTest(t, settings(22))
	allocs := testing.AllocsPerRun(100, func() {
		v, err := c.decode(again)
		if err != nil || !v.RawEquals(settings(22)) {
			t.Fatalf("decode = %#v, %v", v, err)
		}
	})
	// settings(22) in the check allocates; decoding the JSON again
	// allocated hundreds.
	if allocs > 20 {
		t.Errorf("decoding settings seen before allocated %.0f times, want them remembered", allocs)
	}
	for round := range 2 {
		for port := 1; port <= 12; port++ {
			v, err := c.decode(encodeForTest(t, settings(port)))
			if err != nil {
				t.Fatal(err)
			}
			if !v.RawEquals(settings(port)) {
				t.Errorf("round %d: port %d decoded as %#v", round, port, v)
			}
		}
	}
	if v, err := c.decode(&pb.DynamicValue{}); err != nil || v != cty.NilVal {
		t.Errorf("no settings decoded as %#v, %v; want cty.NilVal", v, err)
	}
	if _, err := c.decode(&pb.DynamicValue{TypeJson: same.TypeJson, Json: []byte(`{"port":`)}); err == nil {
		t.Error("truncated settings decoded without an error")
	}
}

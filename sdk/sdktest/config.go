package sdktest

import (
	"context"
	"sort"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/fanout/fanout/sdk"
)

// Object returns the value fanout sends for a block of schema s in which
// only values are set: an object with every attribute of s, each value
// converted to its attribute's type, null for the attributes not in
// values. It is what a Transport receives as ConfigureRequest.Config or
// Host.Config. It fails t for a name s does not declare or a value that
// does not convert; it does not check required attributes, so that a test
// can send what fanout would refuse.
func Object(t testing.TB, s sdk.Schema, values map[string]cty.Value) cty.Value {
	t.Helper()
	declared := map[string]bool{}
	attrs := make(map[string]cty.Value, len(s.Attributes))
	for _, a := range s.Attributes {
		declared[a.Name] = true
		ty := a.Type
		if ty == cty.NilType {
			ty = cty.DynamicPseudoType
		}
		v, ok := values[a.Name]
		if !ok || v == cty.NilVal {
			attrs[a.Name] = cty.NullVal(ty)
			continue
		}
		cv, err := convert.Convert(v, ty)
		if err != nil {
			t.Fatalf("attribute %q: %v", a.Name, err)
		}
		attrs[a.Name] = cv
	}
	var unknown []string
	for name := range values {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		t.Fatalf("the schema declares no attribute %q", unknown)
	}
	return cty.ObjectVal(attrs)
}

// Configure describes tr and configures it with the transport block that
// sets values (see Object), failing t on an error or an error diagnostic.
// It returns the description, whose HostSchema gives the Config of the
// hosts a test connects:
//
//	desc := sdktest.Configure(t, tr, map[string]cty.Value{"greeting": cty.StringVal("hi")})
//	host := sdk.Host{Name: "box", Config: sdktest.Object(t, desc.HostSchema, nil)}
func Configure(t testing.TB, tr sdk.Transport, values map[string]cty.Value) *sdk.DescribeResponse {
	t.Helper()
	desc, err := within(t, DefaultWait, "Describe", func(ctx context.Context) (*sdk.DescribeResponse, error) {
		return tr.Describe(ctx, &sdk.DescribeRequest{})
	})
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	resp, err := within(t, DefaultWait, "Configure", func(ctx context.Context) (*sdk.ConfigureResponse, error) {
		return tr.Configure(ctx, &sdk.ConfigureRequest{Config: Object(t, desc.TransportSchema, values), RunID: "sdktest"})
	})
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if err := resp.Diagnostics.Err(); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return desc
}

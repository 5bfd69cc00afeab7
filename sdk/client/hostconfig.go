package client

import (
	"github.com/zclconf/go-cty/cty"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// hostConfigs remembers the host settings encoded last. Every Connect
// carries its host's settings, and on a fleet they are nearly always the
// same value (the hosts leave them unset): encoding that value as JSON
// again for each host was most of what a Connect cost fanout. An encoding
// is shared by the requests of equal values; a message is only read once
// built (gRPC marshals it), so sharing it is safe.
type hostConfigs struct {
	recent wire.Recent[cty.Value, *pb.DynamicValue]
}

// encode returns v encoded, encoding it unless an equal value was lately.
func (c *hostConfigs) encode(v cty.Value) (*pb.DynamicValue, error) {
	if v.Type() == cty.NilType || !v.IsWhollyKnown() {
		// Nothing to send, or an error to report: two unknowns are
		// RawEqual, and neither may be sent.
		return valueToProto(v)
	}
	// RawEquals: the same value, marks included.
	if dv, ok := c.recent.Get(v.RawEquals); ok {
		return dv, nil
	}
	dv, err := valueToProto(v)
	if err != nil {
		return nil, err
	}
	c.recent.Put(v, dv)
	return dv, nil
}

package client

import (
	"sync"

	"github.com/zclconf/go-cty/cty"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// hostConfigs remembers the host settings encoded last. Every Connect
// carries its host's settings, and on a fleet they are nearly always the
// same value (the hosts leave them unset): encoding that value as JSON
// again for each host was most of what a Connect cost fanout. An encoding
// is shared by the requests of equal values among the last few; a
// message is only read once built (gRPC marshals it), so sharing it is
// safe.
type hostConfigs struct {
	mu      sync.Mutex
	entries [8]encodedValue
	next    int // the entry replaced next
}

type encodedValue struct {
	v  cty.Value
	dv *pb.DynamicValue
}

// encode returns v encoded, encoding it unless an equal value was lately.
func (c *hostConfigs) encode(v cty.Value) (*pb.DynamicValue, error) {
	if v.Type() == cty.NilType {
		return nil, nil
	}
	if !v.IsWhollyKnown() {
		return valueToProto(v) // its error
	}
	if dv, ok := c.lookup(v); ok {
		return dv, nil
	}
	dv, err := valueToProto(v)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[c.next] = encodedValue{v: v, dv: dv}
	c.next = (c.next + 1) % len(c.entries)
	c.mu.Unlock()
	return dv, nil
}

func (c *hostConfigs) lookup(v cty.Value) (*pb.DynamicValue, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		// RawEquals: the same value, marks included, and no unknowns to
		// compare (checked above).
		if e.dv != nil && e.v.RawEquals(v) {
			return e.dv, true
		}
	}
	return nil, false
}

package sdk

import (
	"bytes"
	"sync"

	"github.com/zclconf/go-cty/cty"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
)

// hostConfigs remembers the host settings the plugin decoded last, by
// their encoding. fanout sends every host's settings with its Connect,
// and on a fleet they are nearly always the same bytes (the hosts leave
// them unset): decoding them again for each of 1,000 Connects was a fifth
// of all the plugin allocated, 22 kB a host. A value is decoded once per
// distinct encoding among the last few; cty values are immutable, so one
// serves every request that sent those bytes.
type hostConfigs struct {
	mu      sync.Mutex
	entries [8]decodedValue
	next    int // the entry replaced next
}

type decodedValue struct {
	typeJSON, json []byte
	v              cty.Value
}

// decode returns dv's value, decoding it unless it was decoded lately.
func (c *hostConfigs) decode(dv *pb.DynamicValue) (cty.Value, error) {
	if len(dv.GetJson()) == 0 && len(dv.GetTypeJson()) == 0 {
		return cty.NilVal, nil // no settings: nothing to remember
	}
	if v, ok := c.lookup(dv); ok {
		return v, nil
	}
	v, err := valueFromProto(dv)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	// The request's bytes are its own; the entry keeps copies.
	c.entries[c.next] = decodedValue{typeJSON: bytes.Clone(dv.GetTypeJson()), json: bytes.Clone(dv.GetJson()), v: v}
	c.next = (c.next + 1) % len(c.entries)
	c.mu.Unlock()
	return v, nil
}

func (c *hostConfigs) lookup(dv *pb.DynamicValue) (cty.Value, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.json != nil && bytes.Equal(e.json, dv.GetJson()) && bytes.Equal(e.typeJSON, dv.GetTypeJson()) {
			return e.v, true
		}
	}
	return cty.NilVal, false
}

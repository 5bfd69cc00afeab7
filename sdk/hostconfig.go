package sdk

import (
	"bytes"

	"github.com/zclconf/go-cty/cty"

	pb "github.com/fanout/fanout/sdk/internal/transportv1"
	"github.com/fanout/fanout/sdk/internal/wire"
)

// hostConfigs remembers the host settings the plugin decoded last, by
// their encoding. fanout sends every host's settings with its Connect,
// and on a fleet they are nearly always the same bytes (the hosts leave
// them unset): decoding them again for each of 1,000 Connects was a fifth
// of all the plugin allocated, 22 kB a host. cty values are immutable, so
// one serves every request that sent those bytes.
type hostConfigs struct {
	recent wire.Recent[*pb.DynamicValue, cty.Value]
}

// decode returns dv's value, decoding it unless it was decoded lately.
func (c *hostConfigs) decode(dv *pb.DynamicValue) (cty.Value, error) {
	if len(dv.GetJson()) == 0 && len(dv.GetTypeJson()) == 0 {
		return cty.NilVal, nil // no settings: nothing to remember
	}
	same := func(k *pb.DynamicValue) bool {
		return bytes.Equal(k.GetJson(), dv.GetJson()) && bytes.Equal(k.GetTypeJson(), dv.GetTypeJson())
	}
	if v, ok := c.recent.Get(same); ok {
		return v, nil
	}
	v, err := valueFromProto(dv)
	if err != nil {
		return v, err
	}
	// The request's bytes are its own; the entry keeps copies.
	c.recent.Put(&pb.DynamicValue{TypeJson: bytes.Clone(dv.GetTypeJson()), Json: bytes.Clone(dv.GetJson())}, v)
	return v, nil
}

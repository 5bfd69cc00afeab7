package sdktest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/config"
)

// TestReservedMatchesConfig ties the suite's reserved attribute names to
// those package config reads from transport and host blocks itself, which
// fanout refuses a plugin for declaring: the suite must fail a plugin
// exactly when fanout would refuse it. sdk may not import config
// (internal/layering), so the list is written twice; this test, which only
// a test may do, fails when the two differ. It imports config in a test
// file, which internal/layering does not count: the sdk's packages do not
// depend on config.
func TestReservedMatchesConfig(t *testing.T) {
	want := map[string][]string{
		"transport": config.ReservedTransportAttributes(),
		"host":      config.ReservedHostAttributes(),
	}
	sorted := func(m map[string][]string) map[string][]string {
		out := map[string][]string{}
		for block, names := range m {
			out[block] = slices.Sorted(slices.Values(names))
		}
		return out
	}
	if diff := cmp.Diff(sorted(want), sorted(reserved)); diff != "" {
		t.Errorf("sdktest's reserved attributes differ from config's, which fanout enforces (-config +sdktest):\n%s", diff)
	}
}

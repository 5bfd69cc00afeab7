package config

import (
	"os"
	"testing"
	"time"
)

func TestSlowInputs(t *testing.T) {
	src := os.Getenv("SRC")
	start := time.Now()
	_, _, diags := testLoad(t, map[string]string{"a.hcl": src}, "a.hcl", LoadOptions{})
	t.Logf("%v %v", time.Since(start), diags)
}

package sdktest_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// New stands for a plugin's constructor; here, fanout's local transport's.
func New(logger hclog.Logger) sdk.Transport { return local.New(logger) }

// TestConformance is the Testing example of docs/plugins.md, as written
// there (TestDocsTestingExample keeps the two the same).
func TestConformance(t *testing.T) {
	tr := sdktest.NewHarness(t, New(hclog.NewNullLogger())).Transport() // over real gRPC
	desc := sdktest.Configure(t, tr, map[string]cty.Value{"shell": cty.StringVal("/bin/sh")})
	host := sdk.Host{Name: "box", Config: sdktest.Object(t, desc.HostSchema, nil)}
	sdktest.Conformance(t, tr, host, sdktest.Options{Wait: 10 * time.Second})
}

// TestDocsTestingExample fails when docs/plugins.md's Testing example is
// not TestConformance above, which compiles and runs.
func TestDocsTestingExample(t *testing.T) {
	src, err := os.ReadFile("docs_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, fn, _ := strings.Cut(string(src), "\nfunc TestConformance(")
	fn, _, _ = strings.Cut(fn, "\n}\n")
	fn = "func TestConformance(" + fn + "\n}\n"
	doc, err := os.ReadFile("../../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), fn) {
		t.Errorf("docs/plugins.md does not show TestConformance as sdk/sdktest/docs_test.go has it:\n%s", fn)
	}
}

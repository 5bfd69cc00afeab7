package sdktest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// fatalTB records the failure a helper reports instead of failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs fn with a fatalTB and returns what it failed with, "" if
// it did not.
func failure(t *testing.T, fn func(tb testing.TB)) string {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	<-done
	return tb.msg
}

var schema = sdk.Schema{Attributes: []sdk.Attribute{
	{Name: "user", Type: cty.String, Required: true},
	{Name: "port", Type: cty.Number},
	{Name: "jump", Type: cty.List(cty.String)},
	{Name: "anything"},
}}

func TestObject(t *testing.T) {
	got := sdktest.Object(t, schema, map[string]cty.Value{
		"user": cty.StringVal("deploy"),
		"port": cty.StringVal("22"), // converted, as HCL would
		"jump": cty.TupleVal([]cty.Value{cty.StringVal("bastion")}),
	})
	want := cty.ObjectVal(map[string]cty.Value{
		"user":     cty.StringVal("deploy"),
		"port":     cty.NumberIntVal(22),
		"jump":     cty.ListVal([]cty.Value{cty.StringVal("bastion")}),
		"anything": cty.NullVal(cty.DynamicPseudoType),
	})
	if !got.RawEquals(want) {
		t.Errorf("Object = %#v\nwant %#v", got, want)
	}
	if msg := failure(t, func(tb testing.TB) { sdktest.Object(tb, schema, map[string]cty.Value{"usr": cty.StringVal("x")}) }); !strings.Contains(msg, `"usr"`) {
		t.Errorf("an undeclared attribute failed with %q", msg)
	}
	if msg := failure(t, func(tb testing.TB) { sdktest.Object(tb, schema, map[string]cty.Value{"port": cty.True}) }); !strings.Contains(msg, `"port"`) {
		t.Errorf("a value of the wrong type failed with %q", msg)
	}
}

func TestEventuallyFailsAtThePoll(t *testing.T) {
	msg := failure(t, func(tb testing.TB) {
		sdktest.Eventually(tb, 50*time.Millisecond, "the moon to turn blue", func() bool { return false })
	})
	if !strings.Contains(msg, "timed out after 50ms waiting for the moon to turn blue") {
		t.Errorf("Eventually failed with %q", msg)
	}
	n := 0
	if msg := failure(t, func(tb testing.TB) {
		sdktest.Eventually(tb, 10*time.Second, "three calls", func() bool { n++; return n == 3 })
	}); msg != "" || n != 3 {
		t.Errorf("Eventually = %q after %d calls", msg, n)
	}
}

// hanging is a Transport whose Exec writes "started" and returns only when
// its ctx ends.
type hanging struct{ sdk.Transport }

func (hanging) Exec(ctx context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if _, err := fmt.Fprint(out.Stdout, "started"); err != nil {
		return nil, err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestRunningWaitSaysWhatHangs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	run := sdktest.StartExec(ctx, hanging{}, &sdk.ExecRequest{ID: "1"})
	sdktest.WaitSeen(t, run.Stdout, "started", 10*time.Second)
	msg := failure(t, func(tb testing.TB) { run.Wait(tb, 10*time.Millisecond) })
	for _, w := range []string{"did not return within 10ms", "process group was not killed", "child process still holds its stdout", `stdout "started"`} {
		if !strings.Contains(msg, w) {
			t.Errorf("Wait failed with %q, which lacks %q", msg, w)
		}
	}
	cancel()
	if r := run.Wait(t, 10*time.Second); r.Err == nil || r.Stdout.String() != "started" {
		t.Errorf("Wait after cancel = %+v", r)
	}
}

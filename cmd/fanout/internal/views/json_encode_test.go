package views

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fanout/fanout/core"
)

// TestAppendOutputEventIsEncodingJSON: the hand-written encoding of an
// output event is byte for byte what encoding/json writes for it, for
// text, escapes, control characters, invalid UTF-8, U+2028 and random
// bytes, so that -json's consumers see no difference.
func TestAppendOutputEventIsEncodingJSON(t *testing.T) {
	lines := []string{"", "plain", `quote " and \ back`, "tab\tcr\rlf\nbs\bff\f", "\x00\x01\x1f\x7f", "<html>&amp;",
		"bad \xff\xfe utf8", "sep \u2028 and \u2029", "naïve ✓ 日本", "\xed\xa0\x80 surrogate"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		lines = append(lines, string(b))
	}
	at := time.Date(2026, 12, 1, 11, 0, 0, 123456789, time.UTC)
	e := core.Output{Task: `de"ploy`, Host: "web\x011", Phase: core.PhaseRun, Stream: core.Stderr}
	for _, line := range lines {
		for _, partial := range []bool{false, true} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(jsonOutput{envelope{"output", at}, e.Task, e.Host, e.Phase, e.Stream, line, partial}); err != nil {
				t.Fatal(err)
			}
			if got := appendOutputEvent(nil, at, e, line, partial); !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("line %q:\n got %s\nwant %s", line, got, want.Bytes())
			}
			if got := appendOutputEvent(nil, at, e, []byte(line), partial); !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("line %q as bytes:\n got %s\nwant %s", line, got, want.Bytes())
			}
		}
	}
}

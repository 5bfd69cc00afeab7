package views

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/fanout/fanout/core"
)

// BenchmarkApplyHumanOutput renders what `base64` prints (76-column lines)
// in events of the size the plugin sends, to /dev/null: the view's share
// of streaming a command's output (W5).
func BenchmarkApplyHumanOutput(b *testing.B) {
	var text bytes.Buffer
	enc := base64.NewEncoder(base64.StdEncoding, &lineBreaker{w: &text})
	if _, err := enc.Write(make([]byte, 24<<10)); err != nil {
		b.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		b.Fatal(err)
	}
	data := text.Bytes()
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	// On a terminal, output is escaped (terminal.go) and costs more; a
	// redactor with a secret to hide costs a copy per line.
	for _, tt := range []struct {
		name   string
		escape bool
		redact *Redactor
	}{
		{"pipe", false, NewRedactor(nil)},
		{"terminal", true, NewRedactor(nil)},
		{"pipe-secret", false, NewRedactor([]string{"hunter2hunter2"})},
	} {
		b.Run(tt.name, func(b *testing.B) {
			v := NewApplyHuman(io.Discard, syntheticPlan(), ApplyOptions{Options: Options{Escape: tt.escape, Redact: tt.redact}})
			e := core.Output{Task: "migrate", Host: "web1", Phase: core.PhaseRun, Stream: core.Stdout, Data: data}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				v.Event(e)
			}
		})
	}
}

// BenchmarkApplyJSONOutput is BenchmarkApplyHumanOutput's output as
// -json writes it: one event a line.
func BenchmarkApplyJSONOutput(b *testing.B) {
	data := bytes.Repeat([]byte(strings.Repeat("A", 75)+"\n"), 300)
	v := NewApplyJSON(io.Discard, ApplyOptions{Options: Options{Redact: NewRedactor(nil)}})
	e := core.Output{Task: "migrate", Host: "web1", Phase: core.PhaseRun, Stream: core.Stdout, Data: data}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		v.Event(e)
	}
}

// TestOutputWithNothingToHideNotCopiedPerLine: a run has a redactor
// whether or not it has a secret, and with none yet, output is rendered
// without a copy per line, which cost a quarter of fanout's CPU in W5.
func TestOutputWithNothingToHideNotCopiedPerLine(t *testing.T) {
	data := bytes.Repeat([]byte(strings.Repeat("A", 76)+"\n"), 300)
	v := NewApplyHuman(io.Discard, syntheticPlan(), ApplyOptions{Options: Options{Redact: NewRedactor(nil)}})
	e := core.Output{Task: "migrate", Host: "web1", Phase: core.PhaseRun, Stream: core.Stdout, Data: data}
	if allocs := testing.AllocsPerRun(20, func() { v.Event(e) }); allocs > 10 {
		t.Errorf("%.0f allocations per event of 300 lines, want at most 10", allocs)
	}
}

// lineBreaker writes a newline after every 76 bytes, as base64(1) does.
type lineBreaker struct {
	w   *bytes.Buffer
	col int
}

func (l *lineBreaker) Write(p []byte) (int, error) {
	for _, c := range p {
		l.w.WriteByte(c)
		if l.col++; l.col == 76 {
			l.w.WriteByte('\n')
			l.col = 0
		}
	}
	return len(p), nil
}

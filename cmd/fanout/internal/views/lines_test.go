package views

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fanout/fanout/core"
)

func TestLines(t *testing.T) {
	for _, tc := range []struct {
		data string
		want []string
	}{
		{"", []string{""}},
		{"\n", []string{""}},
		{"a", []string{"a"}},
		{"a\n", []string{"a"}},
		{"a\nb", []string{"a", "b"}},
		{"a\r\nb\r\n", []string{"a", "b"}},
		{"a\n\nb\n", []string{"a", "", "b"}},
		{"a\n\n", []string{"a", ""}},
	} {
		var got []string
		for l := range lines([]byte(tc.data)) {
			got = append(got, string(l))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("lines(%q) = %q, want %q", tc.data, got, tc.want)
		}
		if n := lineCount([]byte(tc.data)); n != len(tc.want) {
			t.Errorf("lineCount(%q) = %d, want %d", tc.data, n, len(tc.want))
		}
	}
}

// TestTailsChunks: however output is cut into events, the recap keeps the
// same last lines and the same count of earlier ones as if each line had
// come alone.
func TestTailsChunks(t *testing.T) {
	var all []string
	for i := range 23 {
		all = append(all, fmt.Sprintf("line %d %s", i, strings.Repeat("y", i*20)))
	}
	for _, chunk := range []int{1, 2, 3, 4, 5, 6, 7, 11, 23} {
		tl := NewTails()
		for i := 0; i < len(all); i += chunk {
			data := strings.Join(all[i:min(i+chunk, len(all))], "\n") + "\n"
			tl.Record(core.Output{Task: "t", Host: "h", Phase: core.PhaseRun, Stream: core.Stdout, Data: []byte(data)})
		}
		got, dropped, _ := tl.Last("t", "h", core.PhaseRun)
		var want []string
		for _, l := range all[len(all)-tailLines:] {
			if len(l) > tailWidth {
				l = l[:tailWidth] + "…"
			}
			want = append(want, l)
		}
		if !slices.Equal(got, want) || dropped != len(all)-tailLines {
			t.Errorf("chunks of %d: got %q (%d dropped), want %q (%d dropped)", chunk, got, dropped, want, len(all)-tailLines)
		}
	}
}

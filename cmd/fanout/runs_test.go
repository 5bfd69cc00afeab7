package main

import (
	"slices"
	"testing"
	"time"

	"github.com/fanout/fanout/cmd/fanout/internal/views"
)

// TestSortRuns: `fanout runs` lists runs in the order they started, two
// of the same second too (their IDs' random suffixes say nothing), and
// an unreadable journal by the time its ID begins with.
func TestSortRuns(t *testing.T) {
	at := func(ms int) time.Time { return time.Date(2026, 12, 1, 11, 0, 59, ms*1e6, time.UTC) }
	runs := []views.RunEntry{
		{ID: "20261201T110059-8335ce", Started: at(700)},
		{ID: "20261201T110100-000000", Status: "unreadable"},
		{ID: "20261201T110059-9ecafb", Started: at(200)},
		{ID: "20261201T105900-ffffff", Started: time.Date(2026, 12, 1, 10, 59, 0, 0, time.UTC)},
	}
	sortRuns(runs)
	var got []string
	for _, r := range runs {
		got = append(got, r.ID)
	}
	want := []string{"20261201T105900-ffffff", "20261201T110059-9ecafb", "20261201T110059-8335ce", "20261201T110100-000000"}
	if !slices.Equal(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
}

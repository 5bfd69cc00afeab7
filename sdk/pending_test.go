package sdk

import (
	"strconv"
	"testing"
)

// TestPendingSignals: a signal noted for an Exec is taken once, by that
// Exec; an Exec nobody signalled takes none; at most maxPending are kept,
// the oldest dropped first.
func TestPendingSignals(t *testing.T) {
	var p PendingSignals
	p.Note("1", "INT")
	if _, ok := p.Take("2"); ok {
		t.Error("Exec 2 took a signal noted for 1")
	}
	if sig, ok := p.Take("1"); !ok || sig != "INT" {
		t.Errorf("Take(1) = %q, %v; want INT", sig, ok)
	}
	if _, ok := p.Take("1"); ok {
		t.Error("the signal for 1 was taken twice")
	}
	for i := range maxPending + 10 {
		p.Note(strconv.Itoa(i), "TERM")
	}
	if _, ok := p.Take("0"); ok {
		t.Error("the oldest signal was kept past the bound")
	}
	if sig, ok := p.Take(strconv.Itoa(maxPending + 9)); !ok || sig != "TERM" {
		t.Errorf("the newest signal: %q, %v", sig, ok)
	}
	if len(p.m) > maxPending {
		t.Errorf("%d signals held, bound %d", len(p.m), maxPending)
	}
}

package main

import "testing"

func TestProcsFor(t *testing.T) {
	for _, tt := range []struct{ cpus, want int }{
		{1, 1}, {2, 1}, {3, 1}, {4, 2}, {16, 8}, {64, 32},
	} {
		if got := procsFor(tt.cpus); got != tt.want {
			t.Errorf("procsFor(%d) = %d, want %d", tt.cpus, got, tt.want)
		}
	}
}

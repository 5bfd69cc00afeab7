package wire

import "testing"

// TestRecent: the newest entry for a key wins, and only the last eight
// are kept.
func TestRecent(t *testing.T) {
	var r Recent[int, string]
	if _, ok := r.Get(func(int) bool { return true }); ok {
		t.Fatal("an empty Recent found an entry")
	}
	for k := range 10 {
		r.Put(k, "first")
	}
	r.Put(9, "second")
	is := func(want int) func(int) bool { return func(k int) bool { return k == want } }
	if v, ok := r.Get(is(9)); !ok || v != "second" {
		t.Errorf("Get(9) = %q, %v; want the newest, second", v, ok)
	}
	for _, k := range []int{0, 1, 2} {
		if v, ok := r.Get(is(k)); ok {
			t.Errorf("Get(%d) = %q: kept past eight entries", k, v)
		}
	}
	for k := 3; k <= 8; k++ {
		if v, ok := r.Get(is(k)); !ok || v != "first" {
			t.Errorf("Get(%d) = %q, %v; want first", k, v, ok)
		}
	}
}

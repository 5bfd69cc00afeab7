package views

import "testing"

func TestRedactorKeepsLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		keep   []string
		in     string
		want   string
	}{
		{name: "value alone", values: []string{"s3cret"}, in: "token s3cret", want: "token (sensitive)"},
		{name: "value inside a kept word", values: []string{"host"}, keep: []string{"localhost", "failed on host"},
			in: `task "a" failed on host "localhost": host`, want: `task "a" failed on host "localhost": (sensitive)`},
		{name: "kept word equal to a value is not kept", values: []string{"web1"}, keep: []string{"web1"}, in: "web1", want: "(sensitive)"},
		{name: "value next to a kept word", values: []string{"pa55"}, keep: []string{"db1"}, in: "db1pa55", want: "db1(sensitive)"},
		{name: "longest kept word first", values: []string{"10", "eb"}, keep: []string{"web", "web10"}, in: "web10 10", want: "web10 (sensitive)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewRedactor(tc.values, tc.keep...).String(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRedactorHide: a value learned during the run (a password typed at a
// prompt) is hidden from then on, with the others, by core's rule on its
// length; a nil Redactor takes none.
func TestRedactorHide(t *testing.T) {
	r := NewRedactor(nil, "web01")
	if got := r.String("pw hunter22 on web01"); got != "pw hunter22 on web01" {
		t.Fatalf("before Hide: %q", got)
	}
	r.Hide("hunter22")
	r.Hide("web0") // inside a kept word: left alone there
	r.Hide("pw")   // too short to hide
	if got, want := r.String("pw hunter22 on web01, web0"), "pw (sensitive) on web01, (sensitive)"; got != want {
		t.Errorf("after Hide: %q, want %q", got, want)
	}
	var none *Redactor
	none.Hide("hunter22")
	if got := none.String("hunter22"); got != "hunter22" {
		t.Errorf("nil: %q", got)
	}
}

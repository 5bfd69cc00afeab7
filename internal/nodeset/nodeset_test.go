package nodeset

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"web1", []string{"web1"}},
		{"web[1-3]", []string{"web1", "web2", "web3"}},
		{"web[01-03]", []string{"web01", "web02", "web03"}},
		{"web[08-10]", []string{"web08", "web09", "web10"}},
		{"web[8-10]", []string{"web8", "web9", "web10"}},
		{"web[01-02,05,7]", []string{"web01", "web02", "web05", "web7"}},
		{"web[01-20,25],db1", append(names("web%02d", 1, 20), "web25", "db1")},
		{"r[1-2]n[1-3]", []string{"r1n1", "r1n2", "r1n3", "r2n1", "r2n2", "r2n3"}},
		{"web[1-2].example.com", []string{"web1.example.com", "web2.example.com"}},
		{"[1-2]x", []string{"1x", "2x"}},
		{"10.0.0.[1-3]", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}},
		{"a,b,a", []string{"a", "b"}},
		{"web[1-2],web[2-3]", []string{"web1", "web2", "web3"}},
		{"web[007]", []string{"web007"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := Expand(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Expand(%q) (-want +got):\n%s", tt.pattern, diff)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	tests := []struct {
		pattern string
		want    string // part of the message
		offset  int
	}{
		{"", "empty", 0},
		{"web[10-1]", "the range 10-1 goes down; write 1-10", 3},
		{"web[1-3", "bracket at column 4 is not closed", 3},
		{"web1-3]", "bracket at column 7 closes none", 6},
		{"web[1-[2]]", "opens inside the bracket at column 4", 6},
		{"web[]", "no number", 3},
		{"web[a-c]", `"a-c" is not a number`, 3},
		{"web[1-]", `"1-" lacks a number`, 3},
		{"web[1,,2]", `"" lacks a number`, 3},
		{"a,,b", "name at column 3 is empty", 2},
		{"web[01-100]x[1-2", "bracket at column 13 is not closed", 12},
		{"web[001-01]", "different widths", 3},
		{"web[1-1234567890123456789]", "more than 18 digits", 3},
		{"web[1-100001]", "more than 100000 names", 3},
		{"web[1-1000000000000]", "more than 100000 names", 3},
		{"a[1-1000]b[1-1000]", "more than 100000 names", 0},
		{"web[1-60000],db[1-60000]", "more than 100000 names", 13},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := Expand(tt.pattern)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Expand(%q) = %d names, %v; want an *Error", tt.pattern, len(got), err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), fmt.Sprintf("invalid nodeset %q: ", tt.pattern)) {
				t.Errorf("Expand(%q) error %q, want it to say %q", tt.pattern, err, tt.want)
			}
			if e.Offset != tt.offset {
				t.Errorf("Expand(%q) error at byte %d, want %d", tt.pattern, e.Offset, tt.offset)
			}
		})
	}
}

func TestExpandLimit(t *testing.T) {
	got, err := Expand("h[1-100000]")
	if err != nil || len(got) != MaxNames || got[MaxNames-1] != "h100000" {
		t.Fatalf("Expand(h[1-100000]) = %d names, %v; want exactly MaxNames", len(got), err)
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		names []string
		want  string
	}{
		{nil, ""},
		{[]string{"web01"}, "web01"},
		{[]string{"web01", "web02", "web03"}, "web[01-03]"},
		{[]string{"web03", "web01", "web02", "web07", "web09", "web10"}, "web[01-03,07,09-10]"},
		{[]string{"web1", "web2", "web10", "db1", "localhost"}, "web[1-2,10],db1,localhost"},
		{[]string{"web1", "web01", "web02", "web10"}, "web1,web[01-02,10]"},
		{[]string{"web01.example.com", "web02.example.com", "web10.example.com"}, "web[01-02,10].example.com"},
		{[]string{"r1n1", "r1n2", "r2n1"}, "r1n[1-2],r2n1"},
		{[]string{"db2", "web01", "db1"}, "db[1-2],web01"},
		{[]string{"10.0.0.1", "10.0.0.2"}, "10.0.0.[1-2]"},
		{[]string{"7", "8"}, "7,8"},
		{[]string{"web2", "web2", "web1"}, "web[1-2]"},
		{names("web%02d", 1, 20), "web[01-20]"},
		{names("n%d", 1, 1000), "n[1-1000]"},
		{names("h%d", 1, 2000), "h[1-2000]"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Fold(tt.names); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}

// TestRoundTrip checks that what Fold writes, Expand reads back as the
// same set, and that a folded pattern folds to itself.
func TestRoundTrip(t *testing.T) {
	sets := [][]string{
		{"web01", "web02", "web03", "db1", "localhost"},
		append(names("web%02d", 1, 20), "web25", "db1"),
		names("n%d", 1, 120),
		names("n%03d", 95, 105),
		{"web1", "web01", "web001", "web10"},
		{"10.0.0.1", "10.0.0.3", "10.0.0.2", "127.0.1.2"},
		{"a", "b9", "c09", "d"},
	}
	for _, set := range sets {
		folded := Fold(set)
		t.Run(folded, func(t *testing.T) {
			got, err := Expand(folded)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(set)))))
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Expand(Fold(names)) (-want +got):\n%s", diff)
			}
			if again := Fold(got); again != Fold(want) {
				t.Errorf("Fold is not stable: %q then %q", Fold(want), again)
			}
		})
	}
}

func TestIsPattern(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"web[01-20]", true},
		{"web[1,3]", true},
		{"web[01-20,25],db1", true},
		{"web1,db1", true},
		{"r[1-2]n[3]", true},
		{"web1", false},
		{"web*", false},
		{"web[12]", false},
		{"web[a-c]", false},
		{"web[1-3]*", false},
		{"web[1-3][ab]", false},
		{"web[!1-3]", false},
		{"web[1-3", false},
		{"web1-3]", false},
	}
	for _, tt := range tests {
		if got := IsPattern(tt.s); got != tt.want {
			t.Errorf("IsPattern(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// names is fmt.Sprintf(format, n) for n from lo to hi.
func names(format string, lo, hi int) []string {
	var out []string
	for n := lo; n <= hi; n++ {
		out = append(out, fmt.Sprintf(format, n))
	}
	return out
}

func ExampleExpand() {
	names, err := Expand("web[01-03,10],db1")
	fmt.Println(names, err)
	// Output: [web01 web02 web03 web10 db1] <nil>
}

func ExampleFold() {
	fmt.Println(Fold([]string{"web03", "web01", "web02", "db1", "web10"}))
	// Output: web[01-03,10],db1
}

// TestExpandWidePadding: a padded range may outgrow its width, as clush
// reads it: web[98-100] with padding 2 ends at web100.
func TestExpandWidePadding(t *testing.T) {
	got, err := Expand("web[098-100]")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web098", "web099", "web100"}, got); diff != "" {
		t.Error(diff)
	}
	got, err = Expand("web[99-100]")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web99", "web100"}, got); diff != "" {
		t.Error(diff)
	}
}

// FuzzExpand: Expand never panics nor makes more than MaxNames names, and
// what it makes folds and expands back to the same set.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"web[01-20,25],db1", "r[1-2]n[1-3]", "a[1-]", "[", "x[0-99999]", "h[1-100000]", "a,,b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names, err := Expand(s)
		if err != nil {
			return
		}
		if len(names) == 0 || len(names) > MaxNames {
			t.Fatalf("Expand(%q) made %d names", s, len(names))
		}
		if len(names) > 1000 {
			return
		}
		if strings.ContainsAny(s, "[],") {
			// Names with brackets or commas of their own cannot be
			// folded back; the syntax has no escape.
			for _, n := range names {
				if strings.ContainsAny(n, "[],") {
					return
				}
			}
		}
		again, err := Expand(Fold(names))
		if err != nil {
			t.Fatalf("Expand(Fold(Expand(%q))) = %v", s, err)
		}
		slices.Sort(names)
		slices.Sort(again)
		if !slices.Equal(names, again) {
			t.Fatalf("round trip of %q: %q != %q", s, names, again)
		}
	})
}

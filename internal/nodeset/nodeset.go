package nodeset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MaxNames bounds how many names Expand makes from one pattern, so that a
// typo such as "web[1-10000000000]" is an error rather than gigabytes.
const MaxNames = 100_000

// maxDigits bounds the digits of a number in a bracket group, so that it
// fits an int64 and a width can be formatted.
const maxDigits = 18

// Error is a pattern Expand cannot read. Offset is the byte of Pattern
// where the problem is, for a caller that points at it.
type Error struct {
	Pattern string
	Offset  int
	Msg     string
}

// Error returns `invalid nodeset "web[10-1]": range 10-1 goes down`.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid nodeset %q: %s", e.Pattern, e.Msg)
}

// Expand returns the names a pattern stands for, each once, in the order
// the pattern writes them (in a pattern of several bracket groups, the
// last one varies fastest). A pattern with no bracket and no comma is one
// name. It is an error when a bracket is unbalanced or nested, a bracket
// group holds something other than numbers and ranges, a range goes down,
// a name is empty, or the pattern makes more than MaxNames names; the
// error is an *Error.
func Expand(pattern string) ([]string, error) {
	if pattern == "" {
		return nil, &Error{pattern, 0, "it is empty"}
	}
	parts, err := splitTop(pattern)
	if err != nil {
		return nil, err
	}
	var terms []term
	total := 0
	for _, p := range parts {
		t, err := parseTerm(pattern, p)
		if err != nil {
			return nil, err
		}
		n := t.size()
		if n > MaxNames-total {
			return nil, &Error{pattern, p.start, fmt.Sprintf("it makes more than %d names", MaxNames)}
		}
		total += n
		terms = append(terms, t)
	}
	names := make([]string, 0, total)
	seen := make(map[string]bool, total)
	for _, t := range terms {
		t.expand(func(name string) {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		})
	}
	return names, nil
}

// IsPattern reports whether s is written in nodeset syntax rather than as
// a glob or a plain name: it has a comma outside brackets or a bracket
// group holding a range or a list of numbers ("web[01-20]", "db[1,3]"),
// every bracket group holds only numbers, and it has no '*', '?' or '\'.
// "web[12]" and "web[a-c]" are globs (character classes); "web*" is a
// glob; "web1" is a name. A caller uses it to choose between Expand and
// path.Match.
func IsPattern(s string) bool {
	if strings.ContainsAny(s, `*?\`) {
		return false
	}
	ranged := false
	depth := 0
	open := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			if depth > 0 {
				return false
			}
			depth, open = 1, i
		case ']':
			if depth == 0 {
				return false
			}
			depth = 0
			body := s[open+1 : i]
			if body == "" || strings.Trim(body, "0123456789-,") != "" {
				return false
			}
			if strings.ContainsAny(body, "-,") {
				ranged = true
			}
		case ',':
			if depth == 0 {
				ranged = true
			}
		}
	}
	return ranged && depth == 0
}

// span is a part of a pattern between top-level commas.
type span struct {
	start int
	text  string
}

// splitTop splits a pattern at the commas outside brackets and checks
// that brackets pair up without nesting.
func splitTop(pattern string) ([]span, error) {
	var parts []span
	start, open := 0, -1
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '[':
			if open >= 0 {
				return nil, &Error{pattern, i, fmt.Sprintf("a bracket opens inside the bracket at column %d", open+1)}
			}
			open = i
		case ']':
			if open < 0 {
				return nil, &Error{pattern, i, fmt.Sprintf("the bracket at column %d closes none", i+1)}
			}
			open = -1
		case ',':
			if open >= 0 {
				continue
			}
			parts = append(parts, span{start, pattern[start:i]})
			start = i + 1
		}
	}
	if open >= 0 {
		return nil, &Error{pattern, open, fmt.Sprintf("the bracket at column %d is not closed", open+1)}
	}
	parts = append(parts, span{start, pattern[start:]})
	for _, p := range parts {
		if p.text == "" {
			return nil, &Error{pattern, p.start, fmt.Sprintf("the name at column %d is empty", p.start+1)}
		}
	}
	return parts, nil
}

// term is one comma-separated part: literal text and bracket groups in
// turn, as segments. A literal segment has one value.
type term struct {
	segments [][]string
}

func (t term) size() int {
	n := 1
	for _, s := range t.segments {
		n *= len(s) // each factor is at most MaxNames, checked as parsed
		if n > MaxNames {
			return MaxNames + 1
		}
	}
	return n
}

// expand calls fn with each name, the last segment varying fastest.
func (t term) expand(fn func(string)) {
	var b []byte
	var walk func(i int)
	walk = func(i int) {
		if i == len(t.segments) {
			fn(string(b))
			return
		}
		n := len(b)
		for _, v := range t.segments[i] {
			b = append(b[:n], v...)
			walk(i + 1)
		}
		b = b[:n]
	}
	walk(0)
}

// parseTerm reads one part of a pattern; its brackets are known to pair.
func parseTerm(pattern string, p span) (term, error) {
	var t term
	s := p.text
	for s != "" {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			t.segments = append(t.segments, []string{s})
			break
		}
		if i > 0 {
			t.segments = append(t.segments, []string{s[:i]})
		}
		j := strings.IndexByte(s, ']')
		offset := p.start + len(p.text) - len(s) + i
		values, err := parseGroup(pattern, offset, s[i+1:j])
		if err != nil {
			return term{}, err
		}
		t.segments = append(t.segments, values)
		s = s[j+1:]
	}
	return t, nil
}

// parseGroup reads the inside of a bracket group at offset: numbers and
// ranges separated by commas.
func parseGroup(pattern string, offset int, body string) ([]string, error) {
	fail := func(format string, args ...any) error {
		return &Error{pattern, offset, fmt.Sprintf("in the bracket at column %d, ", offset+1) + fmt.Sprintf(format, args...)}
	}
	if body == "" {
		return nil, fail("there is no number")
	}
	var values []string
	for _, item := range strings.Split(body, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		if !isRange {
			hi = lo
		}
		a, err := parseNumber(lo)
		if err != nil {
			return nil, fail("%q %s", item, err)
		}
		b, err := parseNumber(hi)
		if err != nil {
			return nil, fail("%q %s", item, err)
		}
		if b < a {
			return nil, fail("the range %s goes down; write %s-%s", item, hi, lo)
		}
		// A leading zero pads every number of the item to its width, as
		// clush reads "[08-10]"; the end must then agree.
		width := 0
		if len(lo) > 1 && lo[0] == '0' {
			width = len(lo)
			if len(hi) > 1 && hi[0] == '0' && len(hi) != width {
				return nil, fail("the range %s pads its ends to different widths", item)
			}
		}
		if b-a >= int64(MaxNames-len(values)) {
			return nil, fail("the range %s makes more than %d names", item, MaxNames)
		}
		for n := a; n <= b; n++ {
			values = append(values, fmt.Sprintf("%0*d", width, n))
		}
	}
	return values, nil
}

// parseNumber reads a bracket group's number: digits only.
func parseNumber(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("lacks a number")
	}
	if strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("is not a number or a range of numbers")
	}
	if len(s) > maxDigits {
		return 0, fmt.Errorf("has a number of more than %d digits", maxDigits)
	}
	return strconv.ParseInt(s, 10, 64)
}

// Fold writes names as a nodeset pattern: web01, web02, web03, db1 ->
// "web[01-03],db1", h1 .. h2000 -> "h[1-2000]", and web1.example.com,
// web2.example.com -> "web[1-2].example.com". Names holding a number are
// grouped by the last number in them: by what precedes and follows it,
// and by its padding. A number written with a leading zero (web01) is
// padded to its width and groups with numbers of that width; one without
// (web7, web10) groups with the unpadded ones of any width, unless names
// padded to its width share its prefix and suffix (web10 goes with
// web01). Each group is written at the place of its first name, its
// numbers sorted and each once, consecutive ones as a range. Other names
// are written as they are. Expand(Fold(names)) gives the same set of
// names back. Fold of no names is "".
func Fold(names []string) string {
	type split struct {
		prefix, digits, suffix string
	}
	type run struct {
		prefix, suffix string
		width          int // 0: unpadded
		nums           []int64
	}
	splits := make([]split, len(names))
	padded := make(map[[3]string]bool) // prefix, suffix, width of padded numbers
	for k, h := range names {
		end := len(h)
		for end > 0 && (h[end-1] < '0' || h[end-1] > '9') {
			end--
		}
		i := end
		for i > 0 && h[i-1] >= '0' && h[i-1] <= '9' {
			i--
		}
		// A name that starts with its number, or whose suffix holds a
		// bracket or comma, is left whole: folded, it would read back
		// differently.
		if i == end || i == 0 || end-i > maxDigits || strings.ContainsAny(h[end:], "[],") {
			continue
		}
		splits[k] = split{h[:i], h[i:end], h[end:]}
		if d := h[i:end]; len(d) > 1 && d[0] == '0' {
			padded[[3]string{h[:i], h[end:], strconv.Itoa(len(d))}] = true
		}
	}
	byKey := make(map[[3]string]*run)
	var parts []any // string or *run, in order of first appearance
	for k, h := range names {
		sp := splits[k]
		n, err := strconv.ParseInt(sp.digits, 10, 64)
		if sp.digits == "" || err != nil {
			parts = append(parts, h)
			continue
		}
		width := 0
		if key := [3]string{sp.prefix, sp.suffix, strconv.Itoa(len(sp.digits))}; padded[key] {
			width = len(sp.digits)
		}
		key := [3]string{sp.prefix, sp.suffix, strconv.Itoa(width)}
		r := byKey[key]
		if r == nil {
			r = &run{prefix: sp.prefix, suffix: sp.suffix, width: width}
			byKey[key] = r
			parts = append(parts, r)
		}
		r.nums = append(r.nums, n)
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case *run:
			b.WriteString(p.prefix)
			writeRanges(&b, p.nums, p.width)
			b.WriteString(p.suffix)
		}
	}
	return b.String()
}

// writeRanges writes "07" for one number, else "[01-03,07]".
func writeRanges(b *strings.Builder, nums []int64, width int) {
	nums = slices.Clone(nums)
	slices.Sort(nums)
	nums = slices.Compact(nums)
	if len(nums) == 1 {
		fmt.Fprintf(b, "%0*d", width, nums[0])
		return
	}
	b.WriteByte('[')
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, "%0*d", width, nums[i])
		if j > i {
			fmt.Fprintf(b, "-%0*d", width, nums[j])
		}
		i = j + 1
	}
	b.WriteByte(']')
}

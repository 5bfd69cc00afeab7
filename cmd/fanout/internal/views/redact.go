package views

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fanout/fanout/core"
)

// Redacted replaces a sensitive value wherever a view would show it: core's
// placeholder, which the sudo password's filter writes too.
const Redacted = core.Redacted

// Redactor hides the values of sensitive variables. Commands are built
// with the real values (the hosts need them), so hiding them is the
// views' job: plans, output lines, causes, JSON. A nil *Redactor changes
// nothing. It is safe for concurrent use.
type Redactor struct {
	keep []string
	// r replaces the values; nil while there is none.
	r atomic.Pointer[strings.Replacer]

	mu     sync.Mutex // serialises Hide; guards values
	values []string
}

// NewRedactor returns a Redactor hiding every non-empty value, and those
// Hide adds later. Longer values are matched first, so a value containing
// another is hidden whole. The keep words (host and task names: fanout's
// own labels, shown unredacted in every line's prefix anyway) are never
// cut into: a value found inside one of them is left alone there.
// Which values are sensitive, and how short a value is too short to hide,
// is core.Secrets' rule.
func NewRedactor(values []string, keep ...string) *Redactor {
	rd := &Redactor{keep: slices.Clone(keep)}
	rd.set(slices.Clone(values))
	return rd
}

// Hide adds a value learned during the run, such as a password the
// operator typed at a prompt, hidden from then on in whatever the views
// show. A value too short for core's rule (core.Hideable) is not: it would
// mangle every word that contains it.
func (r *Redactor) Hide(value string) {
	if r == nil || !core.Hideable(value) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.values, value) {
		return
	}
	r.set(append(slices.Clone(r.values), value))
}

// set makes the replacer of values.
func (r *Redactor) set(values []string) {
	vs := slices.DeleteFunc(values, func(s string) bool { return s == "" })
	if len(vs) == 0 {
		return
	}
	slices.SortStableFunc(vs, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	vs = slices.Compact(vs)
	r.values = vs
	keep := slices.Clone(r.keep)
	slices.SortStableFunc(keep, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	pairs := make([]string, 0, 2*(len(vs)+len(keep)))
	// strings.Replacer tries its pairs in argument order at each place:
	// a kept word that holds a value, put first, is matched whole and
	// replaced by itself.
	for _, k := range keep {
		if k != "" && slices.ContainsFunc(vs, func(v string) bool { return k != v && strings.Contains(k, v) }) {
			pairs = append(pairs, k, k)
		}
	}
	for _, v := range vs {
		pairs = append(pairs, v, Redacted)
	}
	r.r.Store(strings.NewReplacer(pairs...))
}

// String returns s with every sensitive value replaced.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	rp := r.r.Load()
	if rp == nil {
		return s
	}
	return rp.Replace(s)
}

// active reports whether r has a value to hide yet: output with nothing
// to hide skips the per-line copy that redacting takes.
func (r *Redactor) active() bool {
	return r != nil && r.r.Load() != nil
}

// Strings returns a copy of ss, each redacted.
func (r *Redactor) Strings(ss []string) []string {
	if r == nil || ss == nil {
		return ss
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.String(s)
	}
	return out
}

package config

import (
	"slices"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// minSensitiveLen is the shortest value that counts as sensitive: core's
// rule (core.Hideable), which config cannot import. A shorter value is
// shown as it is, so what a function makes of it is too; and a short value
// such as 1 would make every function given a 1 sensitive.
const minSensitiveLen = 4

// DerivedSecret is a string that one of the configuration's functions
// computed from a sensitive value, such as base64encode(var.token):
// redaction matches text, so it must hide this text too, as Terraform's
// sensitive marks follow a value through functions.
type DerivedSecret struct {
	// From is the sensitive variable it derives from, as referenced
	// ("var.token").
	From string
	// Value is the derived string, at least 4 bytes long.
	Value string
}

// sensitiveValues are the values a configuration must hide: the sensitive
// variables' values, and what functions compute from them. Redaction is
// textual (core.Secrets), so a value derived from a secret is recognised
// by its text too: a function whose arguments hold a sensitive value, or
// a string containing one, makes every string of its result sensitive,
// but those it passed through from its other arguments (source). That
// covers chains (upper(base64encode(var.t))) and locals of locals,
// whose values are found again in the next call's arguments, without
// marking values, which every reader of them would have to unmark. It is
// safe for concurrent use: the core evaluates hosts' settings with the
// configuration's functions.
type sensitiveValues struct {
	mu sync.Mutex // guards the fields below
	// from maps each sensitive value to the variable it comes from.
	from map[string]string
	// derived are the values functions computed, in the order found.
	derived []DerivedSecret
}

// addVariable makes every string and number of a sensitive variable's
// value, of at least minSensitiveLen bytes, sensitive.
func (s *sensitiveValues) addVariable(name string, v cty.Value) {
	s.mu.Lock()
	defer s.mu.Unlock()
	eachText(v, func(text string) {
		if len(text) < minSensitiveLen {
			return
		}
		if _, ok := s.from[text]; !ok {
			if s.from == nil {
				s.from = map[string]string{}
			}
			s.from[text] = "var." + name
		}
	})
}

// derivedValues returns the values found so far.
func (s *sensitiveValues) derivedValues() []DerivedSecret {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.derived)
}

// source returns the variable a sensitive value in args comes from (the
// first by name when they hold several, so that a derived value's name is
// the same on every load), or "" when args hold none; and plain, the
// strings of args that hold none, with their map keys and attribute
// names. What a function passes through from plain is no secret: merge
// of a map of settings and { token = var.token } makes the settings no
// more sensitive, and keys(var.creds) are names, as core.Secrets has them.
func (s *sensitiveValues) source(args []cty.Value) (from string, plain map[string]bool) {
	plain = map[string]bool{}
	for _, a := range args {
		a, _ = a.UnmarkDeep()
		_ = cty.Walk(a, func(_ cty.Path, v cty.Value) (bool, error) {
			if !v.IsKnown() || v.IsNull() {
				return false, nil
			}
			if ty := v.Type(); ty.IsObjectType() {
				for name := range ty.AttributeTypes() {
					plain[name] = true
				}
			} else if ty.IsMapType() {
				for it := v.ElementIterator(); it.Next(); {
					k, _ := it.Element()
					plain[k.AsString()] = true
				}
			}
			return true, nil
		})
		eachText(a, func(text string) {
			name := ""
			if n, ok := s.from[text]; ok {
				name = n
			} else {
				// A string built around a secret ("x-${var.t}") holds it.
				for v, n := range s.from {
					if strings.Contains(text, v) && (name == "" || n < name) {
						name = n
					}
				}
			}
			if name == "" {
				plain[text] = true
			} else if from == "" || name < from {
				from = name
			}
		})
	}
	return from, plain
}

// wrap returns funcs with each function that computes a value from its
// arguments' values made to record what it computes from a sensitive
// value. try and can are left as they are: their arguments are
// expressions, whose own function calls are wrapped.
func (s *sensitiveValues) wrap(funcs map[string]function.Function) map[string]function.Function {
	out := make(map[string]function.Function, len(funcs))
	for name, f := range funcs {
		switch name {
		case "try", "can":
			out[name] = f
		default:
			out[name] = s.wrapFunc(f)
		}
	}
	return out
}

// wrapFunc is f, recording the strings of its result as derived when an
// argument holds a sensitive value. Its parameters let every argument
// through (unknown, null, marked, dynamic) so that f.Call alone checks
// them and refines its result: the wrapper changes no value nor error.
func (s *sensitiveValues) wrapFunc(f function.Function) function.Function {
	open := func(p function.Parameter) function.Parameter {
		p.AllowUnknown, p.AllowNull, p.AllowMarked, p.AllowDynamicType = true, true, true, true
		return p
	}
	params := f.Params()
	for i := range params {
		params[i] = open(params[i])
	}
	var varParam *function.Parameter
	if vp := f.VarParam(); vp != nil {
		p := open(*vp)
		varParam = &p
	}
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      params,
		VarParam:    varParam,
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			out, err := f.Call(args)
			if err != nil {
				return out, err
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.from) == 0 {
				return out, nil
			}
			if from, plain := s.source(args); from != "" {
				eachText(out, func(text string) {
					if _, known := s.from[text]; known || plain[text] || len(text) < minSensitiveLen {
						return
					}
					s.from[text] = from
					s.derived = append(s.derived, DerivedSecret{From: from, Value: text})
				})
			}
			return out, nil
		},
	})
}

// eachText passes f the text of every known string and number inside v,
// as a command would show it. Numbers too large to write out quickly are
// skipped: no secret is written that way.
func eachText(v cty.Value, f func(string)) {
	v, _ = v.UnmarkDeep()
	_ = cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if !v.IsKnown() || v.IsNull() {
			return false, nil
		}
		switch v.Type() {
		case cty.String:
			f(v.AsString())
		case cty.Number:
			if exp := v.AsBigFloat().MantExp(nil); exp <= 64 && exp >= -64 {
				f(v.AsBigFloat().Text('f', -1))
			}
		}
		return true, nil
	})
}

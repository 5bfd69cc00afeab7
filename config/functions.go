package config

import (
	"strings"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the functions expressions can call, by name: a small
// table from go-cty's stdlib and go-cty-yaml, plus shellquote, length and
// the inventory functions hostrange and csvdecode. file() is not among
// them: it reads relative to a configuration's directory, so only a
// configuration's own evaluation has it. Each call returns a new map.
func Functions() map[string]function.Function {
	return map[string]function.Function{
		"coalesce":   stdlib.CoalesceFunc,
		"concat":     stdlib.ConcatFunc,
		"contains":   stdlib.ContainsFunc,
		"csvdecode":  CSVDecodeFunc,
		"format":     stdlib.FormatFunc,
		"formatlist": stdlib.FormatListFunc,
		"hostrange":  HostRangeFunc,
		"join":       stdlib.JoinFunc,
		"jsondecode": JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"keys":       stdlib.KeysFunc,
		"length":     LengthFunc,
		"lookup":     stdlib.LookupFunc,
		"lower":      stdlib.LowerFunc,
		"max":        stdlib.MaxFunc,
		"merge":      stdlib.MergeFunc,
		"min":        stdlib.MinFunc,
		"range":      stdlib.RangeFunc,
		"replace":    stdlib.ReplaceFunc,
		"shellquote": ShellQuoteFunc,
		"split":      stdlib.SplitFunc,
		"tonumber":   stdlib.MakeToFunc(cty.Number),
		"toset":      stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":   stdlib.MakeToFunc(cty.String),
		"trimspace":  stdlib.TrimSpaceFunc,
		"upper":      stdlib.UpperFunc,
		"values":     stdlib.ValuesFunc,
		"yamldecode": YAMLDecodeFunc,
	}
}

// ShellQuoteFunc is shellquote(s): s as one word for sh, so that
// run = "grep ${shellquote(var.pattern)} app.log" is safe whatever the
// pattern holds.
var ShellQuoteFunc = function.New(&function.Spec{
	Description: "Quotes a string as a single sh word.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
	},
	Type:         function.StaticReturnType(cty.String),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal(ShellQuote(args[0].AsString())), nil
	},
})

// ShellQuote single-quotes s for sh: inside single quotes every byte
// stands for itself, and each single quote of s closes the quoting, is
// written escaped with a backslash, and reopens it. The empty string
// becomes an empty pair of quotes, so it stays one (empty) word.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LengthFunc is length(x): the number of elements of a list, set, tuple,
// map or object, or of characters in a string. go-cty's own length takes
// collections only.
var LengthFunc = function.New(&function.Spec{
	Description: "Returns the number of elements of a collection, or of characters in a string.",
	Params: []function.Parameter{
		{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true},
	},
	Type: func(args []cty.Value) (cty.Type, error) {
		ty := args[0].Type()
		if ty == cty.String || ty == cty.DynamicPseudoType || ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType() {
			return cty.Number, nil
		}
		return cty.NilType, function.NewArgErrorf(0, "a string, list, set, tuple, map or object is required, not %s", ty.FriendlyName())
	},
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v := args[0]
		switch ty := v.Type(); {
		case ty == cty.String:
			return cty.NumberIntVal(int64(graphemes(v.AsString()))), nil
		case ty.IsObjectType():
			return cty.NumberIntVal(int64(len(ty.AttributeTypes()))), nil
		}
		return v.Length(), nil
	},
})

// graphemes counts user-perceived characters, as stdlib's strlen does.
func graphemes(s string) int {
	n, _ := stdlib.Strlen(cty.StringVal(s))
	if !n.IsKnown() {
		return utf8.RuneCountInString(s)
	}
	i, _ := n.AsBigFloat().Int64()
	return int(i)
}

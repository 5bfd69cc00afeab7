package config

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the functions expressions can call, by name: a table
// from go-cty's stdlib (Terraform's names) and hcl's try and can, plus
// shellquote, length, startswith, endswith, base64encode, base64decode,
// sha256, Terraform's coalesce, lookup and replace, and the inventory functions hostrange, csvdecode and yamldecode. file() is not among
// them: it reads relative to a configuration's directory, so only a
// configuration's own evaluation has it. Each call returns a new map.
func Functions() map[string]function.Function {
	return map[string]function.Function{
		// Terraform's names, for what inventories and commands need.
		"abs":          stdlib.AbsoluteFunc,
		"base64decode": Base64DecodeFunc,
		"base64encode": Base64EncodeFunc,
		"can":          tryfunc.CanFunc,
		"ceil":         stdlib.CeilFunc,
		"chomp":        stdlib.ChompFunc,
		"compact":      stdlib.CompactFunc,
		"distinct":     stdlib.DistinctFunc,
		"element":      stdlib.ElementFunc,
		"endswith":     EndsWithFunc,
		"flatten":      stdlib.FlattenFunc,
		"floor":        stdlib.FloorFunc,
		"indent":       IndentFunc,
		"regex":        stdlib.RegexFunc,
		"regexall":     stdlib.RegexAllFunc,
		"reverse":      stdlib.ReverseListFunc,
		"sha256":       SHA256Func,
		"slice":        stdlib.SliceFunc,
		"sort":         stdlib.SortFunc,
		"startswith":   StartsWithFunc,
		"substr":       stdlib.SubstrFunc,
		"title":        stdlib.TitleFunc,
		"tobool":       stdlib.MakeToFunc(cty.Bool),
		"tolist":       stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":        stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"trim":         stdlib.TrimFunc,
		"trimprefix":   stdlib.TrimPrefixFunc,
		"trimsuffix":   stdlib.TrimSuffixFunc,
		"try":          tryfunc.TryFunc,
		"zipmap":       stdlib.ZipmapFunc,

		"coalesce":   CoalesceFunc,
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
		"lookup":     LookupFunc,
		"lower":      stdlib.LowerFunc,
		"max":        stdlib.MaxFunc,
		"merge":      stdlib.MergeFunc,
		"min":        stdlib.MinFunc,
		"range":      stdlib.RangeFunc,
		"replace":    ReplaceFunc,
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

// CoalesceFunc is coalesce(vals...), as Terraform has it: the first
// argument that is neither null nor an empty string, converted to the
// type all of them unify to; an error when there is none. go-cty's skips
// only nulls, so coalesce(var.name, "default") gave "" for an empty name.
var CoalesceFunc = function.New(&function.Spec{
	Description: "Returns the first argument that is not null nor an empty string.",
	VarParam: &function.Parameter{
		Name:             "vals",
		Type:             cty.DynamicPseudoType,
		AllowUnknown:     true,
		AllowDynamicType: true,
		AllowNull:        true,
	},
	Type: func(args []cty.Value) (cty.Type, error) {
		if len(args) == 0 {
			return cty.NilType, fmt.Errorf("at least one argument is required")
		}
		types := make([]cty.Type, len(args))
		for i, v := range args {
			types[i] = v.Type()
		}
		ty, _ := convert.UnifyUnsafe(types)
		if ty == cty.NilType {
			return cty.NilType, fmt.Errorf("all arguments must have the same type, or types one converts to (a string and a number convert to a string)")
		}
		return ty, nil
	},
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, ty cty.Type) (cty.Value, error) {
		for _, v := range args {
			v, _ = convert.Convert(v, ty) // the type unifies: Type checked it
			if !v.IsKnown() {
				return cty.UnknownVal(ty), nil
			}
			if v.IsNull() || ty == cty.String && v.RawEquals(cty.StringVal("")) {
				continue
			}
			return v, nil
		}
		return cty.NilVal, fmt.Errorf("all arguments are null or empty strings: give a last argument that is neither, as a default")
	},
})

// ReplaceFunc is replace(str, substr, replacement), as Terraform has it:
// a substr wrapped in forward slashes ("/\\..*$/") is a regular expression
// (RE2 syntax), whose groups the replacement names as $1 or ${name};
// any other substr is replaced where it occurs, as it is. go-cty's took
// "/.../" literally, so replace(name, "/\\..*$/", "") changed nothing.
var ReplaceFunc = function.New(&function.Spec{
	Description: "Replaces each occurrence of a substring, or of matches of a /regular expression/, in a string.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
		{Name: "substr", Type: cty.String},
		{Name: "replace", Type: cty.String},
	},
	Type:         function.StaticReturnType(cty.String),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		str, substr, repl := args[0].AsString(), args[1].AsString(), args[2].AsString()
		if len(substr) > 1 && substr[0] == '/' && substr[len(substr)-1] == '/' {
			re, err := regexp.Compile(substr[1 : len(substr)-1])
			if err != nil {
				return cty.UnknownVal(cty.String), function.NewArgErrorf(1,
					"a substring between slashes is a regular expression (RE2 syntax), and this one is not valid: %s; "+
						"to replace the text as it is, write it without the enclosing slashes", err)
			}
			return cty.StringVal(re.ReplaceAllString(str, repl)), nil
		}
		return cty.StringVal(strings.ReplaceAll(str, substr, repl)), nil
	},
})

// LookupFunc is lookup(map, key, default), as Terraform has it: the
// element of a map or object at key, or default when there is none. The
// default may be left out, as Terraform still allows (lookup(map, key) is
// map[key]), and a missing key is then an error; go-cty's requires it.
var LookupFunc = function.New(&function.Spec{
	Description: "Returns the element of a map at a key, or a default when the map has none.",
	Params: []function.Parameter{
		{Name: "inputMap", Type: cty.DynamicPseudoType},
		{Name: "key", Type: cty.String},
	},
	VarParam: &function.Parameter{
		Name:             "default",
		Type:             cty.DynamicPseudoType,
		AllowUnknown:     true,
		AllowDynamicType: true,
		AllowNull:        true,
	},
	Type: func(args []cty.Value) (cty.Type, error) {
		if len(args) > 3 {
			return cty.NilType, fmt.Errorf("lookup takes two or three arguments (a map, a key, and a default), not %d", len(args))
		}
		ty := args[0].Type()
		switch {
		case ty.IsObjectType():
			if !args[1].IsKnown() {
				return cty.DynamicPseudoType, nil
			}
			if key := args[1].AsString(); ty.HasAttribute(key) {
				return ty.AttributeType(key), nil
			}
			if len(args) == 3 {
				return args[2].Type(), nil
			}
			return cty.DynamicPseudoType, missingKey(args[1].AsString())
		case ty.IsMapType():
			if len(args) == 3 {
				if _, err := convert.Convert(args[2], ty.ElementType()); err != nil {
					return cty.NilType, function.NewArgErrorf(2, "the default must have the type of the map's elements, %s", ty.ElementType().FriendlyName())
				}
			}
			return ty.ElementType(), nil
		}
		return cty.NilType, function.NewArgErrorf(0, "lookup needs a map or an object, not %s", ty.FriendlyName())
	},
	Impl: func(args []cty.Value, ty cty.Type) (cty.Value, error) {
		m, key := args[0], args[1].AsString()
		if !m.IsWhollyKnown() {
			return cty.UnknownVal(ty), nil
		}
		if m.Type().IsObjectType() {
			if m.Type().HasAttribute(key) {
				return m.GetAttr(key), nil
			}
		} else if m.HasIndex(cty.StringVal(key)).True() {
			return m.Index(cty.StringVal(key)), nil
		}
		if len(args) == 3 {
			return convert.Convert(args[2], ty)
		}
		return cty.DynamicVal, missingKey(key)
	},
})

// missingKey is lookup's error for a key not found without a default.
func missingKey(key string) error {
	return function.NewArgErrorf(1, "the map has no key %q: give a default as a third argument, as in lookup(map, %q, \"\")", key, key)
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

// StartsWithFunc is startswith(str, prefix), as Terraform has it.
var StartsWithFunc = stringTest("Reports whether a string begins with a prefix.", "prefix", strings.HasPrefix)

// EndsWithFunc is endswith(str, suffix), as Terraform has it.
var EndsWithFunc = stringTest("Reports whether a string ends with a suffix.", "suffix", strings.HasSuffix)

func stringTest(desc, param string, test func(s, x string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "str", Type: cty.String}, {Name: param, Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// Base64EncodeFunc is base64encode(str): str's UTF-8 bytes in standard
// base64, as Terraform has it.
var Base64EncodeFunc = stringMap("Encodes a string in base64.", func(s string) (string, error) {
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
})

// Base64DecodeFunc is base64decode(str), whose result must be UTF-8 text,
// as Terraform has it.
var Base64DecodeFunc = stringMap("Decodes base64 into a string.", func(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("not valid base64: %w", err)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("the decoded bytes are not UTF-8 text")
	}
	return string(b), nil
})

// SHA256Func is sha256(str): the SHA-256 of str's UTF-8 bytes, in hex.
var SHA256Func = stringMap("Returns the SHA-256 of a string, in hex.", func(s string) (string, error) {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:]), nil
})

func stringMap(desc string, f func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Description:  desc,
		Params:       []function.Parameter{{Name: "str", Type: cty.String}},
		Type:         function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			out, err := f(args[0].AsString())
			if err != nil {
				return cty.DynamicVal, function.NewArgError(0, err)
			}
			return cty.StringVal(out), nil
		},
	})
}

// functionDiagnostics adds to hcl's "Call to unknown function" the
// functions there are (Terraform's users expect its whole library, which
// fanout has a part of), and keeps a function that panicked from showing
// a Go stack trace: hcl puts the trace in the detail.
func functionDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	for _, d := range diags {
		if i := strings.Index(d.Detail, "panic in function implementation"); i >= 0 {
			first, _, _ := strings.Cut(d.Detail[i:], "\n")
			d.Detail = d.Detail[:i] + strings.TrimRight(first, ".") + ". This is a bug in fanout: please report it with the expression."
		}
		if d.Summary == "Call to unknown function" {
			names := slices.Sorted(maps.Keys(Functions()))
			names = append(names, "file", "templatefile")
			slices.Sort(names)
			d.Detail += " The functions there are: " + strings.Join(names, ", ") + "."
		}
	}
	return diags
}

// maxIndent is the most spaces indent() adds to a line: a configuration
// indents text for a file, and indent(1000000000, s) made two gigabytes.
const maxIndent = 1000

// IndentFunc is indent(spaces, str), as Terraform has it, with spaces from
// 0 to maxIndent: go-cty's panicked on a negative count, which the
// diagnostic showed with a Go stack trace.
var IndentFunc = function.New(&function.Spec{
	Description: "Adds spaces to the start of every line of a string but the first.",
	Params: []function.Parameter{
		{Name: "spaces", Type: cty.Number},
		{Name: "str", Type: cty.String},
	},
	Type:         function.StaticReturnType(cty.String),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		n, acc := args[0].AsBigFloat().Int64()
		if acc != big.Exact || n < 0 || n > maxIndent {
			return cty.DynamicVal, function.NewArgErrorf(0, "spaces is a whole number from 0 to %d", maxIndent)
		}
		return stdlib.IndentFunc.Call(args)
	},
})

package views

import (
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// hclText writes v as HCL would, on one line, for the plan's rows of
// settings and vars: `{ team = "a", tier = "web" }`, `[80, 443]`.
// hclwrite's own rendering of an object spans lines, which broke a row of
// "Host vars" or "Transports" across the left margin. A name that is not
// an HCL identifier ("", "has space") is quoted, as HCL writes it.
func hclText(v cty.Value) string {
	var b strings.Builder
	writeHCL(&b, v)
	return b.String()
}

func writeHCL(b *strings.Builder, v cty.Value) {
	t := v.Type()
	switch {
	case v.IsNull() || !v.IsKnown() || t.IsPrimitiveType():
		b.Write(hclwrite.TokensForValue(v).Bytes())
	case t.IsObjectType() || t.IsMapType() || t.IsListType() || t.IsSetType() || t.IsTupleType():
		keyed := t.IsObjectType() || t.IsMapType()
		open, end := "[", "]"
		if keyed && v.LengthInt() > 0 {
			open, end = "{ ", " }"
		} else if keyed {
			open, end = "{", "}"
		}
		b.WriteString(open)
		for i, it := 0, v.ElementIterator(); it.Next(); i++ {
			k, ev := it.Element()
			if i > 0 {
				b.WriteString(", ")
			}
			if keyed {
				b.WriteString(hclName(k.AsString()))
				b.WriteString(" = ")
			}
			writeHCL(b, ev)
		}
		b.WriteString(end)
	default:
		b.Write(hclwrite.TokensForValue(v).Bytes())
	}
}

// hclName is name as an object's key: as it is when it is an identifier,
// else quoted.
func hclName(name string) string {
	if hclsyntax.ValidIdentifier(name) {
		return name
	}
	return string(hclwrite.TokensForValue(cty.StringVal(name)).Bytes())
}

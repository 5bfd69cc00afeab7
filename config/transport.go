package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// builtinTransports ship inside the fanout binary; a host may use them
// without a transport block.
var builtinTransports = []string{"local", "ssh"}

func isBuiltinTransport(name string) bool { return slices.Contains(builtinTransports, name) }

// transportDecl is a decoded transport block with sha256 unevaluated.
type transportDecl struct {
	t      *Transport
	sha256 *hcl.Attribute
}

func decodeTransportBlock(block *hcl.Block) (*transportDecl, hcl.Diagnostics) {
	t := &Transport{
		Name:      block.Labels[0],
		DeclRange: block.DefRange,
		NameRange: block.LabelRanges[0],
	}
	diags := checkName("transport", t.Name, t.NameRange)
	content, remain, d := block.Body.PartialContent(transportSchema)
	diags = diags.Extend(d)
	t.Config = remain
	return &transportDecl{t: t, sha256: content.Attributes["sha256"]}, diags
}

// evalTransport evaluates and checks the sha256 pin.
func (e *evaluator) evalTransport(d *transportDecl) hcl.Diagnostics {
	sum, ok, diags := e.stringAttr(d.sha256)
	if !ok {
		return diags
	}
	if isBuiltinTransport(d.t.Name) {
		return diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Unexpected sha256 for transport %q", d.t.Name),
			Detail: fmt.Sprintf("The %q transport is built into fanout, so there is no plugin binary to pin. "+
				"Remove sha256.", d.t.Name),
			Subject: d.sha256.NameRange.Ptr(),
			Context: d.sha256.Range.Ptr(),
		})
	}
	if !isSHA256(sum) {
		return diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid sha256 for transport %q", d.t.Name),
			Detail: fmt.Sprintf("sha256 must be the 64 hexadecimal digits of the plugin binary's SHA-256 checksum, "+
				"as printed by sha256sum fanout-transport-%s; %q is not.", d.t.Name, sum),
			Subject: d.sha256.Expr.Range().Ptr(),
			Context: d.sha256.Range.Ptr(),
		})
	}
	d.t.SHA256 = strings.ToLower(sum)
	return diags
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// ReservedTransportAttributes returns the names of the attributes fanout
// itself reads from a transport block: a transport's schema must not
// declare them, since its plugin would never receive them.
func ReservedTransportAttributes() []string { return attributeNames(transportSchema) }

// attributeNames lists the names of the attributes of schema.
func attributeNames(schema *hcl.BodySchema) []string {
	names := make([]string, len(schema.Attributes))
	for i, a := range schema.Attributes {
		names[i] = a.Name
	}
	return names
}

// transportSchema holds the attributes fanout itself reads; the rest of a
// transport block is left in Transport.Config for the plugin's schema.
var transportSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "sha256"},
	},
}

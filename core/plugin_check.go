package core

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// checkPlugin checks what a transport's plugin declared about itself
// against the configuration that names it. A schema that declares an
// attribute fanout itself reads (a transport block's sha256, a host
// block's address, roles or transport) is refused: the plugin would never
// receive it, and an operator setting it would not know. A plugin whose
// Describe name is not the transport's is used all the same (the
// configuration and the binary's name decide which plugin runs), with a
// warning: it is most often the wrong binary under that name.
func checkPlugin(cfg *config.Config, name string, desc *sdk.DescribeResponse) hcl.Diagnostics {
	subject, context := pluginRange(cfg, name)
	var diags hcl.Diagnostics
	reserved := func(schema sdk.Schema, block string, names []string) {
		for _, a := range schema.Attributes {
			if slices.Contains(names, a.Name) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Transport plugin %q declares the reserved attribute %q", name, a.Name),
					Detail: fmt.Sprintf("The plugin's %s schema declares %q, which fanout reads from every %s block itself, so the plugin would never receive it. "+
						"Attributes fanout reserves in %s blocks: %s. The plugin must name the attribute otherwise; fanout refuses the plugin until it does.",
						block, a.Name, block, block, quotedList(names)),
					Subject: subject,
					Context: context,
				})
			}
		}
	}
	reserved(desc.TransportSchema, "transport", config.ReservedTransportAttributes())
	reserved(desc.HostSchema, "host", config.ReservedHostAttributes())
	// Names HCL cannot write, or one declared twice, would make the
	// block's decoding fail or take one for the other: the plugin's bug,
	// said as such.
	malformed := func(schema sdk.Schema, block string) {
		seen := map[string]bool{}
		for _, a := range schema.Attributes {
			why := ""
			switch {
			case !hclsyntax.ValidIdentifier(a.Name):
				why = "is not a name HCL can write"
			case seen[a.Name]:
				why = "is declared twice"
			}
			seen[a.Name] = true
			if why != "" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Transport plugin %q declares a bad %s schema", name, block),
					Detail: fmt.Sprintf("Its %s block attribute %q %s. This is a bug in the plugin (sdktest.Conformance finds it): "+
						"report it to the plugin's author; fanout refuses the plugin until it is fixed.", block, cleanText(a.Name), why),
					Subject: subject,
					Context: context,
				})
			}
		}
	}
	malformed(desc.TransportSchema, "transport")
	malformed(desc.HostSchema, "host")
	if desc.Name != name {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  fmt.Sprintf("Transport plugin %q calls itself %q", name, desc.Name),
			Detail: fmt.Sprintf("The plugin started for transport %q describes itself as %q. fanout uses it as %q, as the configuration names it, "+
				"but the binary may not be the plugin meant: check which binary is installed under that name (\"fanout plugins\" shows its path).",
				name, desc.Name, name),
			Subject: subject,
			Context: context,
		})
	}
	return diags
}

// pluginRange is where a diagnostic about a transport's plugin points: its
// transport block, or the first host using an undeclared one.
func pluginRange(cfg *config.Config, name string) (subject, context *hcl.Range) {
	if block := cfg.Transports[name]; block != nil {
		return block.NameRange.Ptr(), block.DeclRange.Ptr()
	}
	return firstHostUsing(cfg, name), nil
}

// quotedList is names quoted and separated by commas.
func quotedList(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", n)
	}
	return s
}

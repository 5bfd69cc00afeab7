package config

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// file is one .hcl file decoded on its own: blocks, names and ranges, with
// expressions left unevaluated, since they may refer to variables, locals
// and hosts of other files. buildConfig merges files into a Config.
type file struct {
	name       string
	settings   []*settingsDecl
	variables  []*variableDecl
	locals     []*Local
	transports []*transportDecl
	hosts      []*hostDecl
	tasks      []*taskDecl
	groups     []*groupDecl
}

// decodeFile decodes the top level of one file. Decoding goes on past
// errors, so one pass reports every mistake it can; the block decoders
// always return a declaration, however wrong the block.
func decodeFile(name string, body hcl.Body) (*file, hcl.Diagnostics) {
	f := &file{name: name}
	var diags hcl.Diagnostics

	// A parallelize block takes zero or one label, which a BodySchema cannot
	// say, so those blocks are taken out and the rest goes through
	// rootSchema, keeping HCL's own messages (and suggestions) for unknown
	// blocks and arguments.
	var groupBlocks []*hcl.Block
	if sb, ok := body.(*hclsyntax.Body); ok {
		rest := *sb
		rest.Blocks = nil
		for _, b := range sb.Blocks {
			if b.Type == "parallelize" {
				groupBlocks = append(groupBlocks, b.AsHCLBlock())
				continue
			}
			rest.Blocks = append(rest.Blocks, b)
		}
		body = &rest
	}

	content, contentDiags := body.Content(rootSchema)
	diags = diags.Extend(contentDiags)

	for _, block := range content.Blocks {
		switch block.Type {
		case "fanout":
			s, d := decodeSettingsBlock(block)
			f.settings, diags = append(f.settings, s), diags.Extend(d)
		case "variable":
			v, d := decodeVariableBlock(block)
			f.variables, diags = append(f.variables, v), diags.Extend(d)
		case "locals":
			ls, d := decodeLocalsBlock(block)
			f.locals, diags = append(f.locals, ls...), diags.Extend(d)
		case "transport":
			t, d := decodeTransportBlock(block)
			f.transports, diags = append(f.transports, t), diags.Extend(d)
		case "host":
			h, d := decodeHostBlock(block)
			f.hosts, diags = append(f.hosts, h), diags.Extend(d)
		case "task":
			t, d := decodeTaskBlock(block)
			f.tasks, diags = append(f.tasks, t), diags.Extend(d)
		case "parallelize":
			// Only reached by a body that is not native syntax.
			groupBlocks = append(groupBlocks, block)
		default:
			// rootSchema and this switch disagree: a bug here, not in the
			// user's file.
			panic(fmt.Sprintf("config: no decoder for block type %q", block.Type))
		}
	}
	for _, block := range groupBlocks {
		g, d := decodeParallelizeBlock(block)
		f.groups, diags = append(f.groups, g), diags.Extend(d)
	}
	return f, diags
}

// checkName reports a block label that cannot be used the way the language
// uses it: kind is the block type, as in "task".
func checkName(kind, name string, rng hcl.Range) hcl.Diagnostics {
	if hclsyntax.ValidIdentifier(name) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s name %q", kind, name),
		Detail: fmt.Sprintf("A %s name must start with a letter or an underscore and contain only letters, digits, "+
			"underscores and dashes, so that it can be referenced as %s.NAME. Rename it, for example to %q.",
			kind, referenceRoot(kind), suggestIdentifier(name)),
		Subject: rng.Ptr(),
	}}
}

// checkHostName reports a host label that is empty, holds blanks or
// characters a terminal obeys rather than shows (an inventory's
// "web\x1b]0;title\a" would retitle the operator's terminal on every
// line naming it), or is not UTF-8. Host names need not be identifiers: a
// name such as "db1.example.com" doubles as the address and is referenced
// as host["db1.example.com"].
func checkHostName(name string, rng hcl.Range) hcl.Diagnostics {
	if name != "" && utf8.ValidString(name) && !strings.ContainsFunc(name, badHostRune) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid host name %q", name),
		Detail: "A host name must be non-empty UTF-8 text with no spaces and no control characters; it names the host " +
			"in task's on lists, in output, and is its address unless address is set.",
		Subject: rng.Ptr(),
	}}
}

// badHostRune reports a rune a host name cannot hold: a blank, a control
// character (C0, DEL, C1) or a bidirectional control, which reorders the
// text shown after it.
func badHostRune(r rune) bool {
	return isSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// referenceRoot is how references to a kind of block start.
func referenceRoot(kind string) string {
	if kind == "variable" {
		return "var"
	}
	return kind
}

// suggestIdentifier turns an invalid name into a close valid one, for a
// diagnostic's example.
func suggestIdentifier(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r == '-':
			// No identifier starts with one: "-x" was suggested for "-x".
			if b.Len() > 0 {
				b.WriteRune(r)
			}
		case r >= '0' && r <= '9':
			if b.Len() == 0 {
				b.WriteRune('_')
			}
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "name"
	}
	return b.String()
}

// rootSchema is the top level of a file. parallelize blocks, with their
// optional label, are taken out before it is applied (see decodeFile); the
// entry here only lets HCL suggest "parallelize" for a misspelt block type.
var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "fanout"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "transport", LabelNames: []string{"name"}},
		{Type: "host", LabelNames: []string{"name"}},
		{Type: "task", LabelNames: []string{"name"}},
		{Type: "parallelize"},
	},
}

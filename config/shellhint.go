package config

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// A command is shell text inside an HCL string, so the shell's ${NAME}
// is read by fanout first, as an expression: ${HOME} in a run is
// "Unknown variable", and ${f%.txt} does not parse. hcl says what is
// wrong but not that the shell's syntax is the cause, which for a command
// it nearly always is; these add the escape that passes it on.

// shellAttrs are the attributes of a task whose strings are commands, or
// their environment (sudo_user is a user name, given to sudo -u as it
// is: $${USER} there would be no name).
func (d *taskDecl) shellAttrs() []*hcl.Attribute {
	var attrs []*hcl.Attribute
	for _, name := range []string{"run", "rollback", "env", "only_if", "unless"} {
		if a := d.attrs[name]; a != nil {
			attrs = append(attrs, a)
		}
	}
	if d.check != nil && d.check.attrs["run"] != nil {
		attrs = append(attrs, d.check.attrs["run"])
	}
	return attrs
}

// unknownVariable reads the name out of hcl's "Unknown variable" detail.
var unknownVariable = regexp.MustCompile(`^There is no variable named "([^"]+)"`)

// shellVariableHints adds to hcl's "Unknown variable" in one of attrs the
// escape that gives the shell its variable; in env, whose values no shell
// reads, where to use it instead.
func shellVariableHints(diags hcl.Diagnostics, attrs []*hcl.Attribute) hcl.Diagnostics {
	for _, d := range diags {
		if d.Summary != "Unknown variable" || d.Subject == nil {
			continue
		}
		attr := within(*d.Subject, attrs)
		m := unknownVariable.FindStringSubmatch(d.Detail)
		// hcl's "Did you mean "var"?" names the likelier mistake, and a
		// shell variable is a bare name: ${vars.x} is no shell's.
		if attr == nil || m == nil || strings.Contains(d.Detail, "Did you mean") || !bareName(attr.Expr, *d.Subject) {
			continue
		}
		name := m[1]
		d.Detail += " fanout evaluates ${...} itself, before any shell sees the text, as an expression of its own " +
			"variables (var.NAME, local.NAME, target.name...)"
		if attr.Name == "env" {
			d.Detail += fmt.Sprintf("; and env values are set as they are, not read by a shell, so the host's $%s is not "+
				"expanded in them: use it in run instead, such as run = \"X=\\\"$%s/more\\\" app\".", name, name)
			continue
		}
		d.Detail += fmt.Sprintf(". If ${%s} is for the shell, write $${%s} (or $%s), which fanout passes on as ${%s}.",
			name, name, name, name)
	}
	return diags
}

// bareName reports whether the reference of expr at rng is a name alone,
// with no attribute or index after it.
func bareName(expr hcl.Expression, rng hcl.Range) bool {
	for _, tr := range expr.Variables() {
		if tr[0].SourceRange() == rng {
			return len(tr) == 1
		}
	}
	return false
}

// within returns the one of attrs r lies inside, or nil.
func within(r hcl.Range, attrs []*hcl.Attribute) *hcl.Attribute {
	for _, a := range attrs {
		if a.Range.Filename == r.Filename && a.Range.Start.Byte <= r.Start.Byte && r.End.Byte <= a.Range.End.Byte {
			return a
		}
	}
	return nil
}

// aroundSubject is the text of src from the line before r's first to
// r's last, at most a few KiB of it: a shell expansion starting with # is
// read as a comment, so the error is on the next line ("${#x}").
func aroundSubject(src []byte, r hcl.Range) []byte {
	const most = 4096
	clamp := func(n int) int { return min(max(n, 0), len(src)) }
	start, end := clamp(r.Start.Byte), clamp(r.End.Byte)
	lo := max(start-most, 0)
	for n := 0; start > lo; start-- {
		if src[start-1] == '\n' {
			if n++; n == 2 {
				break
			}
		}
	}
	hi := min(end+most, len(src))
	if i := bytes.IndexByte(src[end:hi], '\n'); i >= 0 {
		hi = end + i
	}
	return src[start:hi]
}

// shellExpansion matches the start of a shell parameter expansion that is
// no HCL expression: ${f%.txt}, ${x#*/}, ${x:-default}, ${x^^}, ${#x},
// ${!x}, ${@}.
var shellExpansion = regexp.MustCompile(`\$\{(?:[#!@*?$]|[A-Za-z_][A-Za-z0-9_]*(?:%|#|:|\^|,))`)

// shellSyntaxHints adds to a syntax error of src on a line holding (or
// just after one holding) a shell parameter expansion the escape that
// passes it on; hcl's own message gives it only for some of them.
func shellSyntaxHints(diags hcl.Diagnostics, src []byte) hcl.Diagnostics {
	for _, d := range diags {
		if d.Severity != hcl.DiagError || d.Subject == nil || strings.Contains(d.Detail, "$${") {
			continue
		}
		text := aroundSubject(src, *d.Subject)
		loc := shellExpansion.FindIndex(text)
		if loc == nil {
			continue
		}
		expansion := text[loc[0]:]
		if end := bytes.IndexAny(expansion, "}\n"); end >= 0 && expansion[end] == '}' {
			expansion = expansion[:end+1]
		} else {
			expansion = expansion[:loc[1]-loc[0]]
		}
		d.Detail += fmt.Sprintf(" fanout evaluates ${...} in a string itself, as an expression; if %s is for the shell, "+
			"write $%s, which fanout passes on as %s.", expansion, expansion, expansion)
	}
	return diags
}

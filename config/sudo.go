package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// evalSudo evaluates a task's sudo and sudo_user: sudo_user implies sudo,
// and sudo alone runs as root.
func (e *evaluator) evalSudo(d *taskDecl) hcl.Diagnostics {
	t := d.t
	b, ok, diags := e.boolAttr(d.attrs["sudo"])
	if ok {
		t.Sudo = b
		t.SudoRange = d.attrs["sudo"].Range
	}
	user, ok, dd := e.stringAttr(d.attrs["sudo_user"])
	diags = diags.Extend(dd)
	if !ok {
		if t.Sudo {
			t.SudoUser = "root"
		}
		return diags
	}
	attr := d.attrs["sudo_user"]
	switch {
	case !ValidUserName(user):
		return diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid sudo_user in task %q", t.Name),
			Detail: fmt.Sprintf("sudo_user names the user the task's commands run as, such as \"app\" or \"root\"; "+
				"%q is not a user name (letters, digits, '.', '_' and '-', not starting with '-').", user),
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		})
	case d.attrs["sudo"] != nil && !t.Sudo:
		return diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Conflicting sudo and sudo_user in task %q", t.Name),
			Detail: "sudo_user runs the task's commands through sudo as that user, and sudo = false says not to. " +
				"Remove one of them.",
			Subject: attr.Range.Ptr(),
		})
	}
	t.Sudo, t.SudoUser, t.SudoRange = true, user, attr.Range
	return diags
}

// ValidUserName reports whether s can be given to sudo -u as a user name:
// no option, no shell word splitting.
func ValidUserName(s string) bool {
	if s == "" || s[0] == '-' || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// evalSudoPassword evaluates the fanout block's sudo_password, which must
// be a reference to a sensitive variable: a password written in the file,
// or held by a variable shown in plans and journals, is no secret.
func (e *evaluator) evalSudoPassword(attr *hcl.Attribute, s *Settings) hcl.Diagnostics {
	if attr == nil {
		return nil
	}
	tr, d := hcl.AbsTraversalForExpr(attr.Expr)
	name, _, ok := traversalName(tr)
	if d.HasErrors() || !ok || tr.RootName() != "var" || len(tr) != 2 || !e.sensitive[name] {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid sudo_password",
			Detail: "sudo_password must be a reference to a sensitive variable, such as var.sudo_password declared " +
				"with sensitive = true, so that the password is never shown nor written to a journal. Leave it out " +
				"to be asked for the password on the terminal, once, when a host asks for one.",
			Subject: attr.Expr.Range().Ptr(),
			Context: attr.Range.Ptr(),
		}}
	}
	v, ok, diags := e.stringAttr(attr)
	if ok {
		s.SudoPasswordName, s.SudoPassword = "var."+name, v
	}
	return diags
}

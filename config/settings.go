package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// Defaults of the fanout block.
const (
	// DefaultThreads is the threads of a parallelize block when neither it
	// nor the fanout block sets one.
	DefaultThreads = 10
	// DefaultOnFailure is the on_failure of a configuration that sets none.
	DefaultOnFailure = OnFailureRollback
)

// settingsDecl is a fanout block as written. The block is flat, so gohcl
// decodes it; its attributes are evaluated once variables and locals are
// known.
type settingsDecl struct {
	Threads   *hcl.Attribute `hcl:"threads,optional"`
	OnFailure *hcl.Attribute `hcl:"on_failure,optional"`
	Preflight *hcl.Attribute `hcl:"preflight,optional"`
	// SudoPassword must reference a sensitive variable (sudo.go).
	SudoPassword *hcl.Attribute `hcl:"sudo_password,optional"`
	DeclRange    hcl.Range      // set by decodeSettingsBlock, not gohcl
}

func decodeSettingsBlock(block *hcl.Block) (*settingsDecl, hcl.Diagnostics) {
	s := &settingsDecl{}
	diags := gohcl.DecodeBody(block.Body, nil, s)
	s.DeclRange = block.DefRange
	return s, diags
}

// evalSettings evaluates the fanout block, if any, over the defaults.
func (e *evaluator) evalSettings(decl *settingsDecl) (*Settings, hcl.Diagnostics) {
	s := &Settings{Threads: DefaultThreads, OnFailure: DefaultOnFailure, Preflight: true}
	if decl == nil {
		return s, nil
	}
	s.DeclRange = decl.DeclRange
	var diags hcl.Diagnostics

	n, ok, d := e.wholeNumberAttr(decl.Threads, 1, "Invalid threads")
	diags = diags.Extend(d)
	if ok {
		s.Threads = n
	}

	v, ok, d := e.stringAttr(decl.OnFailure)
	diags = diags.Extend(d)
	if ok {
		switch OnFailure(v) {
		case OnFailureRollback, OnFailureStop, OnFailureContinue:
			s.OnFailure = OnFailure(v)
		default:
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid on_failure",
				Detail: fmt.Sprintf("on_failure must be \"rollback\" (undo every task that started), \"stop\" "+
					"(start nothing new) or \"continue\" (run the rest, then fail), not %q.%s",
					v, didYouMean(v, []string{"rollback", "stop", "continue"})),
				Subject: decl.OnFailure.Expr.Range().Ptr(),
				Context: decl.OnFailure.Range.Ptr(),
			})
		}
	}

	b, ok, d := e.boolAttr(decl.Preflight)
	diags = diags.Extend(d)
	if ok {
		s.Preflight = b
	}
	diags = diags.Extend(e.evalSudoPassword(decl.SudoPassword, s))
	return s, diags
}

package sdk

import (
	"fmt"
	"strings"
)

// Severity says whether a Diagnostic stops the run. Its values are those
// of the wire protocol's Diagnostic.Severity.
type Severity int

const (
	// SeverityInvalid is the zero Severity: a Diagnostic whose severity
	// was not set. fanout treats it as an Error, so that a forgotten
	// severity never hides a problem; set one explicitly.
	SeverityInvalid Severity = iota
	// Error diagnostics stop the run before anything executes.
	Error
	// Warning diagnostics are shown and the run goes on.
	Warning
)

// String returns "error", "warning" or "invalid".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "invalid"
}

// Diagnostic is a problem a plugin reports about its configuration. The core
// maps Attribute onto the source range of that attribute in the HCL file, so
// the operator sees it at the right line.
type Diagnostic struct {
	Severity Severity
	// Summary is a short phrase naming the problem, with no final period.
	Summary string
	// Detail is whole sentences: what is wrong and how to fix it.
	Detail string
	// Attribute is the path of the offending attribute, empty for the
	// block as a whole.
	Attribute AttributePath
}

// AttributePath names an attribute, then nested keys ("tags", "env").
type AttributePath []string

// String renders the path as HCL would ("a.b.c").
func (p AttributePath) String() string { return strings.Join(p, ".") }

// Diagnostics is a list of Diagnostic.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error; one whose
// severity was not set counts as an error.
func (d Diagnostics) HasErrors() bool {
	for _, diag := range d {
		if diag.Severity != Warning {
			return true
		}
	}
	return false
}

// Err returns the error diagnostics (those that are not warnings) joined
// as one error, or nil.
func (d Diagnostics) Err() error {
	var msgs []string
	for _, diag := range d {
		if diag.Severity == Warning {
			continue
		}
		m := diag.Summary
		if len(diag.Attribute) > 0 {
			m = diag.Attribute.String() + ": " + m
		}
		if diag.Detail != "" {
			m += ": " + diag.Detail
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

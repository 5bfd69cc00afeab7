// Package views renders what fanout's commands produce: plans, live runs,
// summaries and diagnostics. Views write to the streams they are given and
// never read input or steer a run.
package views

import (
	"io"

	"github.com/hashicorp/hcl/v2"
)

// Diagnostics writes diags as Terraform does: severity and summary, the
// file, line and source snippet with the range underlined, then the detail.
func Diagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) {
	if len(diags) == 0 {
		return
	}
	dw := hcl.NewDiagnosticTextWriter(w, files, 100, color)
	_ = dw.WriteDiagnostics(diags)
}

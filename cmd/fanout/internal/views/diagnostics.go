// Package views renders what fanout's commands produce: plans, live runs,
// summaries and diagnostics. Views write to the streams they are given and
// never read input or steer a run.
package views

import (
	"bytes"
	"encoding/json"
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

// jsonValidate is `fanout validate -json`, the shape editors already read
// from `terraform validate -json`.
type jsonValidate struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

// jsonDiagnostic is one hcl.Diagnostic.
type jsonDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail,omitempty"`
	Range    *jsonRange   `json:"range,omitempty"`
	Snippet  *jsonSnippet `json:"snippet,omitempty"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// jsonSnippet is the source lines of the range, for an editor without the
// file at hand.
type jsonSnippet struct {
	StartLine int    `json:"start_line"`
	Code      string `json:"code"`
}

// DiagnosticsJSON writes diags as one validate document; valid is true
// when there is no error.
func DiagnosticsJSON(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	doc := jsonValidate{FormatVersion: JSONVersion, Valid: !diags.HasErrors(), Diagnostics: []jsonDiagnostic{}}
	for _, d := range diags {
		jd := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			doc.WarningCount++
		} else {
			doc.ErrorCount++
		}
		if r := d.Subject; r != nil {
			jd.Range = &jsonRange{Filename: r.Filename,
				Start: jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:   jsonPos{r.End.Line, r.End.Column, r.End.Byte}}
			if f := files[r.Filename]; f != nil {
				jd.Snippet = snippet(f.Bytes, *r)
			}
		}
		doc.Diagnostics = append(doc.Diagnostics, jd)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)
}

// snippet returns the whole lines the range touches.
func snippet(src []byte, r hcl.Range) *jsonSnippet {
	lines := bytes.Split(src, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return nil
	}
	end := min(max(r.End.Line, r.Start.Line), len(lines))
	return &jsonSnippet{StartLine: r.Start.Line, Code: string(bytes.Join(lines[r.Start.Line-1:end], []byte("\n")))}
}

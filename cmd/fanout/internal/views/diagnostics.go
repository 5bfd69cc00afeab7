// Package views renders what fanout's commands produce: plans, live runs,
// summaries and diagnostics. Views write to the streams they are given and
// never read input or steer a run.
//
// A view renders into a buffer and hands it to its writer in one Write, so
// that a terminal never shows half of it and concurrent writers never
// interleave lines. That write's error is dropped, on purpose, with an
// explicit `_, _ =`: the command's streams record a failed write
// themselves (cmd/fanout's outputWriter) and the command, not the view,
// decides what a lost output means (`fanout apply` goes on to its end
// and says so); a view in the middle of rendering has nothing better to do.
package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Diagnostics writes diags as Terraform does: severity and summary, the
// file, line and source snippet with the range underlined, then the detail.
//
// The text is hcl's NewDiagnosticTextWriter's, but the snippet is cut
// here: that writer scans the whole file, a grapheme at a time, for every
// diagnostic, which made a 100 KB file of 5,000 errors take a minute.
// This reads only the lines around the range, so each diagnostic costs
// what its snippet holds.
func Diagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) {
	for _, d := range diags {
		var buf bytes.Buffer
		// Without files, the writer says the source is not available
		// where the snippet goes: that line is replaced.
		_ = hcl.NewDiagnosticTextWriter(&buf, nil, 100, color).WriteDiagnostic(d)
		text := buf.String()
		if d.Subject != nil {
			if f := files[d.Subject.Filename]; f != nil && f.Bytes != nil {
				none := fmt.Sprintf("  on %s line %d:\n  (source code not available)\n\n", d.Subject.Filename, d.Subject.Start.Line)
				text = strings.Replace(text, none, sourceSnippet(f, d, color), 1)
			}
		}
		_, _ = io.WriteString(w, text)
	}
}

// sourceSnippet writes what hcl's text writer writes for a diagnostic's
// subject, reading only the lines that may overlap it.
func sourceSnippet(f *hcl.File, d *hcl.Diagnostic, color bool) string {
	snip, highlight := *d.Subject, *d.Subject
	if d.Context != nil {
		snip = hcl.RangeOver(snip, *d.Context)
	}
	// An empty range cannot be shown, so it becomes one byte, as hcl does.
	if snip.Empty() {
		snip.End.Byte++
	}
	if highlight.Empty() {
		highlight.End.Byte++
	}
	var b strings.Builder
	ctx := ""
	if cs, ok := f.Nav.(interface{ ContextString(offset int) string }); ok {
		if c := cs.ContextString(d.Subject.Start.Byte); c != "" {
			ctx = ", in " + c
		}
	}
	fmt.Fprintf(&b, "  on %s line %d%s:\n", d.Subject.Filename, d.Subject.Start.Line, ctx)

	src := f.Bytes
	clamp := func(n int) int { return min(max(n, 0), len(src)) }
	// From the line before the range's first to the line after its last:
	// hcl counts a line touching the range at either end as overlapping.
	from := clamp(snip.Start.Byte)
	from = bytes.LastIndexByte(src[:from], '\n') + 1
	if from > 0 {
		from = bytes.LastIndexByte(src[:from-1], '\n') + 1
	}
	line := 1 + bytes.Count(src[:from], []byte("\n"))
	end := clamp(snip.End.Byte)
	for n := 0; n < 2 && end < len(src); n++ {
		if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
			end += i + 1
		} else {
			end = len(src)
		}
	}
	var hl, reset string
	if color {
		hl, reset = "\x1b[1;4m", "\x1b[0m"
	}
	for start := from; start < end; line++ {
		next := end
		if i := bytes.IndexByte(src[start:end], '\n'); i >= 0 {
			next = start + i + 1
		}
		text := bytes.TrimSuffix(bytes.TrimSuffix(src[start:next], []byte("\n")), []byte("\r"))
		lr := hcl.Range{Filename: snip.Filename,
			Start: hcl.Pos{Line: line, Column: 1, Byte: start},
			End:   hcl.Pos{Line: line, Column: 1 + len(text), Byte: start + len(text)}}
		start = next
		if !lr.Overlaps(snip) {
			continue
		}
		// A file's bytes are shown with their control characters escaped,
		// as a command's output is: a configuration from a pull request
		// must not retitle or clear the terminal.
		before, lit, after := lr.PartitionAround(highlight)
		if lit.Empty() {
			fmt.Fprintf(&b, "%4d: %s\n", line, appendEscaped(nil, clipEnd(text, 2*snippetPart)))
			continue
		}
		fmt.Fprintf(&b, "%4d: %s%s%s%s%s\n", line, appendEscaped(nil, clipStart(before.SliceBytes(src), snippetPart)), hl,
			appendEscaped(nil, clipEnd(lit.SliceBytes(src), snippetPart)), reset, appendEscaped(nil, clipEnd(after.SliceBytes(src), snippetPart)))
	}
	b.WriteByte('\n')
	return b.String()
}

// snippetPart is the most of a line a snippet shows on each side of what
// it underlines, and of what it underlines: a 100,000-character line
// printed whole buried the message under it.
const snippetPart = 120

// clipEnd returns b cut to its first n bytes (at a character's start)
// and "…", or b when it is no longer.
func clipEnd(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return append(slices.Clip(b[:n]), "…"...)
}

// clipStart returns "…" and the last n bytes of b (from a character's
// start), or b when it is no longer.
func clipStart(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	i := len(b) - n
	for i < len(b) && !utf8.RuneStart(b[i]) {
		i++
	}
	return append([]byte("…"), b[i:]...)
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

// snippet returns the whole lines the range touches. It reads from the
// line of the range's first byte, not from the top of the file, so that
// many diagnostics on a large file cost what their lines hold.
func snippet(src []byte, r hcl.Range) *jsonSnippet {
	if r.Start.Line < 1 || r.Start.Byte < 0 || r.Start.Byte > len(src) {
		return nil
	}
	from := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	to := from
	for n := max(r.End.Line, r.Start.Line) - r.Start.Line; ; n-- {
		i := bytes.IndexByte(src[to:], '\n')
		if i < 0 {
			to = len(src)
			break
		}
		if n == 0 {
			to += i
			break
		}
		to += i + 1
	}
	return &jsonSnippet{StartLine: r.Start.Line, Code: string(src[from:to])}
}

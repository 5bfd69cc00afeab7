package views

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestDiagnosticsAsHCLWrites: the text is what hcl's own writer prints,
// for every error file of config's tests and for ranges at awkward places.
func TestDiagnosticsAsHCLWrites(t *testing.T) {
	names, _ := filepath.Glob("../../../../config/testdata/errors/*.hcl")
	if len(names) < 20 {
		t.Fatalf("found %d error files", len(names))
	}
	for _, name := range names {
		p := config.NewParser(os.DirFS(filepath.Dir(name)))
		_, diags := p.LoadConfig(filepath.Base(name), config.LoadOptions{})
		compareWithHCL(t, filepath.Base(name), p.Files(), diags)
	}

	src := "a = 1\r\nb = \"x\"\n\nblock {\n  c = d\n}\nlast"
	f, _ := hclsyntax.ParseConfig([]byte(src), "s.hcl", hcl.InitialPos)
	files := map[string]*hcl.File{"s.hcl": f}
	at := func(line, col, b int) hcl.Pos { return hcl.Pos{Line: line, Column: col, Byte: b} }
	rng := func(s, e hcl.Pos) *hcl.Range { return &hcl.Range{Filename: "s.hcl", Start: s, End: e} }
	var diags hcl.Diagnostics
	for _, r := range []struct{ subject, context *hcl.Range }{
		{rng(at(1, 1, 0), at(1, 2, 1)), nil},
		{rng(at(1, 6, 5), at(1, 6, 5)), nil},                               // empty, on the \r
		{rng(at(2, 1, 7), at(2, 1, 7)), nil},                               // empty, at a line start
		{rng(at(2, 8, 14), at(3, 1, 15)), nil},                             // over a newline
		{rng(at(5, 7, 31), at(5, 8, 32)), rng(at(4, 1, 17), at(6, 2, 35))}, // with a context
		{rng(at(7, 1, 36), at(7, 5, 40)), nil},                             // the last line, no newline
		{rng(at(7, 5, 40), at(7, 5, 40)), nil},                             // empty, at the end of the file
		{rng(at(1, 1, 0), at(7, 5, 40)), nil},                              // everything
	} {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Here", Detail: "A detail.", Subject: r.subject, Context: r.context})
	}
	compareWithHCL(t, "synthetic", files, diags)
}

func compareWithHCL(t *testing.T, name string, files map[string]*hcl.File, diags hcl.Diagnostics) {
	t.Helper()
	for _, color := range []bool{false, true} {
		var want, got bytes.Buffer
		_ = hcl.NewDiagnosticTextWriter(&want, files, 100, color).WriteDiagnostics(diags)
		Diagnostics(&got, files, diags, color)
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("%s (color %v): text differs from hcl's (-want +got):\n%s", name, color, diff)
		}
	}
}

// TestDiagnosticsCostTheirSnippet: ten diagnostics at the end of a 4 MiB
// file print at once (hcl's writer scans the whole file for each).
func TestDiagnosticsCostTheirSnippet(t *testing.T) {
	src := strings.Repeat("# filler line\n", config.MaxFileSize/14-1) + "x = $\n"
	f := &hcl.File{Bytes: []byte(src)}
	line := strings.Count(src, "\n")
	pos := hcl.Pos{Line: line, Column: 5, Byte: len(src) - 2}
	var diags hcl.Diagnostics
	for range 10 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid character",
			Subject: &hcl.Range{Filename: "big.hcl", Start: pos, End: hcl.Pos{Line: line, Column: 6, Byte: len(src) - 1}}})
	}
	var b bytes.Buffer
	start := time.Now()
	Diagnostics(&b, map[string]*hcl.File{"big.hcl": f}, diags, false)
	if want := fmt.Sprintf("  on big.hcl line %d:\n%d: x = $\n", line, line); !strings.Contains(b.String(), want) {
		t.Fatalf("snippet:\n%s", b.String())
	}
	// Generous: hcl's writer takes seconds per diagnostic here.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ten diagnostics took %s", d)
	}
}

// TestDiagnosticsSnippetEscaped: a configuration's control characters
// are shown escaped in a snippet, as a command's output is on a terminal:
// a file from a pull request cannot retitle or clear the screen.
func TestDiagnosticsSnippetEscaped(t *testing.T) {
	src := "task \"a\" {\n  run = \"x\" \x1b]0;PWNED\a\x1b[2J \x9b2J bogus\n}\n"
	f, diags := hclsyntax.ParseConfig([]byte(src), "esc.hcl", hcl.InitialPos)
	if !diags.HasErrors() {
		t.Fatal("parsed")
	}
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		Diagnostics(&b, map[string]*hcl.File{"esc.hcl": f}, diags, color)
		// Without fanout's own colors, no ESC may be left.
		out := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(b.String(), "")
		if strings.ContainsAny(out, "\x1b\a") || strings.Contains(out, "\x9b") {
			t.Errorf("color %v: raw control characters in\n%q", color, out)
		}
		if !strings.Contains(out, `^[]0;PWNED^G^[[2J <0x9B>2J`) {
			t.Errorf("color %v: the line is not shown escaped:\n%s", color, out)
		}
	}
}

// TestDiagnosticsSnippetOfALongLine: a diagnostic on a line of 100,000
// characters shows the part around what it underlines, not the line.
func TestDiagnosticsSnippetOfALongLine(t *testing.T) {
	src := "locals {\n  x = a" + strings.Repeat(".b", 50_000) + " + é" + strings.Repeat("c", 50_000) + "\n}\n"
	f, diags := hclsyntax.ParseConfig([]byte(src), "long.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	at := strings.Index(src, "é")
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Here", Detail: "A detail.",
		Subject: &hcl.Range{Filename: "long.hcl", Start: hcl.Pos{Line: 2, Column: at - 8, Byte: at}, End: hcl.Pos{Line: 2, Column: at - 7, Byte: at + 2}}}
	var b bytes.Buffer
	Diagnostics(&b, map[string]*hcl.File{"long.hcl": f}, hcl.Diagnostics{d}, false)
	out := b.String()
	if len(out) > 1000 {
		t.Errorf("%d bytes for one diagnostic on a long line, want under 1000:\n%.300s", len(out), out)
	}
	if !strings.Contains(out, "2: …b.b.b") || !strings.Contains(out, "b.b + éccc") || !strings.Contains(out, "ccc…") || !utf8.ValidString(out) {
		t.Errorf("the snippet is not the part around the range:\n%s", out)
	}
}

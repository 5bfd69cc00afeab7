package config

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// TestHostileFiles: files built to exhaust the parser are refused, or
// reported in at most MaxDiagnostics diagnostics, at once.
func TestHostileFiles(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := func(n int, nul bool) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.UintN(256))
			if !nul && b[i] == 0 {
				b[i] = 'x'
			}
		}
		return string(b)
	}
	tests := []struct {
		name, src string
		want      string // the first diagnostic's summary
		line      int
	}{
		{"parens", "locals {\n  x = " + strings.Repeat("(", 100_000) + "\n}\n", "Configuration nested too deeply", 2},
		{"brackets", "locals {\n  x = " + strings.Repeat("[{", 60) + "\n}\n", "Configuration nested too deeply", 2},
		{"interpolations", "task \"t\" {\n  run = \"" + strings.Repeat("${", 30_000) + "\"\n}\n", "Configuration nested too deeply", 2},
		{"heredoc interpolations", "task \"t\" {\n  run = <<EOT\n" + strings.Repeat("${x", 200) + "\nEOT\n}\n", "Configuration nested too deeply", 3},
		{"unary", "locals {\n  x = " + strings.Repeat("- ", 50_000) + "1\n}\n", "Configuration nested too deeply", 2},
		{"binary chain", "locals {\n  x = 1" + strings.Repeat("+1", 2_000_000) + "\n}\n", "Configuration nested too deeply", 2},
		{"conditional chain", "locals {\n  x = " + strings.Repeat("true?", 500_000) + "1" + strings.Repeat(":2", 500_000) + "\n}\n", "Configuration nested too deeply", 2},
		{"and chain", "locals {\n  x = true" + strings.Repeat(" && true", 400_000) + "\n}\n", "Configuration nested too deeply", 2},
		{"minus chain", "locals {\n  x = 1" + strings.Repeat("-1", 1_000_000) + "\n}\n", "Configuration nested too deeply", 2},
		{"template directives", "locals {\n  x = \"" + strings.Repeat("%{if true}x", 200_000) + strings.Repeat("%{endif}", 200_000) + "\"\n}\n", "Configuration nested too deeply", 2},
		{"random bytes", random(100<<10, true), "Not a text file", 0},
		{"too large", strings.Repeat("# a comment line\n", MaxFileSize/17+1), "Configuration file too large", 1},
		{"random text", random(100<<10, false), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			p, cfg, diags := testLoad(t, map[string]string{"f.hcl": tt.src}, "f.hcl", LoadOptions{})
			text := render(t, p, diags)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
			if cfg != nil || !diags.HasErrors() {
				t.Fatalf("loaded, want errors")
			}
			if len(diags) > MaxDiagnostics+1 {
				t.Errorf("%d diagnostics, want at most %d and a count of the rest", len(diags), MaxDiagnostics+1)
			}
			if tt.want == "" {
				if last := diags[len(diags)-1]; len(diags) != MaxDiagnostics+1 || !strings.HasPrefix(last.Summary, "And ") {
					t.Errorf("last of %d diagnostics: %q, want the count of the rest", len(diags), last.Summary)
				}
				return
			}
			d := diags[0]
			if d.Summary != tt.want || (tt.line > 0 && (d.Subject == nil || d.Subject.Start.Line != tt.line)) {
				t.Errorf("first diagnostic %q at %v, want %q on line %d\n%s", d.Summary, d.Subject, tt.want, tt.line, text)
			}
		})
	}
}

// TestNestingScanReadsStrings: brackets in strings, comments and heredoc
// text do not count; interpolations do, and $${ is literal.
func TestNestingScanReadsStrings(t *testing.T) {
	deep := func(open, close string) string {
		return strings.Repeat(open, MaxNesting+1) + strings.Repeat(close, MaxNesting+1)
	}
	fine := []string{
		"x = \"" + strings.Repeat("(", 500) + "\"\n",
		"# " + strings.Repeat("{", 500) + "\n",
		"// " + strings.Repeat("[", 500) + "\n",
		"/* " + strings.Repeat("(", 500) + " */\n",
		"x = <<EOT\n" + strings.Repeat("{", 500) + "\nEOT\ny = 1\n",
		"x = <<-EOT\n  f() { " + strings.Repeat("$${", 500) + " }\n  EOT\n",
		"x = \"" + strings.Repeat("$${", 500) + "\"\n",
		"x = \"" + strings.Repeat("\\\"(", 500) + "\"\n",
		"x = " + strings.Repeat("(", MaxNesting) + "1" + strings.Repeat(")", MaxNesting) + "\n",
		strings.Repeat("x = a - b - !c\n", 500),
		strings.Repeat("b {\n", 50) + strings.Repeat("}\n", 50) + strings.Repeat("b {\n", 50) + strings.Repeat("}\n", 50),
		// Operators count per expression: an attribute, a list's or an
		// object's item, a call's argument, an interpolation.
		"x = 1" + strings.Repeat(" + 1", MaxOperators) + "\n",
		"b {\n" + strings.Repeat("  x = a + b * c == d && e\n", 2*MaxOperators) + "}\n",
		"b {\n" + strings.Repeat("  x = a + b # a comment\n  // another\n", 2*MaxOperators) + "}\n",
		"x = [" + strings.Repeat("1 + 1, -2, ", 2*MaxOperators) + "]\n",
		"x = {\n" + strings.Repeat("  a = b > c ? -1 : 2\n", 2*MaxOperators) + "}\n",
		"x = f(" + strings.Repeat("a / b, ", 2*MaxOperators) + ")\n",
		"x = \"" + strings.Repeat("${a + 1} ", 2*MaxOperators) + "\"\n",
		strings.Repeat("x = <<EOT\n${a + 1}\nEOT\n", 2*MaxOperators),
		"x = \"" + strings.Repeat("%{ if a }x%{ endif }%{~for i in b~}y%{endfor}", 5*MaxNesting) + "\"\n",
		"x = " + strings.Repeat("[-1, -2] ", 1) + "\ny = [" + strings.Repeat("-1,\n", 3*MaxOperators) + "]\n",
	}
	for _, src := range fine {
		if at, what := nestingScan([]byte(src)); at >= 0 {
			t.Errorf("nestingScan(%.60q) = %d (%s), want -1", src, at, what)
		}
	}
	deepSrcs := []string{
		"x = " + deep("(", ")"),
		"x = \"" + deep("${", "}") + "\"\n",
		"x = <<EOT\n" + deep("%{", "}") + "\nEOT\n",
		"x = \"${\"${" + deep("[", "]"),
		"x = " + strings.Repeat("!", MaxNesting+1) + "true",
		"x = 1" + strings.Repeat(" + 1", MaxOperators+1) + "\n",
		"x = (1" + strings.Repeat("\n * 1", MaxOperators+1) + ")\n",
		"x = [a" + strings.Repeat(" - a", MaxOperators+1) + "]\n",
		"x = \"${a" + strings.Repeat(" || a", MaxOperators+1) + "}\"\n",
		"x = a" + strings.Repeat(" != a", MaxOperators+1) + "\n",
	}
	for _, src := range deepSrcs {
		if at, _ := nestingScan([]byte(src)); at < 0 {
			t.Errorf("nestingScan(%.60q) = -1, want an offset", src)
		}
	}
	if got := checkSource("f.hcl", bytes.Repeat([]byte("x"), MaxFileSize)); got.HasErrors() {
		t.Errorf("a file of exactly MaxFileSize bytes is refused: %v", got)
	}
}

func TestCapDiagnostics(t *testing.T) {
	var diags hcl.Diagnostics
	for range 4979 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid character"})
	}
	got := capDiagnostics(diags)
	if len(got) != MaxDiagnostics+1 || got[MaxDiagnostics].Summary != "And 4,969 more diagnostics (4,969 errors)" {
		t.Errorf("%d diagnostics, last %q", len(got), got[len(got)-1].Summary)
	}
	for _, n := range []int{0, 5, 999, 1000, 1234567} {
		want := map[int]string{0: "0", 5: "5", 999: "999", 1000: "1,000", 1234567: "1,234,567"}[n]
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestCRLFFile: a configuration saved with Windows line endings runs the
// same commands as one with Unix ones: a heredoc's lines kept their CR,
// and `mkdir -p /tmp/x` made a directory named "x\r".
func TestCRLFFile(t *testing.T) {
	src := "task \"a\" {\r\n  run = <<EOT\r\nmkdir -p /tmp/x\r\nls -d /tmp/x/\r\nEOT\r\n}\r\n"
	_, cfg, diags := testLoad(t, map[string]string{"f.hcl": src}, "f.hcl", LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if got := cfg.Tasks[0].Run; len(got) != 1 || got[0] != "mkdir -p /tmp/x\nls -d /tmp/x/\n" {
		t.Errorf("run %q, want the heredoc's lines without CR", got)
	}
}

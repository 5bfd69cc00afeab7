package config

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Limits on what a configuration file may be, so that a hostile or
// mistaken file (a binary, a generated monster, 100,000 nested brackets)
// answers at once with a diagnostic rather than a stack overflow, minutes
// of work or gigabytes of memory.
const (
	// MaxFileSize is the largest configuration file read, in bytes: far
	// above any hand-written file or a fleet of thousands of hosts.
	MaxFileSize = 4 << 20
	// MaxNesting is the deepest nesting of brackets, parentheses, braces
	// and template interpolations (${ and %{), counted together, and the
	// longest run of unary operators (- and !), in an expression. The HCL
	// parser recurses at each level; past this, a file is refused before
	// it is parsed.
	MaxNesting = 100
	// MaxOperators is the most binary operators (+, *, &&, ==, ?...) one
	// expression chains: the parser and the evaluator recurse at each,
	// so two million of them (1+1+...) overflowed Go's stack.
	MaxOperators = 1000
	// MaxDiagnostics is how many diagnostics LoadConfig returns at most;
	// more are summed up in one last diagnostic, as compilers stop after
	// ten errors: the first ones are the ones to fix.
	MaxDiagnostics = 10
)

// CheckSource is checkSource, for the commands that parse HCL themselves
// (fmt): the same limits as a configuration's.
func CheckSource(name string, src []byte) hcl.Diagnostics { return checkSource(name, src) }

// checkSource refuses a file that is too large, is not text, or nests
// deeper than MaxNesting, before the parser sees it.
func checkSource(name string, src []byte) hcl.Diagnostics {
	if len(src) > MaxFileSize {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Configuration file too large",
			Detail: fmt.Sprintf("The file is larger than %d bytes (4 MiB), the most fanout reads in one configuration file. "+
				"Split the configuration into several files of a directory.", MaxFileSize),
			Subject: &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Not a text file",
			Detail:   "The file holds a NUL byte, so it is not an HCL text file. Give the path of a .hcl configuration.",
			Subject:  rangeAt(name, src, i, 1),
		}}
	}
	if at, what := nestingScan(src); at >= 0 {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Configuration nested too deeply",
			Detail: fmt.Sprintf("An expression here goes deeper than %s, more than fanout reads. "+
				"Write it with fewer levels, using locals for the inner parts.", what),
			Subject: rangeAt(name, src, at, 1),
		}}
	}
	return nil
}

// throughLine is src up to the end of the line holding byte at.
func throughLine(src []byte, at int) []byte {
	at = min(max(at, 0), len(src))
	if i := bytes.IndexByte(src[at:], '\n'); i >= 0 {
		return src[:at+i+1]
	}
	return src
}

// showable reports whether the line of a refused file that rng points at
// may be shown as a snippet: short and printable, unlike a line of
// 100,000 brackets or of binary.
func showable(src []byte, rng *hcl.Range) bool {
	if rng == nil || rng.Start.Byte >= len(src) {
		return false
	}
	from := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	to := bytes.IndexByte(src[rng.Start.Byte:], '\n')
	if to < 0 {
		to = len(src) - rng.Start.Byte
	}
	line := src[from : rng.Start.Byte+to]
	return len(line) <= 200 && utf8.Valid(line) && !bytes.ContainsFunc(line, func(r rune) bool { return r < ' ' && r != '\t' })
}

// rangeAt is the range of n bytes at offset in src.
func rangeAt(name string, src []byte, offset, n int) *hcl.Range {
	line := 1 + bytes.Count(src[:offset], []byte("\n"))
	col := offset - (bytes.LastIndexByte(src[:offset], '\n') + 1) + 1
	start := hcl.Pos{Line: line, Column: col, Byte: offset}
	end := hcl.Pos{Line: line, Column: col + n, Byte: offset + n}
	return &hcl.Range{Filename: name, Start: start, End: end}
}

// nestedBrackets is what nestingScan says of too many open brackets.
var nestedBrackets = fmt.Sprintf("%d levels of brackets and interpolations", MaxNesting)

// nestingScan finds where src nests deeper than MaxNesting, or chains more
// than MaxOperators binary operators, or -1. It is
// a cheap byte scan, not a parser: it skips comments, and follows quoted
// strings and heredocs only to count the interpolations inside them.
// Where it misreads a malformed file, the count it keeps is still bounded
// by the brackets present, and the parser reports the real mistake.
func nestingScan(src []byte) (offset int, what string) {
	s := &nestScanner{src: src}
	for i := 0; i < len(src); i++ {
		if s.mode == scanCode {
			i, what = s.code(i)
		} else {
			i, what = s.text(i)
		}
		if what != "" {
			return i, what
		}
	}
	return -1, ""
}

// The modes of nestScanner: in code, or in the text of a quoted string
// or of a heredoc.
const (
	scanCode = iota
	scanQuoted
	scanHeredoc
)

// nestScanner is the state of nestingScan, whose steps are one byte in
// each mode: code, or text (quoted or heredoc).
type nestScanner struct {
	src []byte
	// stack holds the open brackets and interpolations.
	stack     []nestFrame
	mode      int
	term      []byte // the open heredoc's terminator
	lineStart bool   // in a heredoc, at the start of a line
	unary     int    // consecutive unary operators
	// ops counts the binary operators since an expression began (a
	// comma, or a newline outside parentheses and brackets); operand is
	// whether the last token ended an operand, after which - is binary.
	ops     int
	operand bool
	// blocks counts the template directives open (%{if} and %{for} not
	// yet ended): a directive closes its own braces, so the template's
	// own nesting is counted apart (232,000 of them took 13 s and 1.5 GB).
	blocks int
}

// nestFrame is an open bracket or interpolation; for an interpolation,
// the mode and heredoc terminator to go back to when it closes.
type nestFrame struct {
	interp bool
	brace  bool // a { that is not an interpolation's
	mode   int
	term   []byte
}

// push opens f and reports whether that nests too deep.
func (s *nestScanner) push(f nestFrame) bool {
	s.stack = append(s.stack, f)
	return len(s.stack) > MaxNesting
}

// code reads the byte at i, in code, and what follows it where that is
// one token (a comment, "<<" and a heredoc's first line). It returns the
// index of the last byte it read, and what nests too deep there, if any.
func (s *nestScanner) code(i int) (int, string) {
	src, c := s.src, s.src[i]
	if s.binary(i) {
		if s.ops++; s.ops > MaxOperators {
			return i, fmt.Sprintf("%d binary operators (+, *, &&, ==, ? and the like) in a row", MaxOperators)
		}
	}
	switch {
	case c == ',' || c == '\n' && s.newlineEnds():
		s.ops, s.operand = 0, false
	case c == ' ' || c == '\t' || c == '\r' || c == '\n':
	default:
		s.operand = c == '_' || c == ')' || c == ']' || c == '}' || c == '"' || c == '.' ||
			c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if c == '-' || c == '!' {
		if s.unary++; s.unary > MaxNesting {
			return i, fmt.Sprintf("%d levels of unary operators", MaxNesting)
		}
		return i, ""
	}
	if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
		s.unary = 0
	}
	switch {
	case c == '#' || c == '/' && i+1 < len(src) && src[i+1] == '/':
		for i < len(src) && src[i] != '\n' {
			i++
		}
		if s.newlineEnds() {
			s.ops = 0 // the newline that ends the comment
		}
	case c == '/' && i+1 < len(src) && src[i+1] == '*':
		end := bytes.Index(src[i+2:], []byte("*/"))
		if end < 0 {
			return len(src), "" // an unterminated comment ends the scan
		}
		i += 2 + end + 1
	case c == '"':
		s.mode = scanQuoted
	case c == '<' && i+1 < len(src) && src[i+1] == '<':
		if t, n := heredocStart(src[i+2:]); t != nil {
			s.mode, s.term, s.lineStart = scanHeredoc, t, true
			i += 2 + n // at the newline
		}
	case c == '(' || c == '[' || c == '{':
		if s.push(nestFrame{brace: c == '{'}) {
			return i, nestedBrackets
		}
	case c == ')' || c == ']' || c == '}':
		if len(s.stack) == 0 {
			return i, ""
		}
		f := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		if f.interp {
			s.mode, s.term, s.ops = f.mode, f.term, 0
		}
	}
	return i, ""
}

// binary reports whether the byte at i, in code, is a binary operator, or
// the first byte of one of two ("&&", "==", "<="): the bytes that are
// nothing else in HCL, and - after an operand. "=" alone assigns, and ":"
// separates an object's keys too.
func (s *nestScanner) binary(i int) bool {
	src, c := s.src, s.src[i]
	next := byte(0)
	if i+1 < len(src) {
		next = src[i+1]
	}
	switch c {
	case '/':
		return next != '/' && next != '*' // a comment
	case '<':
		return next != '<' // a heredoc
	case '+', '*', '%', '?', '>':
		return true
	case '&', '|':
		return next == c
	case '=':
		return next == '=' && !(i > 0 && (src[i-1] == '=' || src[i-1] == '!' || src[i-1] == '<' || src[i-1] == '>'))
	case '!':
		return next == '='
	case '-':
		return s.operand
	}
	return false
}

// newlineEnds reports whether a newline ends the expression it is in: in
// a body or an object (braces), not inside parentheses or brackets,
// where HCL reads it as a space.
func (s *nestScanner) newlineEnds() bool {
	return len(s.stack) == 0 || s.stack[len(s.stack)-1].brace
}

// text reads the byte at i in a quoted string or a heredoc, with what
// follows it where that is one token (an escape, a heredoc's last line,
// "${"). It returns the index of the last byte it read, and what nests
// too deep there, if any.
func (s *nestScanner) text(i int) (int, string) {
	src, c := s.src, s.src[i]
	if s.mode == scanHeredoc && s.lineStart {
		s.lineStart = false
		end := bytes.IndexByte(src[i:], '\n')
		if end < 0 {
			end = len(src) - i
		}
		if bytes.Equal(bytes.TrimSpace(src[i:i+end]), s.term) {
			// The newline after the terminator ends the expression.
			s.mode, s.term, s.ops, s.operand = scanCode, nil, 0, false
			return i + end, ""
		}
	}
	switch {
	case c == '\\' && s.mode == scanQuoted:
		i++
	case c == '"' && s.mode == scanQuoted:
		s.mode = scanCode
	case c == '\n':
		if s.mode == scanQuoted {
			s.mode = scanCode // an unterminated string: the parser says so
		} else {
			s.lineStart = true
		}
	case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == c && i+2 < len(src) && src[i+2] == '{':
		i += 2 // $${ and %%{ are literal
	case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{':
		if c == '%' {
			switch directive(src[i+2:]) {
			case "if", "for":
				if s.blocks++; s.blocks > MaxNesting {
					return i, fmt.Sprintf("%d levels of %%{if} and %%{for}", MaxNesting)
				}
			case "endif", "endfor":
				s.blocks = max(s.blocks-1, 0)
			}
		}
		if s.push(nestFrame{interp: true, mode: s.mode, term: s.term}) {
			return i, nestedBrackets
		}
		// An interpolation is an expression of its own: a template's
		// parts are not chained by operators.
		s.mode, s.ops, s.operand = scanCode, 0, false
		i++
	}
	return i, ""
}

// directive returns the keyword that opens a template directive, b being
// what follows its "%{": "if", "for", "endif", ... after an optional "~"
// and spaces.
func directive(b []byte) string {
	i := 0
	if i < len(b) && b[i] == '~' {
		i++
	}
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] >= 'a' && b[j] <= 'z' {
		j++
	}
	return string(b[i:j])
}

// heredocStart reads what follows "<<" in code: an optional "-", an
// identifier and the end of the line. It returns the identifier and how
// many bytes it read up to the newline, or nil when it is not a heredoc.
func heredocStart(b []byte) (term []byte, n int) {
	if len(b) > 0 && b[0] == '-' {
		n = 1
	}
	start := n
	for n < len(b) && (b[n] == '_' || b[n] == '-' || b[n] >= 'a' && b[n] <= 'z' || b[n] >= 'A' && b[n] <= 'Z' || b[n] >= '0' && b[n] <= '9' && n > start) {
		n++
	}
	if n == start {
		return nil, 0
	}
	term = b[start:n]
	if n < len(b) && b[n] == '\r' {
		n++
	}
	if n >= len(b) || b[n] != '\n' {
		return nil, 0
	}
	return term, n
}

// capDiagnostics keeps the first MaxDiagnostics diagnostics and sums up
// the rest in one more.
func capDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	if len(diags) <= MaxDiagnostics {
		return diags
	}
	rest := diags[MaxDiagnostics:]
	errs := 0
	for _, d := range rest {
		if d.Severity == hcl.DiagError {
			errs++
		}
	}
	summary := fmt.Sprintf("And %s more diagnostics", thousands(len(rest)))
	sev := hcl.DiagWarning
	if errs > 0 {
		sev = hcl.DiagError
		summary = fmt.Sprintf("And %s more diagnostics (%s errors)", thousands(len(rest)), thousands(errs))
	}
	return append(diags[:MaxDiagnostics:MaxDiagnostics], &hcl.Diagnostic{
		Severity: sev,
		Summary:  summary,
		Detail: fmt.Sprintf("fanout shows the first %d diagnostics only: fix those first, since the later ones often follow from them, and run again.",
			MaxDiagnostics),
	})
}

// thousands writes n with a comma between groups of three digits: 4,969.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

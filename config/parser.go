package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Parser loads configurations from a filesystem and remembers every file it
// parsed, so diagnostics can be rendered with source snippets.
//
// A Parser is not safe for concurrent use.
type Parser struct {
	fsys  fs.FS
	files map[string]*hcl.File
	// Base is the directory, in the fs.FS, that relative paths given to
	// LoadConfig are read from ("" for its root): the current directory
	// within os.DirFS("/"), so that a configuration's file() and upload
	// sources may reach beside or above it ("../inventory.yml") wherever
	// fanout runs from. Diagnostics still name files as written.
	Base string
	// Rooted says the fs.FS is the machine's root directory
	// (os.DirFS("/")): file(), templatefile() and upload sources may then
	// name absolute paths, as Terraform's do; otherwise they are refused.
	Rooted bool
}

// NewParser returns a Parser that reads from fsys, usually os.DirFS(".") or
// os.DirFS("/"); tests pass a testing/fstest.MapFS.
func NewParser(fsys fs.FS) *Parser {
	return &Parser{fsys: fsys, files: make(map[string]*hcl.File)}
}

// LoadOptions are the inputs of a configuration that do not come from its
// files.
type LoadOptions struct {
	// Vars are raw variable inputs by name, from -var. A value for a
	// variable whose type is not string is parsed as an HCL expression
	// (like terraform -var), then converted to the type; a variable
	// declared without a type takes the raw string. A value for a variable
	// the configuration does not declare is an error.
	Vars map[string]string
	// EnvVars are raw variable inputs from the environment (FANOUT_VAR_*),
	// read as Vars are, under them; a value for a variable the
	// configuration does not declare is ignored, as Terraform ignores
	// TF_VAR_*.
	EnvVars map[string]string
	// Values are variable inputs written in HCL, from a variables file
	// (ParseVarFile); for a name in both, Values wins. The CLI, which knows
	// the order of -var and -var-file flags, puts each name in one only.
	Values map[string]InputValue
	// Unset leaves a required variable no input sets unknown, without an
	// error, as `terraform validate` does: what depends on it is not
	// checked, and everything else is.
	Unset bool
}

// LoadConfig loads one .hcl file, or every .hcl file in a directory (lexical
// order), as one configuration.
//
// path follows io/fs rules (slash-separated, relative to the Parser's fs.FS);
// a leading slash is tolerated, so os.DirFS("/") can be given an absolute
// path. Diagnostics name files as path was written, joined with the file name
// for a directory. In a directory, files whose name starts with "." or "#"
// or ends with "~" (editor leftovers) are skipped.
//
// A file larger than MaxFileSize, holding a NUL byte, or nesting deeper
// than MaxNesting is refused before it is parsed. At most MaxDiagnostics
// diagnostics are returned, then one that counts the rest.
//
// The returned Config is nil when no file could be read or a file has a
// syntax error. When the diagnostics have errors, a non-nil Config is
// incomplete: good for showing what was understood, never for running.
// Warnings come with a complete Config. Diagnostics are in source order,
// files in load order.
func (p *Parser) LoadConfig(path string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	names, diags := p.configFiles(path)
	if diags.HasErrors() {
		return nil, diags
	}

	var files []*file
	syntaxErrors := false
	for _, n := range names {
		src, err := p.readFile(n)
		if err != nil {
			diags = diags.Append(readError("Failed to read file", n.display, err))
			continue
		}
		if d := checkSource(n.display, src); d.HasErrors() {
			if showable(src, d[0].Subject) {
				// The snippet is one line: the rest of a refused file,
				// 4 MiB of it, the diagnostic writer would scan for
				// nothing (5 s under the race detector).
				p.files[n.display] = &hcl.File{Bytes: throughLine(src, d[0].Subject.End.Byte)}
			}
			diags = diags.Extend(d)
			syntaxErrors = true
			continue
		}
		// A file saved with Windows line endings: HCL keeps the CR of a
		// heredoc's lines, and the shell then runs `mkdir -p dir\r`.
		// Only once the file is accepted: a larger one, cut at the
		// limit, must still be refused as too large.
		if bytes.Contains(src, []byte("\r\n")) {
			src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
		}
		hf, fileDiags := hclsyntax.ParseConfig(src, n.display, hcl.InitialPos)
		diags = diags.Extend(shellSyntaxHints(fileDiags, src))
		if hf == nil {
			continue
		}
		p.files[n.display] = hf
		if fileDiags.HasErrors() {
			// A partly parsed file yields a flood of follow-on errors
			// (undeclared tasks, missing hosts) that only hide the real
			// one, so syntax errors stop loading after every file is read.
			syntaxErrors = true
			continue
		}
		f, fileDiags := decodeFile(n.display, hf.Body)
		diags = diags.Extend(fileDiags)
		files = append(files, f)
	}
	if syntaxErrors || len(files) == 0 {
		return nil, capDiagnostics(diags)
	}

	cfg, buildDiags := buildConfig(files, opts, configFS{p.fsys, configDir(names), p.Base, p.Rooted})
	diags = diags.Extend(functionDiagnostics(buildDiags))
	sortDiagnostics(diags, names)
	return cfg, capDiagnostics(diags)
}

// configDir is the directory of a configuration in the Parser's fs.FS,
// which file() reads relative to: the one its files are in.
func configDir(files []configFile) string {
	return path.Dir(files[0].fsPath)
}

// readFile reads a configuration file, or only enough of one larger than
// MaxFileSize for checkSource to refuse it.
func (p *Parser) readFile(n configFile) ([]byte, error) {
	f, err := p.fsys.Open(n.fsPath)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	return ReadLimited(f)
}

// ReadLimited reads r to its end, or only enough of it past MaxFileSize
// (a log given by mistake, /dev/zero) for CheckSource to refuse it: how
// every HCL text fanout reads is read (configurations, variables files,
// fmt's files and stdin).
func ReadLimited(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, MaxFileSize+1))
}

// sortDiagnostics puts diagnostics in source order, files in load order, so
// they read top to bottom; those not about a loaded file come first, in
// the order they were found.
func sortDiagnostics(diags hcl.Diagnostics, files []configFile) {
	order := make(map[string]int, len(files))
	for i, f := range files {
		order[f.display] = i + 1
	}
	key := func(d *hcl.Diagnostic) (int, int) {
		if d.Subject == nil {
			return 0, 0
		}
		return order[d.Subject.Filename], d.Subject.Start.Byte
	}
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		fa, ba := key(a)
		fb, bb := key(b)
		if fa != fb {
			return fa - fb
		}
		if fa == 0 {
			return 0
		}
		return ba - bb
	})
}

// Files returns every file parsed so far, by the name diagnostics use, for
// hcl.NewDiagnosticTextWriter. The map is a copy.
func (p *Parser) Files() map[string]*hcl.File {
	return maps.Clone(p.files)
}

// configFile is one file to read: its name in the fs.FS and in diagnostics.
type configFile struct {
	fsPath  string
	display string
}

// configFiles lists the files that make up the configuration at name.
func (p *Parser) configFiles(name string) ([]configFile, hcl.Diagnostics) {
	display := name
	if display == "" {
		display = "."
	}
	fsPath := path.Clean(display)
	switch {
	case strings.HasPrefix(fsPath, "/"):
		fsPath = strings.TrimPrefix(fsPath, "/")
	case p.Base != "":
		fsPath = path.Join(p.Base, fsPath)
	}
	if fsPath == "" {
		fsPath = "."
	}
	if !fs.ValidPath(fsPath) {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid configuration path",
			Detail: fmt.Sprintf("The path %q leaves the directory fanout reads configurations from. "+
				"Give a path inside it, or run fanout from a directory that contains the configuration.", name),
		}}
	}

	info, err := fs.Stat(p.fsys, fsPath)
	if err != nil {
		return nil, hcl.Diagnostics{readError("Failed to read configuration", display, err)}
	}
	if !info.IsDir() {
		return []configFile{{fsPath: fsPath, display: display}}, nil
	}

	entries, err := fs.ReadDir(p.fsys, fsPath)
	if err != nil {
		return nil, hcl.Diagnostics{readError("Failed to read directory", display, err)}
	}
	var files []configFile
	for _, e := range entries { // fs.ReadDir sorts by name
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".hcl") || ignoredFile(n) {
			continue
		}
		files = append(files, configFile{fsPath: path.Join(fsPath, n), display: path.Join(display, n)})
	}
	if len(files) == 0 {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail: fmt.Sprintf("The directory %q holds no .hcl file. "+
				"Give the path of a configuration file, or of a directory that holds some.", display),
		}}
	}
	return files, nil
}

// ignoredFile reports whether a directory entry is an editor's or a
// system's leftover rather than configuration.
func ignoredFile(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "~")
}

func readError(summary, name string, err error) *hcl.Diagnostic {
	detail := fmt.Sprintf("Cannot read %q: %s.", name, unwrapPathError(err))
	if errors.Is(err, fs.ErrNotExist) {
		detail = fmt.Sprintf("There is no file or directory %q. Check the path, relative to the current directory.", name)
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail}
}

// unwrapPathError drops the fs.PathError's own copy of the path, which
// names the file as the fs.FS sees it rather than as the user wrote it.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/config"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// runFmt rewrites .hcl files in the canonical style, as terraform fmt
// does: it prints the name of each file it changed (with -check, each file
// it would change) and exits 3 under -check when any is not formatted.
func runFmt(args []string, s *streams) int {
	a, err := arguments.ParseFmt(args)
	if code, ok := parseArgs(err, s, "fmt"); !ok {
		return code
	}
	if len(a.Paths) == 1 && a.Paths[0] == "-" {
		return fmtStdin(s, a.Check)
	}
	var files []string
	var diags hcl.Diagnostics
	for _, p := range a.Paths {
		fs, d := fmtFiles(p, a.Recursive)
		files = append(files, fs...)
		diags = diags.Extend(d)
	}
	parsed := map[string]*hcl.File{}
	unformatted := false
	for _, name := range files {
		changed, f, d := formatFile(name, !a.Check)
		if f != nil {
			parsed[name] = f
		}
		diags = diags.Extend(d)
		if changed {
			unformatted = true
			printf(s.Out, "%s\n", name)
		}
	}
	views.Diagnostics(s.Err, parsed, diags, s.Color)
	switch {
	case diags.HasErrors():
		return exitUsage
	case a.Check && unformatted:
		return exitFmtCheck
	}
	return exitOK
}

// fmtStdin formats what stdin holds to stdout, as terraform fmt - does
// for an editor or a pipe; with -check it prints nothing and exits 3 when
// the text is not formatted.
func fmtStdin(s *streams, check bool) int {
	src, err := config.ReadLimited(os.Stdin)
	if err != nil {
		printf(s.Err, "fanout fmt: cannot read stdin: %s\n", err)
		return exitUsage
	}
	if diags := config.CheckSource("<stdin>", src); diags.HasErrors() {
		views.Diagnostics(s.Err, nil, diags, s.Color)
		return exitUsage
	}
	f, diags := hclsyntax.ParseConfig(src, "<stdin>", hcl.InitialPos)
	if diags.HasErrors() {
		views.Diagnostics(s.Err, map[string]*hcl.File{"<stdin>": f}, diags, s.Color)
		return exitUsage
	}
	out := hclwrite.Format(src)
	if check {
		if !bytes.Equal(src, out) {
			return exitFmtCheck
		}
		return exitOK
	}
	if _, err := s.Out.Write(out); err != nil {
		return exitFailed
	}
	return exitOK
}

// fmtFiles lists what fmt handles for one argument: the file itself, or
// the .hcl files of a directory (and below it, when recursive), skipping
// hidden entries and editor leftovers as the configuration loader does.
func fmtFiles(path string, recursive bool) ([]string, hcl.Diagnostics) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read path",
			Detail: fmt.Sprintf("fanout fmt cannot read %s: %s.", path, unwrapPathError(err))}}
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != path && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "~")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".hcl") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return files, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read directory",
			Detail: fmt.Sprintf("fanout fmt cannot list %s: %s.", path, err)}}
	}
	return files, nil
}

// formatFile formats one file, writing it back when write is set, and
// reports whether its formatting differs. A file with syntax errors is
// left alone: hclwrite would format it, but not into what was meant.
func formatFile(name string, write bool) (bool, *hcl.File, hcl.Diagnostics) {
	src, err := config.ReadHCLFile(name)
	if err != nil {
		return false, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read file",
			Detail: fmt.Sprintf("fanout fmt cannot read %s: %s.", name, unwrapPathError(err))}}
	}
	// A configuration's limits: hclwrite on an 18 MB file took 35 s and
	// 4.7 GB.
	if diags := config.CheckSource(name, src); diags.HasErrors() {
		return false, nil, diags
	}
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return false, f, diags
	}
	out := hclwrite.Format(src)
	if bytes.Equal(src, out) {
		return false, f, nil
	}
	if write {
		info, err := os.Stat(name)
		if err == nil {
			err = os.WriteFile(name, out, info.Mode().Perm())
		}
		if err != nil {
			return true, f, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot write file",
				Detail: fmt.Sprintf("fanout fmt cannot write %s: %s.", name, unwrapPathError(err))}}
		}
	}
	return true, f, nil
}

// unwrapPathError drops the *PathError's repetition of the operation and
// path, which the message already says.
func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

package config

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/fanout/fanout/internal/nodeset"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The functions of this file read inventories: host names written in
// nodeset syntax, and files of hosts kept in YAML, JSON or CSV, so that a
// fleet of hundreds of hosts is a few host blocks with for_each.

// HostRangeFunc is hostrange(pattern): the host names a clush/pdsh nodeset
// pattern stands for, as a list of strings in the pattern's order, each
// once: hostrange("web[01-03,10]") is ["web01", "web02", "web03", "web10"].
// A bad pattern (a range going down, an unbalanced bracket, more than
// nodeset.MaxNames names) is an error on the argument.
var HostRangeFunc = function.New(&function.Spec{
	Description: "Expands a nodeset pattern such as web[01-40] into host names.",
	Params: []function.Parameter{
		{Name: "pattern", Type: cty.String},
	},
	Type:         function.StaticReturnType(cty.List(cty.String)),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		names, err := nodeset.Expand(args[0].AsString())
		if err != nil {
			var ne *nodeset.Error
			if errors.As(err, &ne) {
				return cty.DynamicVal, function.NewArgErrorf(0, "%q is not a host range: %s", ne.Pattern, ne.Msg)
			}
			return cty.DynamicVal, function.NewArgError(0, err)
		}
		vals := make([]cty.Value, len(names))
		for i, n := range names {
			vals[i] = cty.StringVal(n)
		}
		return cty.ListVal(vals), nil
	},
})

// CSVDecodeFunc is csvdecode(str): the rows of a CSV document whose first
// line names the columns, as a list of objects with one string attribute
// per column, as Terraform's csvdecode. Every row has as many fields as the
// header; an empty document (no header) is an error.
var CSVDecodeFunc = function.New(&function.Spec{
	Description: "Decodes CSV text with a header line into a list of objects.",
	Params: []function.Parameter{
		{Name: "str", Type: cty.String},
	},
	Type: func(args []cty.Value) (cty.Type, error) {
		v := args[0]
		if !v.IsKnown() {
			return cty.DynamicPseudoType, nil
		}
		header, err := csv.NewReader(strings.NewReader(v.AsString())).Read()
		if err == io.EOF {
			return cty.NilType, function.NewArgErrorf(0, "the CSV text is empty: its first line must name the columns")
		}
		if err != nil {
			return cty.NilType, function.NewArgErrorf(0, "the CSV header is not valid: %s", err)
		}
		attrs := make(map[string]cty.Type, len(header))
		for _, name := range header {
			if _, dup := attrs[name]; dup {
				return cty.NilType, function.NewArgErrorf(0, "the CSV header names the column %q twice", name)
			}
			attrs[name] = cty.String
		}
		return cty.List(cty.Object(attrs)), nil
	},
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		r := csv.NewReader(strings.NewReader(args[0].AsString()))
		header, err := r.Read()
		if err != nil {
			return cty.DynamicVal, function.NewArgError(0, err)
		}
		var rows []cty.Value
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				// csv.ParseError names the line and column.
				return cty.DynamicVal, function.NewArgErrorf(0, "the CSV text is not valid: %s", err)
			}
			row := make(map[string]cty.Value, len(header))
			for i, name := range header {
				row[name] = cty.StringVal(rec[i])
			}
			rows = append(rows, cty.ObjectVal(row))
		}
		if len(rows) == 0 {
			return cty.ListValEmpty(retType.ElementType()), nil
		}
		return cty.ListVal(rows), nil
	},
})

// fileFunc is file(path): the contents of a text file, path being relative
// to the configuration's directory (the directory loaded, or the one
// holding the file loaded), or absolute (see configFS). A file larger than
// MaxFileSize, one that is not UTF-8, or one outside the file system is an
// error on the argument.
func fileFunc(where configFS) function.Function {
	return function.New(&function.Spec{
		Description: "Reads a text file, relative to the configuration's directory.",
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
		},
		Type:         function.StaticReturnType(cty.String),
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			src, err := readInventory(where, name)
			if err != nil {
				return cty.DynamicVal, function.NewArgError(0, err)
			}
			return cty.StringVal(string(src)), nil
		},
	})
}

// readInventory reads name for file().
func readInventory(where configFS, name string) ([]byte, error) {
	return readConfigFile(where, name, configFileKind{
		fn:   "file()",
		keep: "keep inventories beside the configuration, or run fanout from a directory that holds both",
		what: "a file",
		size: " (4 MiB)",
	})
}

// configFileKind says, for the messages of readConfigFile, which function
// reads a file and what the file is.
type configFileKind struct {
	fn   string // the function reading, such as "file()"
	keep string // the advice when the path leaves the directory
	what string // what a directory is not, such as "a file"
	size string // MaxFileSize in words, after the number, or ""
}

// configFS is where a configuration's file(), templatefile() and upload
// sources are read: relative paths from dir, its directory in fsys; base is
// the directory in fsys that paths are shown relative to (Parser.Base).
// When fsys is the machine's root directory (rooted), an absolute path is
// read as it is, as Terraform reads one; otherwise it is refused.
type configFS struct {
	fsys   fs.FS
	dir    string
	base   string
	rooted bool
}

// resolve returns the path in fsys of name, a path as the configuration
// wrote it, or an error that says what to write instead; leaves names the
// advice for a path that leaves fsys.
func (w configFS) resolve(name, leaves string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("the path is empty: name a file relative to the configuration's directory")
	case path.IsAbs(name) && !w.rooted:
		return "", fmt.Errorf("the path %q must be relative to the configuration's directory", name)
	case path.IsAbs(name):
		return cmp.Or(strings.TrimPrefix(path.Clean(name), "/"), "."), nil
	}
	p := path.Join(w.dir, name)
	if !fs.ValidPath(p) {
		return "", fmt.Errorf("the path %q leaves the directory fanout reads the configuration from; %s", name, leaves)
	}
	return p, nil
}

// readConfigFile reads name for one of the functions that read files
// beside the configuration: a path in where's file system (see resolve),
// a regular file of at most MaxFileSize bytes of UTF-8 text.
func readConfigFile(where configFS, name string, k configFileKind) ([]byte, error) {
	if where.fsys == nil {
		return nil, fmt.Errorf("%s cannot read %q here: only a configuration's own expressions read files", k.fn, name)
	}
	p, err := where.resolve(name, k.keep)
	if err != nil {
		return nil, err
	}
	f, err := where.fsys.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if path.IsAbs(name) {
				return nil, fmt.Errorf("there is no file %q", name)
			}
			return nil, fmt.Errorf("there is no file %q in the configuration's directory", name)
		}
		return nil, fmt.Errorf("cannot read %q: %w", name, unwrapPathError(err))
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%q is a directory, not %s", name, k.what)
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %w", name, unwrapPathError(err))
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("%q is larger than %d bytes%s, the most %s reads", name, MaxFileSize, k.size, k.fn)
	}
	if !utf8.Valid(src) {
		return nil, fmt.Errorf("%q is not UTF-8 text", name)
	}
	return src, nil
}

package config

import (
	"cmp"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Files are a task's transfers on one host, each list in block order.
type Files struct {
	Uploads   []*Upload
	Downloads []*Download
}

// Upload is an upload block, evaluated for one host: a file, a directory
// tree or generated text to put on the host before the task's run.
type Upload struct {
	// Path is the file or directory to copy, as a path in Config.Files
	// (the configuration's directory joined with what the block says);
	// empty when the block sets content.
	Path string
	// Source is Path as the operator reads it: relative to the directory
	// fanout runs in, or absolute when it is outside it.
	Source string
	// Content is the text to write when the block sets content.
	Content string
	// HasContent is true when the block sets content (which may be empty).
	HasContent bool
	// Destination is the absolute path on the host. For a directory source
	// it is the directory that receives the tree's content.
	Destination string
	// Mode holds the permission bits the destination gets; zero when the
	// block sets none: a source keeps its own, content gets 0644.
	Mode fs.FileMode
	// Sensitive is true when the content comes from a sensitive value:
	// plans show its size only, as for every content.
	Sensitive bool
	// DeclRange is the block's range.
	DeclRange hcl.Range
}

// Download is a download block, evaluated for one host: a file to fetch
// from the host after the task's run.
type Download struct {
	// Source is the absolute path of a regular file on the host.
	Source string
	// Destination is the local path it is written to, relative to the
	// directory fanout runs in; its directories are created. It differs
	// for every host of the task.
	Destination string
	// DeclRange is the block's range.
	DeclRange hcl.Range
}

// fileDecl is an upload or download block with its attributes unevaluated.
type fileDecl struct {
	block *hcl.Block
	attrs hcl.Attributes
}

// decodeFileBlocks decodes a task's upload and download blocks.
func decodeFileBlocks(blocks hcl.Blocks) (uploads, downloads []*fileDecl, diags hcl.Diagnostics) {
	for _, b := range blocks {
		if b.Type != "upload" && b.Type != "download" {
			continue
		}
		schema := uploadSchema
		if b.Type == "download" {
			schema = downloadSchema
		}
		content, d := b.Body.Content(schema)
		diags = diags.Extend(d)
		fd := &fileDecl{block: b, attrs: content.Attributes}
		if b.Type == "download" {
			downloads = append(downloads, fd)
		} else {
			uploads = append(uploads, fd)
		}
	}
	return uploads, downloads, diags
}

// hasFiles reports whether the task has upload or download blocks.
func (d *taskDecl) hasFiles() bool { return len(d.uploads)+len(d.downloads) > 0 }

// usesTarget reports whether any attribute of the task's file blocks
// refers to target, and must be evaluated per host.
func (d *taskDecl) usesTarget() bool {
	for _, fd := range slices.Concat(d.uploads, d.downloads) {
		if refersTarget(slices.Collect(maps.Values(fd.attrs))...) {
			return true
		}
	}
	return false
}

// evalFiles evaluates the task's file blocks for each of its hosts: once
// for all of them when no value depends on target, else once per host.
// A download's destination must differ between hosts.
func (e *evaluator) evalFiles(d *taskDecl) hcl.Diagnostics {
	if !d.hasFiles() || len(d.t.Hosts) == 0 {
		return nil
	}
	t := d.t
	t.Files = make(map[string]*Files, len(t.Hosts))
	if !d.usesTarget() {
		f, diags := e.evalFilesFor(d, nil)
		for _, h := range t.Hosts {
			t.Files[h.Name] = f
		}
		if len(t.Hosts) > 1 && len(d.downloads) > 0 && !diags.HasErrors() {
			diags = diags.Extend(sameDestination(d, t.Hosts[0].Name, t.Hosts[1].Name))
		}
		return diags
	}
	seen := make(map[string]string) // download destination -> host
	for _, h := range t.Hosts {
		f, diags := e.evalFilesFor(d, h)
		if diags.HasErrors() {
			// The same mistake on every host: once is enough.
			t.Files = nil
			return diags
		}
		for i, dl := range f.Downloads {
			// logs/x.log, ./logs/x.log and logs/../logs/x.log are one file.
			dest := filepath.Clean(dl.Destination)
			if other, dup := seen[dest]; dup {
				t.Files = nil
				return diags.Extend(sameDestination(&taskDecl{t: t, downloads: d.downloads[i : i+1]}, other, h.Name))
			}
			seen[dest] = h.Name
		}
		t.Files[h.Name] = f
	}
	return nil
}

// sameDestination is the diagnostic of a download that would write two
// hosts' files to one local path; none for a download without a
// destination, whose own diagnostic says so.
func sameDestination(d *taskDecl, a, b string) hcl.Diagnostics {
	attr := d.downloads[0].attrs["destination"]
	if attr == nil {
		return nil
	}
	summary := fmt.Sprintf("Download destination shared by hosts in task %q", d.t.Name)
	detail := fmt.Sprintf("Hosts %q and %q would both write this local path, each overwriting the other's file. "+
		"Make the destination differ per host with target.name, such as destination = \"logs/${target.name}.log\".", a, b)
	if a == b {
		summary = fmt.Sprintf("Download destination shared by downloads of task %q", d.t.Name)
		detail = fmt.Sprintf("Two download blocks would write this local path for host %q, the second overwriting the first's file. "+
			"Give each download a destination of its own.", a)
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  attr.Expr.Range().Ptr(),
		Context:  attr.Range.Ptr(),
	}}
}

// evalFilesFor evaluates the file blocks with target set to h, or with no
// target when h is nil.
func (e *evaluator) evalFilesFor(d *taskDecl, h *Host) (*Files, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	f := &Files{}
	for _, fd := range d.uploads {
		u, dd := e.evalUpload(d, fd, h)
		diags = diags.Extend(dd)
		if u != nil {
			f.Uploads = append(f.Uploads, u)
		}
	}
	for _, fd := range d.downloads {
		dl, dd := e.evalDownload(fd, h)
		diags = diags.Extend(dd)
		if dl != nil {
			f.Downloads = append(f.Downloads, dl)
		}
	}
	return f, diags
}

// fileString evaluates a string attribute of a file block with target set
// to h (nil: no target). A sensitive value is unmarked and reported as
// such.
func (e *evaluator) fileString(attr *hcl.Attribute, h *Host) (s string, sensitive, ok bool, diags hcl.Diagnostics) {
	saved := e.target
	e.target = h
	defer func() { e.target = saved }()
	s, ok, diags = e.stringAttr(attr)
	return s, ok && e.refersSensitive(attr.Expr), ok, diags
}

// refersSensitive reports whether expr refers to a sensitive variable.
func (e *evaluator) refersSensitive(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		if name, _, ok := traversalName(tr); ok && tr.RootName() == "var" && e.sensitive[name] {
			return true
		}
	}
	return false
}

func (e *evaluator) evalUpload(d *taskDecl, fd *fileDecl, h *Host) (*Upload, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	u := &Upload{DeclRange: fd.block.DefRange}
	src, content := fd.attrs["source"], fd.attrs["content"]
	if (src == nil) == (content == nil) {
		return nil, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Upload needs source or content in task %q", d.t.Name),
			Detail: "An upload block copies either a file or directory (source = \"dist/app.tgz\", relative to the " +
				"configuration) or generated text (content = templatefile(\"app.conf.tftpl\", {...})): set exactly one of them.",
			Subject: fd.block.DefRange.Ptr(),
		})
	}
	ok := true
	if content != nil {
		s, sensitive, got, dd := e.fileString(content, h)
		diags = diags.Extend(dd)
		u.Content, u.HasContent, u.Sensitive = s, true, sensitive
		ok = ok && got
	} else {
		s, _, got, dd := e.fileString(src, h)
		diags = diags.Extend(dd)
		if got {
			p, d := e.checkUploadSource(s, src)
			diags = diags.Extend(d)
			u.Path, u.Source = p, e.shown(p)
			got = !d.HasErrors()
		}
		ok = ok && got
	}
	dest, _, got, dd := e.fileString(fd.attrs["destination"], h)
	diags = diags.Extend(dd)
	if got {
		diags = diags.Extend(checkRemotePath(dest, fd.attrs["destination"]))
		u.Destination = dest
	}
	ok = ok && got
	if attr := fd.attrs["mode"]; attr != nil {
		s, _, got, dd := e.fileString(attr, h)
		diags = diags.Extend(dd)
		if got {
			m, d := parseMode(s, attr)
			diags = diags.Extend(d)
			u.Mode = m
		}
	}
	if !ok || diags.HasErrors() {
		return nil, diags
	}
	return u, diags
}

func (e *evaluator) evalDownload(fd *fileDecl, h *Host) (*Download, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	dl := &Download{DeclRange: fd.block.DefRange}
	src, _, ok1, dd := e.fileString(fd.attrs["source"], h)
	diags = diags.Extend(dd)
	if ok1 {
		diags = diags.Extend(checkRemotePath(src, fd.attrs["source"]))
		dl.Source = src
	}
	dest, _, ok2, dd := e.fileString(fd.attrs["destination"], h)
	diags = diags.Extend(dd)
	if ok2 && dest == "" {
		attr := fd.attrs["destination"]
		diags = diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Empty download destination",
			Detail:   "destination is the local path the file is written to, such as \"logs/${target.name}.log\".",
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	dl.Destination = dest
	if !ok1 || !ok2 || diags.HasErrors() {
		return nil, diags
	}
	return dl, diags
}

// checkRemotePath requires an absolute, clean path on a host.
func checkRemotePath(p string, attr *hcl.Attribute) hcl.Diagnostics {
	if path.IsAbs(p) && path.Clean(p) == p && p != "/" {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s %q", attr.Name, p),
		Detail: fmt.Sprintf("A path on a host is absolute and clean (no trailing slash, no . or .. parts), such as "+
			"\"/opt/app/releases/42.tgz\": the host's directories do not depend on where fanout runs. Got %q.", p),
		Subject: attr.Expr.Range().Ptr(),
		Context: attr.Range.Ptr(),
	}}
}

// shown is the path p of the configuration's file system as the operator
// reads it: relative to the directory fanout runs in (files.base), up to two
// levels above it ("../dist/app.tgz"), else absolute; as it is when there
// is no base but the root's.
func (e *evaluator) shown(p string) string {
	switch {
	case e.files.base == "" && e.files.rooted:
		return "/" + p
	case e.files.base == "":
		return p
	}
	base, up := e.files.base, ""
	// Never through the root: from /tmp, /srv/x is /srv/x, not ../srv/x.
	for range 3 {
		switch {
		case base == ".":
			return "/" + p
		case p == base:
			return cmp.Or(strings.TrimSuffix(up, "/"), ".")
		case strings.HasPrefix(p, base+"/"):
			return up + strings.TrimPrefix(p, base+"/")
		}
		base, up = path.Dir(base), up+"../"
	}
	return "/" + p
}

// checkUploadSource resolves an upload's source, relative to the
// configuration's directory, and checks that it exists there.
func (e *evaluator) checkUploadSource(s string, attr *hcl.Attribute) (string, hcl.Diagnostics) {
	bad := func(why string) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid upload source %q", s),
			Detail:   why,
			Subject:  attr.Expr.Range().Ptr(),
			Context:  attr.Range.Ptr(),
		}}
	}
	p, err := e.files.resolve(s, "keep what you upload beside the configuration")
	if err != nil {
		return "", bad(sentence(err))
	}
	if e.files.fsys == nil {
		return p, nil
	}
	if _, err := fs.Stat(e.files.fsys, p); err != nil {
		return "", bad(fmt.Sprintf("There is no file or directory %q beside the configuration (%s).", s, unwrapPathError(err)))
	}
	return p, nil
}

// sentence is err's text as a sentence of its own: "The path ... must be
// relative ...", where file()'s argument error reads "...: the path ...".
func sentence(err error) string {
	s := err.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
}

// parseMode reads a mode written as octal digits, such as "0644" or "755".
func parseMode(s string, attr *hcl.Attribute) (fs.FileMode, hcl.Diagnostics) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 || s == "" {
		return 0, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid mode %q", s),
			Detail:   "mode is a string of octal digits as chmod takes them, such as \"0644\" or \"0755\" (at most \"7777\").",
			Subject:  attr.Expr.Range().Ptr(),
			Context:  attr.Range.Ptr(),
		}}
	}
	m := fs.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m, nil
}

var uploadSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "source"},
		{Name: "content"},
		{Name: "destination", Required: true},
		{Name: "mode"},
	},
}

var downloadSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "source", Required: true},
		{Name: "destination", Required: true},
	},
}

package pluginhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// LockFileName is the name of the lock file that `fanout plugins lock`
// writes next to a configuration. It starts with a dot, so loading the
// directory as a configuration skips it.
const LockFileName = ".fanout.lock.hcl"

// lockFileHeader opens every lock file written, for whoever finds it.
const lockFileHeader = `# This file is maintained by "fanout plugins lock". It records the SHA-256
# of each third-party transport plugin the configuration next to it uses;
# fanout refuses to start a plugin binary that does not match. Commit it
# with the configuration.

`

// LockFile records the checksums of the third-party plugins a
// configuration uses, like Terraform's .terraform.lock.hcl: a run started
// from a configuration with a lock file starts only the plugin binaries it
// records.
type LockFile struct {
	// Path is where the file was read from or will be written.
	Path string
	// Transports are the locked plugins by transport name.
	Transports map[string]*LockedTransport
}

// LockedTransport is one transport block of a lock file.
type LockedTransport struct {
	Name string
	// Version is what the plugin reported when it was locked, for readers
	// of the file; it is not checked, the checksum is.
	Version string
	// SHA256 is the plugin binary's checksum, 64 lower-case hexadecimal
	// digits.
	SHA256 string
	// DeclRange is the block's range in the file; empty for a block not
	// read from a file.
	DeclRange hcl.Range
}

// ReadLockFile reads the lock file at path; a file that does not exist is
// no lock file, (nil, nil). Problems are diagnostics on the file's ranges.
func ReadLockFile(path string) (*LockFile, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Failed to read the lock file",
			Detail:   fmt.Sprintf("fanout could not read %s: %s.", path, err),
		}}
	}
	return ParseLockFile(src, path)
}

// ParseLockFile parses a lock file's contents; filename names it in
// diagnostics and becomes its Path.
func ParseLockFile(src []byte, filename string) (*LockFile, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	content, d := f.Body.Content(lockFileSchema)
	diags = diags.Extend(d)
	lf := &LockFile{Path: filename, Transports: map[string]*LockedTransport{}}
	for _, b := range content.Blocks {
		var raw struct {
			Version string `hcl:"version,optional"`
			SHA256  string `hcl:"sha256"`
		}
		if d := gohcl.DecodeBody(b.Body, nil, &raw); d.HasErrors() {
			diags = diags.Extend(d)
			continue
		}
		name := b.Labels[0]
		if prev, ok := lf.Transports[name]; ok {
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate transport %q in the lock file", name),
				Detail:   fmt.Sprintf("The lock file records transport %q twice; it was first recorded at %s. Run \"fanout plugins lock\" to rewrite the file.", name, prev.DeclRange),
				Subject:  b.LabelRanges[0].Ptr(),
			})
			continue
		}
		sum := strings.ToLower(raw.SHA256)
		if !isHexSHA256(sum) {
			attrs, _ := b.Body.JustAttributes()
			var subject *hcl.Range
			if a := attrs["sha256"]; a != nil {
				subject = a.Expr.Range().Ptr()
			}
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid sha256 in the lock file",
				Detail:   fmt.Sprintf("The sha256 of transport %q must be 64 hexadecimal digits. Run \"fanout plugins lock\" to rewrite the file.", name),
				Subject:  subject,
			})
			continue
		}
		lf.Transports[name] = &LockedTransport{Name: name, Version: raw.Version, SHA256: sum, DeclRange: b.DefRange}
	}
	return lf, diags
}

// Bytes renders the lock file: a header comment, then one transport block
// per plugin, sorted by name, so that the file diffs well.
func (f *LockFile) Bytes() []byte {
	names := make([]string, 0, len(f.Transports))
	for n := range f.Transports {
		names = append(names, n)
	}
	sort.Strings(names)
	out := hclwrite.NewEmptyFile()
	body := out.Body()
	for i, n := range names {
		if i > 0 {
			body.AppendNewline()
		}
		t := f.Transports[n]
		b := body.AppendNewBlock("transport", []string{n}).Body()
		if t.Version != "" {
			b.SetAttributeValue("version", cty.StringVal(t.Version))
		}
		b.SetAttributeValue("sha256", cty.StringVal(t.SHA256))
	}
	return append([]byte(lockFileHeader), hclwrite.Format(out.Bytes())...)
}

// Write writes the file to f.Path, replacing it whole: a reader never sees
// half a lock file.
func (f *LockFile) Write() error {
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), LockFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	// After a successful rename there is nothing to remove; after a
	// failure, the error to report is the one that stopped the write.
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(f.Bytes()); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write lock file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write lock file %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write lock file %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

var lockFileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "transport", LabelNames: []string{"name"}}},
}

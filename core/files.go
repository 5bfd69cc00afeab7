package core

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// This file carries a task's files: what the plan shows of its upload and
// download blocks, the plan-time check that the hosts' transports can
// carry them, and the transfers themselves, which are part of the (task,
// host) pair: uploads before its run commands, downloads after them.

// TransferKind tells an upload from a download.
type TransferKind string

const (
	// Upload copies a file, a directory tree or generated content to a host.
	Upload TransferKind = "upload"
	// Download fetches a file from a host.
	Download TransferKind = "download"
)

// Transfer is one upload or download block of a task as the plan shows it,
// for the hosts on which its values are the same.
type Transfer struct {
	Kind TransferKind
	// Source is the local path of an upload (a path in the configuration's
	// file system) or the host's path of a download; empty for content.
	Source string
	// Content is true for an upload of generated text.
	Content bool
	// Sensitive is true for content from a sensitive value.
	Sensitive bool
	// Destination is the host's path of an upload, the local path of a
	// download.
	Destination string
	// Size is an upload's bytes (all of a directory's files); -1 for a
	// download, whose size is known when it runs.
	Size int64
	// Files counts the regular files of a directory upload; 1 for a file
	// or content, 0 for a download.
	Files int
	// Directory is true for a directory upload.
	Directory bool
	// Mode is the mode the block sets; zero keeps the source's (0644 for
	// content; a download's local file gets 0644, or 0600 when the host's
	// file is not readable by all).
	Mode fs.FileMode
	// Hosts are the hosts these values hold for, in the task's host order.
	Hosts []string

	// contentSum tells contents apart, which the plan does not show.
	contentSum [sha256.Size]byte
}

// buildTransfers folds the task's per-host file blocks into the transfers
// the plan shows: for each block, one Transfer per distinct set of values.
func buildTransfers(t *config.Task, hosts []*Host, fsys fs.FS) ([]Transfer, hcl.Diagnostics) {
	if len(t.Files) == 0 {
		return nil, nil
	}
	var diags hcl.Diagnostics
	var out []Transfer
	first := t.Files[hosts[0].Name]
	if first == nil {
		return nil, nil
	}
	sizes := map[string]Transfer{} // upload source -> its size and files
	for i := range first.Uploads {
		var block []Transfer
		for _, h := range hosts {
			u := t.Files[h.Name].Uploads[i]
			tr := Transfer{Kind: Upload, Source: u.Source, Content: u.HasContent, Sensitive: u.Sensitive,
				Destination: u.Destination, Mode: u.Mode, Files: 1, Size: int64(len(u.Content))}
			if u.HasContent {
				tr.contentSum = sha256.Sum256([]byte(u.Content))
			}
			if !u.HasContent {
				s, ok := sizes[u.Path]
				if !ok {
					var err error
					s, err = measure(fsys, u.Path)
					if err != nil {
						diags = append(diags, &hcl.Diagnostic{
							Severity: hcl.DiagError,
							Summary:  fmt.Sprintf("Cannot read upload source of task %q", t.Name),
							Detail:   fmt.Sprintf("%s: %s. Check that it exists and can be read.", u.Source, unwrapPath(err)),
							Subject:  u.DeclRange.Ptr(),
						})
						return nil, diags
					}
					sizes[u.Path] = s
				}
				tr.Size, tr.Files, tr.Directory = s.Size, s.Files, s.Directory
			}
			block = fold(block, tr, h.Name)
		}
		out = append(out, block...)
	}
	for i := range first.Downloads {
		var block []Transfer
		for _, h := range hosts {
			d := t.Files[h.Name].Downloads[i]
			block = fold(block, Transfer{Kind: Download, Source: d.Source, Destination: d.Destination, Size: -1}, h.Name)
		}
		out = append(out, block...)
	}
	return out, diags
}

// fold adds host to the transfer of block with tr's values, or appends tr.
func fold(block []Transfer, tr Transfer, host string) []Transfer {
	for i := range block {
		if sameTransfer(block[i], tr) {
			block[i].Hosts = append(block[i].Hosts, host)
			return block
		}
	}
	tr.Hosts = []string{host}
	return append(block, tr)
}

// sameTransfer reports whether a and b are the same but for their hosts.
func sameTransfer(a, b Transfer) bool {
	a.Hosts, b.Hosts = nil, nil
	return a.Kind == b.Kind && a.Source == b.Source && a.Content == b.Content && a.Sensitive == b.Sensitive &&
		a.Destination == b.Destination && a.Size == b.Size && a.Files == b.Files && a.Directory == b.Directory &&
		a.Mode == b.Mode && a.contentSum == b.contentSum
}

// measure returns the size and the count of regular files of an upload
// source, a file or a directory tree in fsys.
func measure(fsys fs.FS, src string) (Transfer, error) {
	if fsys == nil {
		return Transfer{}, fmt.Errorf("%s: the configuration has no file system to read it from", src)
	}
	fi, err := fs.Stat(fsys, src)
	if err != nil {
		return Transfer{}, err
	}
	if !fi.IsDir() {
		return Transfer{Size: fi.Size(), Files: 1}, nil
	}
	s := Transfer{Directory: true}
	err = fs.WalkDir(fsys, src, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			s.Size += info.Size()
			s.Files++
		}
		return nil
	})
	return s, err
}

// checkCapabilities reports each task whose file blocks need a capability
// that the transport of one of its hosts does not declare: once per task,
// kind and transport, on the first such block.
func checkCapabilities(p *Plan, cfg *config.Config) hcl.Diagnostics {
	caps, tasks := capabilityLookups(p, cfg)
	var diags hcl.Diagnostics
	p.Walk(func(tn *TaskNode) {
		t := tasks[tn.Name]
		if t == nil || len(t.Files) == 0 {
			return
		}
		reported := map[string]bool{}
		for _, h := range tn.Hosts {
			desc := caps[h.Transport]
			f := t.Files[h.Name]
			if desc == nil || f == nil {
				continue // the transport's own problem is reported already
			}
			for _, need := range []struct {
				kind TransferKind
				has  bool
				rng  []hcl.Range
			}{
				{Upload, desc.Capabilities.Upload, uploadRanges(f)},
				{Download, desc.Capabilities.Download, downloadRanges(f)},
			} {
				key := string(need.kind) + "\x00" + h.Transport
				if need.has || len(need.rng) == 0 || reported[key] {
					continue
				}
				reported[key] = true
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Transport %q cannot %s files", h.Transport, need.kind),
					Detail: fmt.Sprintf("Task %q has %s blocks, and its host %q uses the transport %q, whose plugin (%s %s) does not "+
						"declare the %s capability: it speaks transport protocol 1.1, or does not carry files. Use a transport that "+
						"does (ssh, local) for these hosts, or move the file with a command.",
						tn.Name, need.kind, h.Name, h.Transport, desc.Name, desc.Version, need.kind),
					Subject: need.rng[0].Ptr(),
				})
			}
		}
	})
	return diags
}

// capabilityLookups returns what the capability checks (checkCapabilities,
// checkSudoCapabilities) look up by name: each transport's description
// (nil for one that did not start, whose problem is reported already) and
// each task's configuration.
func capabilityLookups(p *Plan, cfg *config.Config) (map[string]*sdk.DescribeResponse, map[string]*config.Task) {
	caps := make(map[string]*sdk.DescribeResponse, len(p.Transports))
	for _, tp := range p.Transports {
		caps[tp.Name] = tp.Plugin
	}
	tasks := make(map[string]*config.Task, len(cfg.Tasks))
	for _, t := range cfg.Tasks {
		tasks[t.Name] = t
	}
	return caps, tasks
}

func uploadRanges(f *config.Files) []hcl.Range {
	var out []hcl.Range
	for _, u := range f.Uploads {
		out = append(out, u.DeclRange)
	}
	return out
}

func downloadRanges(f *config.Files) []hcl.Range {
	var out []hcl.Range
	for _, d := range f.Downloads {
		out = append(out, d.DeclRange)
	}
	return out
}

// fileTransport returns t's FileTransport, looking through the wrapper
// withCapabilities may have put around it.
func fileTransport(t sdk.Transport) (sdk.FileTransport, bool) {
	return as[sdk.FileTransport](t)
}

// transferFailed is the result of a pair whose transfer failed: a failure
// of the task on that host, which its rollback then undoes (Attempts 1: the
// task started there, though Command is -1 since no command ran).
func transferFailed(ctx context.Context, err error) PhaseResult {
	res := PhaseResult{Status: StatusFailed, ExitCode: -1, Command: -1, Err: errText(err), Attempts: 1}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.Status, res.Err = StatusTimedOut, "the transfer did not end within the task's timeout"
	case ctx.Err() != nil:
		res.Status, res.Err = StatusInterrupted, "cancelled"
	}
	return res
}

// transferContext is ctx for a pair's transfers: bounded by the task's
// timeout, as its commands are, and ended by the operator's first
// interrupt, which commands get as SIGINT.
func (r *run) transferContext(ctx context.Context, t *TaskNode) (context.Context, context.CancelFunc) {
	var cancel context.CancelFunc
	if t.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	stop := context.AfterFunc(r.transfers, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// uploads runs the uploads of t on h, in order; the first failure ends
// them and is the pair's result. A task with sudo stages them and moves
// them into place through sudo (sudo_files.go).
func (r *run) uploads(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host) (PhaseResult, bool) {
	f := t.Files[h.Name]
	if f == nil || len(f.Uploads) == 0 {
		return PhaseResult{}, true
	}
	ctx, cancel := r.transferContext(ctx, t)
	defer cancel()
	ft, ok := fileTransport(tr)
	if !ok {
		return transferFailed(ctx, fmt.Errorf("upload: %w", sdk.ErrNotSupported)), false
	}
	if t.SudoUser != "" {
		if err := r.sudoUploads(ctx, tr, ft, t, h, f.Uploads); err != nil {
			r.logger.Debug("upload through sudo failed", "task", t.Name, "host", h.Name, "error", err)
			return transferFailed(ctx, err), false
		}
		return PhaseResult{}, true
	}
	sink := directSink{ft: ft, host: h.Name}
	for _, u := range f.Uploads {
		if err := r.upload(ctx, sink, u); err != nil {
			r.logger.Debug("upload failed", "task", t.Name, "host", h.Name, "destination", u.Destination, "error", err)
			return transferFailed(ctx, err), false
		}
	}
	return PhaseResult{}, true
}

// uploadSink takes the entries of an upload block, parents before what
// they hold: straight to the host (directSink), or staged to be moved into
// place through sudo (stagingSink).
type uploadSink interface {
	file(ctx context.Context, dest string, mode fs.FileMode, size int64, content io.Reader) error
	dir(ctx context.Context, dest string, mode fs.FileMode) error
	link(ctx context.Context, dest, target string) error
}

// directSink uploads each entry to its destination through the transport.
type directSink struct {
	ft   sdk.FileTransport
	host string
}

func (s directSink) file(ctx context.Context, dest string, mode fs.FileMode, size int64, content io.Reader) error {
	_, err := s.ft.Upload(ctx, &sdk.UploadRequest{Host: s.host, Path: dest, Type: sdk.RegularFile, Mode: mode, Size: size}, content)
	return wrapUpload(dest, err)
}

func (s directSink) dir(ctx context.Context, dest string, mode fs.FileMode) error {
	_, err := s.ft.Upload(ctx, &sdk.UploadRequest{Host: s.host, Path: dest, Type: sdk.Directory, Mode: mode}, nil)
	return wrapUpload(dest, err)
}

func (s directSink) link(ctx context.Context, dest, target string) error {
	_, err := s.ft.Upload(ctx, &sdk.UploadRequest{Host: s.host, Path: dest, Type: sdk.Symlink, LinkTarget: target}, nil)
	return wrapUpload(dest, err)
}

// upload performs one upload block into sink: content, a file, or a
// directory tree (parents before what they hold, symbolic links as links,
// nothing written outside the destination).
func (r *run) upload(ctx context.Context, sink uploadSink, u *config.Upload) error {
	if u.HasContent {
		mode := u.Mode
		if mode == 0 {
			mode = 0o644
		}
		return sink.file(ctx, u.Destination, mode, int64(len(u.Content)), strings.NewReader(u.Content))
	}
	fsys := r.plan.Config.Files
	// Errors name files as the operator reads them (u.Source), not by
	// their path in fsys.
	shown := func(p string) string { return u.Source + strings.TrimPrefix(p, u.Path) }
	fi, err := fs.Stat(fsys, u.Path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", u.Source, unwrapPath(err))
	}
	if !fi.IsDir() {
		return uploadFile(ctx, sink, fsys, u.Path, u.Source, u.Destination, fileMode(u.Mode, fi.Mode()))
	}
	return fs.WalkDir(fsys, u.Path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("upload %s: %w", shown(p), unwrapPath(err))
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, u.Path), "/")
		dest := path.Join(u.Destination, rel)
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("upload %s: %w", shown(p), unwrapPath(err))
		}
		switch {
		case d.IsDir():
			return sink.dir(ctx, dest, permBits(info.Mode()))
		case d.Type()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, p)
			if err != nil {
				return fmt.Errorf("upload %s: %w", shown(p), unwrapPath(err))
			}
			return sink.link(ctx, dest, target)
		case d.Type().IsRegular():
			return uploadFile(ctx, sink, fsys, p, shown(p), dest, fileMode(u.Mode, info.Mode()))
		}
		return fmt.Errorf("upload %s: neither a file, a directory nor a symbolic link", shown(p))
	})
}

// uploadFile uploads the file src of fsys, shown as name, to dest.
func uploadFile(ctx context.Context, sink uploadSink, fsys fs.FS, src, name, dest string, mode fs.FileMode) error {
	f, err := fsys.Open(src)
	if err != nil {
		return fmt.Errorf("upload %s: %w", name, unwrapPath(err))
	}
	defer func() { _ = f.Close() }() // read only
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload %s: %w", name, unwrapPath(err))
	}
	return sink.file(ctx, dest, mode, fi.Size(), f)
}

// unwrapPath drops an fs.PathError's own copy of the path, which names the
// file as the fs.FS sees it, not as the operator does.
func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

func wrapUpload(dest string, err error) error {
	if err == nil || strings.Contains(err.Error(), dest) {
		return err
	}
	return fmt.Errorf("upload %s: %w", dest, err)
}

// fileMode is the block's mode when it sets one, else the source's.
func fileMode(set, source fs.FileMode) fs.FileMode {
	if set != 0 {
		return set
	}
	return permBits(source)
}

// permBits keeps the bits of a mode that an upload carries.
func permBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// downloads runs the downloads of t on h, in order, after its commands.
func (r *run) downloads(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host) (PhaseResult, bool) {
	f := t.Files[h.Name]
	if f == nil || len(f.Downloads) == 0 {
		return PhaseResult{}, true
	}
	ctx, cancel := r.transferContext(ctx, t)
	defer cancel()
	ft, ok := fileTransport(tr)
	if !ok {
		return transferFailed(ctx, fmt.Errorf("download: %w", sdk.ErrNotSupported)), false
	}
	if t.SudoUser != "" {
		if err := r.sudoDownloads(ctx, tr, ft, t, h, f.Downloads); err != nil {
			r.logger.Debug("download through sudo failed", "task", t.Name, "host", h.Name, "error", err)
			return transferFailed(ctx, err), false
		}
		return PhaseResult{}, true
	}
	for _, d := range f.Downloads {
		if err := download(ctx, ft, h, d.Source, d, 0); err != nil {
			r.logger.Debug("download failed", "task", t.Name, "host", h.Name, "source", d.Source, "error", err)
			return transferFailed(ctx, err), false
		}
	}
	return PhaseResult{}, true
}

// download fetches d's file, at from on h (d.Source, or its staged copy),
// into its local destination: written beside it under a temporary name,
// given its mode explicitly (mode, or when zero 0644, or 0600 when the
// host's file is not readable by all; never the umask's), then renamed
// over it, so that the destination holds a whole file or is left as it
// was.
func download(ctx context.Context, ft sdk.FileTransport, h *Host, from string, d *config.Download, mode fs.FileMode) (err error) {
	dir := filepath.Dir(d.Destination)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("download %s: %w", d.Source, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(d.Destination)+".fanout-*")
	if err != nil {
		return fmt.Errorf("download %s: %w", d.Source, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // abandoned: the error that matters is err
			_ = os.Remove(tmp.Name())
		}
	}()
	resp, err := ft.Download(ctx, &sdk.DownloadRequest{Host: h.Name, Path: from}, tmp)
	if err != nil {
		return wrapDownload(d.Source, err)
	}
	if mode == 0 {
		mode = 0o644
		if resp.Mode&0o004 == 0 {
			mode = 0o600
		}
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("download %s: %w", d.Source, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("download %s: %w", d.Source, err)
	}
	if err := os.Rename(tmp.Name(), d.Destination); err != nil {
		return fmt.Errorf("download %s: %w", d.Source, err)
	}
	return nil
}

func wrapDownload(src string, err error) error {
	if strings.Contains(err.Error(), src) {
		return err
	}
	return fmt.Errorf("download %s: %w", src, err)
}

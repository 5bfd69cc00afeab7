package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/config"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
)

// loader carries what loading a configuration produced, for rendering
// diagnostics against the right source files.
type loader struct {
	parser *config.Parser
	s      *streams
	color  bool
}

// parseArgs reports a flag problem or a help request as the command's
// exit code; ok is false when the command must return that code.
func parseArgs(err error, s *streams, name, synopsis string) (code int, ok bool) {
	if err == nil {
		return 0, true
	}
	if errors.Is(err, arguments.ErrHelp) {
		commandHelp(s.Out, name, synopsis, "")
		return exitOK, false
	}
	fmt.Fprintf(s.Err, "fanout %s: %s\nRun \"fanout %s -help\" for usage.\n", name, err, name)
	return exitUsage, false
}

// load reads the configuration the arguments name, with variables from
// FANOUT_VAR_* and then -var (which wins).
func load(s *streams, c *arguments.Common) (*config.Config, *loader, bool) {
	dir, path := fsPath(c.Path)
	l := &loader{parser: config.NewParser(os.DirFS(dir)), s: s, color: s.Color && !c.NoColor}
	if _, err := os.Stat(c.Path); err != nil {
		fmt.Fprintf(s.Err, "fanout: cannot read configuration %s: %s\n", c.Path, errors.Unwrap(err))
		return nil, l, false
	}
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		if name, ok := strings.CutPrefix(kv, "FANOUT_VAR_"); ok {
			if n, v, ok := strings.Cut(name, "="); ok {
				vars[n] = v
			}
		}
	}
	for k, v := range c.Vars.Values {
		vars[k] = v
	}
	cfg, diags := l.parser.LoadConfig(path, config.LoadOptions{Vars: vars})
	l.diagnostics(diags)
	if diags.HasErrors() {
		return nil, l, false
	}
	return cfg, l, true
}

func (l *loader) diagnostics(diags hcl.Diagnostics) {
	views.Diagnostics(l.s.Err, l.parser.Files(), diags, l.color)
}

// fsPath splits a user's path into a directory to open as an fs.FS and a
// slash-separated path inside it, keeping the path as typed where it can,
// since diagnostics show it.
func fsPath(p string) (dir, path string) {
	if filepath.IsLocal(p) {
		return ".", filepath.ToSlash(filepath.Clean(p))
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	return "/", strings.TrimPrefix(filepath.ToSlash(abs), "/")
}

// newLogger returns the logger FANOUT_LOG asks for (off by default), on
// stderr, which plugins' logs also reach.
func newLogger(s *streams) hclog.Logger {
	level := hclog.Off
	if v := os.Getenv("FANOUT_LOG"); v != "" {
		level = hclog.LevelFromString(v)
		if level == hclog.NoLevel {
			level = hclog.Debug
		}
	}
	return hclog.New(&hclog.LoggerOptions{Name: "fanout", Level: level, Output: s.Err})
}

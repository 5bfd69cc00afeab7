package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/core"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// loader loads a configuration with its variables and reports what went
// wrong: as text on stderr, or, for validate -json, kept for one JSON
// document on stdout.
type loader struct {
	s     *streams
	color bool
	// collect keeps diagnostics in diags instead of printing them.
	collect bool
	diags   hcl.Diagnostics
	// files are every file parsed, by the name diagnostics use, for their
	// source snippets.
	files map[string]*hcl.File
	// prompt asks for required variables left unset; nil when stdin is not
	// a terminal (or for validate), which makes them errors.
	prompt func(v *config.Variable) (string, error)
	// runID is the run a plan is built for (apply's), which the
	// transports are configured with; empty when none will run.
	runID string
	// unset leaves required variables no input sets unknown (validate's,
	// as terraform validate's).
	unset bool
}

func newLoader(s *streams, c *arguments.Common) *loader {
	return &loader{s: s, color: s.Color && !c.NoColor, files: map[string]*hcl.File{}, prompt: s.Prompt}
}

// parseArgs reports a flag problem or a help request as the command's
// exit code; ok is false when the command must return that code.
func parseArgs(err error, s *streams, name string) (code int, ok bool) {
	if err == nil {
		return 0, true
	}
	if errors.Is(err, arguments.ErrHelp) {
		commandHelp(s.Out, name)
		return exitOK, false
	}
	printf(s.Err, "fanout %s: %s\nRun \"fanout %s -help\" for usage.\n", name, err, name)
	return exitUsage, false
}

// load reads the configuration the arguments name. Variables come from
// FANOUT_VAR_*, then each -var and -var-file in the order given, a later
// one winning (Terraform's precedence); required ones still unset are
// asked for on a terminal.
func (l *loader) load(c *arguments.Common) (*config.Config, bool) {
	if _, err := os.Stat(c.Path); err != nil {
		l.report(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration",
			Detail: fmt.Sprintf("fanout cannot read configuration %s: %s. Give a .hcl file or a directory of them.", c.Path, errors.Unwrap(err))}})
		return nil, false
	}
	in, diags := readVariableInputs(c, l.files)
	raw, env, values := in.raw, in.env, in.values
	if diags.HasErrors() {
		l.report(diags)
		return nil, false
	}

	cfg, cfgDiags, files := l.parse(c.Path, raw, env, values)
	if cfgDiags.HasErrors() && cfg != nil && l.prompt != nil {
		if missing := missingRequired(cfg, raw, env, values); len(missing) > 0 {
			for _, v := range missing {
				val, err := l.prompt(v)
				if err != nil {
					l.report(diags.Extend(cfgDiags))
					return nil, false
				}
				raw[v.Name] = val
			}
			cfg, cfgDiags, files = l.parse(c.Path, raw, env, values)
		}
	}
	maps.Copy(l.files, files)
	diags = diags.Extend(cfgDiags)
	l.report(diags)
	if diags.HasErrors() {
		return nil, false
	}
	return cfg, true
}

// parse loads the configuration at p. Diagnostics and files are named by
// the path as the user typed it: config.Parser reads within os.DirFS("/"),
// from the current directory (its Base) for a relative path, and keeps an
// absolute one's leading slash in the names it reports. So file("../x")
// and upload sources reach above the configuration's directory alike from
// wherever fanout runs, and may name absolute paths.
func (l *loader) parse(p string, raw, env map[string]string, values map[string]config.InputValue) (*config.Config, hcl.Diagnostics, map[string]*hcl.File) {
	parser, path := newParser(p)
	cfg, diags := parser.LoadConfig(path, config.LoadOptions{Vars: raw, EnvVars: env, Values: values, Unset: l.unset})
	return cfg, diags, parser.Files()
}

// newParser returns the parser of the configuration at p, and p as the
// parser takes it.
func newParser(p string) (*config.Parser, string) {
	cwd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(cwd) {
		// No current directory (removed under us): only what it holds
		// beside p can be read, as p itself can.
		dir, path := fsPath(p)
		return config.NewParser(os.DirFS(dir)), path
	}
	parser := config.NewParser(os.DirFS("/"))
	parser.Base = strings.TrimPrefix(filepath.ToSlash(cwd), "/")
	parser.Rooted = true
	return parser, filepath.ToSlash(p)
}

// variableInputs are the variables' values as the command line and the
// environment give them, before a configuration reads them: raw from -var,
// env from FANOUT_VAR_*, values from -var-files, each name in one only, the
// later flag winning (Terraform's precedence).
type variableInputs struct {
	raw, env map[string]string
	values   map[string]config.InputValue
}

// readVariableInputs reads c's -var and -var-file flags and FANOUT_VAR_*;
// the -var-files parsed are added to files, for diagnostics' snippets.
func readVariableInputs(c *arguments.Common, files map[string]*hcl.File) (variableInputs, hcl.Diagnostics) {
	// The environment's values sit under every flag; config ignores those
	// for undeclared variables, which a shell may set for another
	// configuration.
	in := variableInputs{raw: map[string]string{}, env: map[string]string{}, values: map[string]config.InputValue{}}
	for _, kv := range os.Environ() {
		if name, ok := strings.CutPrefix(kv, "FANOUT_VAR_"); ok {
			if n, v, ok := strings.Cut(name, "="); ok {
				in.env[n] = v
			}
		}
	}
	var diags hcl.Diagnostics
	for _, a := range c.Vars.Args {
		if a.File == "" {
			in.raw[a.Name] = a.Value
			delete(in.values, a.Name)
			continue
		}
		src, err := config.ReadHCLFile(a.File)
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variables file",
				Detail: fmt.Sprintf("The file %s given by -var-file cannot be read: %s.", a.File, errors.Unwrap(err))})
			continue
		}
		f, vals, d := config.ParseVarFile(src, a.File)
		if f != nil {
			files[a.File] = f
		}
		diags = diags.Extend(d)
		for name, v := range vals {
			in.values[name] = v
			delete(in.raw, name)
			delete(in.env, name)
		}
	}
	return in, diags
}

// missingRequired lists the variables without a default that no input
// set, in declaration order.
func missingRequired(cfg *config.Config, raw, env map[string]string, values map[string]config.InputValue) []*config.Variable {
	var out []*config.Variable
	for _, v := range cfg.Variables {
		_, r := raw[v.Name]
		_, e := env[v.Name]
		_, f := values[v.Name]
		if !r && !e && !f && v.Default.Type() == cty.NilType {
			out = append(out, v)
		}
	}
	return out
}

// report prints diagnostics on stderr, or keeps them for a JSON document.
func (l *loader) report(diags hcl.Diagnostics) {
	if l.collect {
		l.diags = l.diags.Extend(diags)
		return
	}
	views.Diagnostics(l.s.Err, l.files, diags, l.color)
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
	return "/", filepath.ToSlash(abs)
}

// planned is a loaded and planned configuration, ready to show or run.
type planned struct {
	cfg  *config.Config
	plan *core.Plan
	ts   *core.Transports
	// redact hides the sensitive variables' values in every view.
	redact *views.Redactor
}

// buildPlan loads the configuration and plans it; close stops the
// transports the plan started and must always be called.
func (l *loader) buildPlan(c *arguments.Common, sel arguments.Selection) (*planned, func(), bool) {
	cfg, ok := l.load(c)
	if !ok {
		return nil, func() {}, false
	}
	return l.planConfig(cfg, c, sel)
}

// planConfig plans a loaded configuration, as buildPlan does.
func (l *loader) planConfig(cfg *config.Config, c *arguments.Common, sel arguments.Selection) (*planned, func(), bool) {
	logger := newLogger(l.s)
	launcher := newConfigLauncher(logger, c.Path)
	ts := core.NewTransports(coreLauncher{launcher}, logger)
	done := func() {
		_ = ts.Close(context.Background())
		_ = launcher.Close() // once its plugins are gone: their sockets' directory
	}
	p, diags := core.BuildPlan(context.Background(), cfg, core.PlanOptions{
		Targets: c.Targets, Limit: sel.Limit, Exclude: sel.Exclude, Transports: ts, RunID: l.runID,
	})
	l.report(diags)
	if diags.HasErrors() {
		return nil, done, false
	}
	// Views hide what the journal leaves out: every string and number
	// inside a sensitive variable's value and every sensitive transport
	// setting, wherever a command or a plugin's message repeats one.
	redact := views.NewRedactor(core.SecretValues(core.Secrets(cfg, p)), p.Labels()...)
	return &planned{cfg: cfg, plan: p, ts: ts, redact: redact}, done, true
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

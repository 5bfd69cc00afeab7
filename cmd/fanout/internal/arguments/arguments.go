// Package arguments parses fanout's command lines into plain structs. It
// reads flags only: no files, no environment, no output.
package arguments

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrHelp is returned when the user asked for help; the caller prints the
// command's usage and exits 0.
var ErrHelp = flag.ErrHelp

// ViewType is how a command renders: for a person, or as JSON for a
// program (-json).
type ViewType int

const (
	// ViewHuman is text for a person, the default.
	ViewHuman ViewType = iota
	// ViewJSON is the versioned JSON documented in docs/json.md.
	ViewJSON
)

// String returns "human" or "json".
func (v ViewType) String() string {
	if v == ViewJSON {
		return "json"
	}
	return "human"
}

// VarArg is one -var or -var-file flag. Their order matters: a later one
// wins, whichever kind it is (Terraform's rule).
type VarArg struct {
	// File is the -var-file path; empty for a -var.
	File string
	// Name and Value are a -var's NAME=VALUE.
	Name, Value string
}

// Vars collects -var NAME=VALUE and -var-file FILE flags in the order given.
type Vars struct {
	Args []VarArg
}

// varFlag is the flag.Value of -var.
type varFlag struct{ v *Vars }

func (f varFlag) String() string { return "" }

func (f varFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("-var needs NAME=VALUE, got %q", s)
	}
	f.v.Args = append(f.v.Args, VarArg{Name: name, Value: value})
	return nil
}

// varFileFlag is the flag.Value of -var-file.
type varFileFlag struct{ v *Vars }

func (f varFileFlag) String() string { return "" }

func (f varFileFlag) Set(s string) error {
	if s == "" {
		return errors.New("-var-file needs a file name")
	}
	f.v.Args = append(f.v.Args, VarArg{File: s})
	return nil
}

// listFlag collects a repeatable flag whose values may also be
// comma-separated: -limit web1,web2 -limit db*. A comma inside brackets
// belongs to a nodeset and does not split: -limit 'web[01-03,07],db1' is
// two patterns.
type listFlag struct{ list *[]string }

func (f listFlag) String() string { return "" }

func (f listFlag) Set(s string) error {
	depth, start, n := 0, 0, 0
	add := func(p string) {
		if p = strings.TrimSpace(p); p != "" {
			*f.list = append(*f.list, p)
			n++
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth = max(depth-1, 0)
		case ',':
			if depth == 0 {
				add(s[start:i])
				start = i + 1
			}
		}
	}
	add(s[start:])
	if n == 0 {
		// -limit "$HOSTS" with HOSTS unset would otherwise select every
		// host, and -exclude "$HOSTS" none.
		return errors.New("no host pattern in it: give one or more names, roles, nodesets or globs")
	}
	return nil
}

// Common holds what plan, apply, validate, rollback and plugins share: the
// configuration and its variables, then optional task or group names.
type Common struct {
	// Path is a .hcl file or a directory of them.
	Path string
	// Targets are the task or group names given after the path.
	Targets []string
	Vars    Vars
	NoColor bool
	// ViewType is ViewJSON with -json.
	ViewType ViewType
}

// Selection is -limit and -exclude: which hosts the plan keeps.
type Selection struct {
	// Limit keeps only the hosts matching one of these names, roles or
	// globs; empty keeps every host.
	Limit []string
	// Exclude drops the hosts matching one of these.
	Exclude []string
}

func (c *Common) flags(fs *flag.FlagSet) {
	fs.Var(varFlag{&c.Vars}, "var", "set a variable: -var NAME=VALUE (repeatable)")
	fs.Var(varFileFlag{&c.Vars}, "var-file", "set variables from an HCL file of NAME = VALUE lines (repeatable)")
	fs.BoolVar(&c.NoColor, "no-color", false, "disable colors")
	fs.BoolFunc("json", "machine-readable JSON output", func(string) error {
		c.ViewType = ViewJSON
		return nil
	})
}

func (s *Selection) flags(fs *flag.FlagSet) {
	fs.Var(listFlag{&s.Limit}, "limit", "run only on these hosts: names, roles, nodesets or globs (repeatable, comma-separated)")
	fs.Var(listFlag{&s.Exclude}, "exclude", "never run on these hosts: names, roles, nodesets or globs (repeatable, comma-separated)")
}

func (c *Common) positional(fs *flag.FlagSet, cmd string) error {
	args := fs.Args()
	if len(args) == 0 {
		return fmt.Errorf("%s needs a configuration: fanout %s FILE.hcl|DIR [NAME...]", cmd, cmd)
	}
	c.Path = args[0]
	// Flags may also follow the path, as operators type them.
	rest := args[1:]
	for len(rest) > 0 {
		// A lone "-" is no flag (the flag package stops at it, so parsing
		// again would loop forever): it is a name like any other.
		if strings.HasPrefix(rest[0], "-") && rest[0] != "-" {
			if err := fs.Parse(rest); err != nil {
				return err
			}
			rest = fs.Args()
			continue
		}
		c.Targets = append(c.Targets, rest[0])
		rest = rest[1:]
	}
	return nil
}

// Plan is `fanout plan`.
type Plan struct {
	Common
	Selection
}

// Apply is `fanout apply`.
type Apply struct {
	Common
	Selection
	// Quiet shows only failures and the recap.
	Quiet bool
	// Group folds identical output of many hosts into one block.
	Group bool
	// HTML is the file the run's HTML timeline is written to at its end;
	// empty writes none.
	HTML string
}

// Validate is `fanout validate`.
type Validate struct {
	Common
}

// newFlagSet returns a flag set that reports errors to its caller instead
// of printing them, so the command prints one clear message.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// ParsePlan parses `fanout plan` arguments.
func ParsePlan(args []string) (*Plan, error) {
	p := &Plan{}
	fs := newFlagSet("plan")
	p.Common.flags(fs)
	p.Selection.flags(fs)
	err := parse(fs, args, &p.Common, "plan")
	return p, err
}

// ParseApply parses `fanout apply` arguments.
func ParseApply(args []string) (*Apply, error) {
	a := &Apply{}
	fs := newFlagSet("apply")
	a.Common.flags(fs)
	a.Selection.flags(fs)
	fs.BoolVar(&a.Quiet, "quiet", false, "show only failures and the recap")
	fs.BoolVar(&a.Group, "group", false, "fold identical output of many hosts into one block")
	fs.StringVar(&a.HTML, "html", "", "write the run's HTML timeline to this file at its end")
	err := parse(fs, args, &a.Common, "apply")
	if err == nil && a.ViewType == ViewJSON && (a.Quiet || a.Group) {
		err = errors.New("-json cannot be combined with -quiet or -group: the JSON stream holds every event")
	}
	return a, err
}

// ParseValidate parses `fanout validate` arguments.
func ParseValidate(args []string) (*Validate, error) {
	v := &Validate{}
	fs := newFlagSet("validate")
	v.flags(fs)
	err := parse(fs, args, &v.Common, "validate")
	return v, err
}

func parse(fs *flag.FlagSet, args []string, c *Common, cmd string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ErrHelp
		}
		return err
	}
	return c.positional(fs, cmd)
}

// Fmt is `fanout fmt`.
type Fmt struct {
	// Paths are files or directories; "." when none is given.
	Paths []string
	// Check lists unformatted files and changes nothing.
	Check bool
	// Recursive also formats the directories under a directory.
	Recursive bool
}

// ParseFmt parses `fanout fmt` arguments.
func ParseFmt(args []string) (*Fmt, error) {
	f := &Fmt{}
	fs := newFlagSet("fmt")
	fs.BoolVar(&f.Check, "check", false, "list unformatted files, change nothing, exit 3 if any")
	fs.BoolVar(&f.Recursive, "recursive", false, "also format subdirectories")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return f, err
	}
	f.Paths = paths
	if len(f.Paths) == 0 {
		f.Paths = []string{"."}
	}
	return f, nil
}

// Completion is `fanout completion SHELL`.
type Completion struct {
	// Shell is bash, zsh or fish.
	Shell string
}

// ParseCompletion parses `fanout completion` arguments.
func ParseCompletion(args []string) (*Completion, error) {
	c := &Completion{}
	fs := newFlagSet("completion")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, ErrHelp
		}
		return c, err
	}
	if fs.NArg() != 1 {
		return c, errors.New("completion needs one shell: bash, zsh or fish")
	}
	switch c.Shell = fs.Arg(0); c.Shell {
	case "bash", "zsh", "fish":
		return c, nil
	}
	return c, fmt.Errorf("no completion for shell %q: choose bash, zsh or fish", c.Shell)
}

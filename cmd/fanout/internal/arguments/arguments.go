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

// Vars collects repeated -var NAME=VALUE flags in the order given.
type Vars struct {
	Values map[string]string
}

// String implements flag.Value.
func (v *Vars) String() string { return "" }

// Set implements flag.Value.
func (v *Vars) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("-var needs NAME=VALUE, got %q", s)
	}
	if v.Values == nil {
		v.Values = map[string]string{}
	}
	v.Values[name] = value
	return nil
}

// Common holds what plan, apply and validate share: the configuration and
// its variables, then optional task or group names.
type Common struct {
	// Path is a .hcl file or a directory of them.
	Path string
	// Targets are the task or group names given after the path.
	Targets []string
	Vars    Vars
	NoColor bool
}

func (c *Common) flags(fs *flag.FlagSet) {
	fs.Var(&c.Vars, "var", "set a variable: -var NAME=VALUE (repeatable)")
	fs.BoolVar(&c.NoColor, "no-color", false, "disable colors")
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
		if strings.HasPrefix(rest[0], "-") {
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
}

// Apply is `fanout apply`.
type Apply struct {
	Common
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
	p.flags(fs)
	err := parse(fs, args, &p.Common, "plan")
	return p, err
}

// ParseApply parses `fanout apply` arguments.
func ParseApply(args []string) (*Apply, error) {
	a := &Apply{}
	fs := newFlagSet("apply")
	a.flags(fs)
	err := parse(fs, args, &a.Common, "apply")
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

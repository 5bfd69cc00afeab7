package arguments

import (
	"errors"
	"flag"
	"fmt"
)

// Runs is `fanout runs [PATH]` and `fanout runs show ID [PATH]`.
type Runs struct {
	// Path is the configuration (a .hcl file or a directory) whose runs
	// are listed; "." when not given.
	Path string
	// Show is the run ID to show; empty lists the runs.
	Show    string
	NoColor bool
	// HTML shows the run as an HTML timeline written to Out: ID.html in
	// the current directory when Out is empty, standard output for "-".
	// -o alone implies -html.
	HTML bool
	Out  string
}

// ParseRuns parses `fanout runs` arguments.
func ParseRuns(args []string) (*Runs, error) {
	r := &Runs{}
	fs := newFlagSet("runs")
	fs.BoolVar(&r.NoColor, "no-color", false, "disable colors")
	fs.BoolVar(&r.HTML, "html", false, "show the run as an HTML timeline")
	fs.StringVar(&r.Out, "o", "", "the HTML timeline's file (- for standard output)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return r, err
	}
	r.HTML = r.HTML || r.Out != ""
	if len(rest) > 0 && rest[0] == "show" {
		if len(rest) < 2 {
			return r, errors.New("runs show needs a run ID: fanout runs show ID [FILE.hcl|DIR]")
		}
		r.Show, rest = rest[1], rest[2:]
	}
	if r.HTML && r.Show == "" {
		return r, errors.New("-html shows one run: fanout runs show ID -html [-o FILE] [FILE.hcl|DIR]")
	}
	switch len(rest) {
	case 0:
		r.Path = "."
	case 1:
		r.Path = rest[0]
	default:
		return r, errors.New("runs takes one configuration: fanout runs [show ID] [FILE.hcl|DIR]")
	}
	return r, nil
}

// Rollback is `fanout rollback [options] ID [PATH]`.
type Rollback struct {
	// Common's Path is the configuration whose journal holds the run; "."
	// when not given. Its variables fill the journal's sensitive values.
	Common
	// ID is the run to roll back.
	ID string
	// Force rolls back a run that finished successfully, or that a later
	// run of the configuration followed.
	Force bool
	// DryRun shows what would be rolled back, and does nothing.
	DryRun bool
	// AutoApprove rolls back without asking; without it the operator
	// confirms on a terminal, and fanout refuses when there is none.
	AutoApprove bool
}

// ParseRollback parses `fanout rollback` arguments.
func ParseRollback(args []string) (*Rollback, error) {
	r := &Rollback{}
	fs := newFlagSet("rollback")
	r.Common.flags(fs)
	fs.BoolVar(&r.Force, "force", false, "roll back a run that succeeded, or that a later run followed")
	fs.BoolVar(&r.DryRun, "dry-run", false, "show what would be rolled back, run nothing")
	fs.BoolVar(&r.AutoApprove, "auto-approve", false, "roll back without asking for confirmation")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return r, err
	}
	if r.ViewType == ViewJSON {
		return r, errors.New("rollback has no -json output yet")
	}
	switch len(rest) {
	case 1:
		r.ID, r.Path = rest[0], "."
	case 2:
		r.ID, r.Path = rest[0], rest[1]
	default:
		return r, errors.New("rollback needs a run ID: fanout rollback [options] ID [FILE.hcl|DIR]")
	}
	return r, nil
}

// Plugins is `fanout plugins [FILE.hcl|DIR]` and `fanout plugins lock
// FILE.hcl|DIR`.
type Plugins struct {
	// Common's Path is the configuration whose transports are listed or
	// locked; empty when none is given. Targets are never set.
	Common
	// UpdatePins (-update-pins, lock only) rewrites the sha256 of each
	// transport block that pins one to the checksum of the binary found,
	// before locking it.
	UpdatePins bool
}

// ParsePlugins parses the options and the optional configuration of
// `fanout plugins` and of `fanout plugins lock` (given what follows
// "lock").
func ParsePlugins(args []string) (*Plugins, error) {
	p := &Plugins{}
	fs := newFlagSet("plugins")
	p.Common.flags(fs)
	fs.BoolVar(&p.UpdatePins, "update-pins", false, "")
	for {
		if err := fs.Parse(args); err != nil {
			return p, err
		}
		if fs.NArg() == 0 {
			return p, nil
		}
		if p.Path != "" {
			return p, fmt.Errorf("one configuration at most, got %s and %s", p.Path, fs.Arg(0))
		}
		p.Path, args = fs.Arg(0), fs.Args()[1:]
	}
}

// parseInterspersed parses flags wherever they are among the positional
// arguments, as operators type them, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ErrHelp
			}
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

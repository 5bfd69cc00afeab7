// Command fanout runs tasks on many hosts at once: declared in HCL, planned
// before it runs, and rolled back as a whole when one part fails.
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], newStreams()))
}

// streams are where a command writes; tests pass buffers.
type streams struct {
	Out io.Writer
	Err io.Writer
	// Color is true when Out is a terminal and NO_COLOR is unset.
	Color bool
}

func newStreams() *streams {
	color := term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("NO_COLOR") == ""
	return &streams{Out: os.Stdout, Err: os.Stderr, Color: color}
}

// Exit codes, as the README documents them.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

type command struct {
	synopsis string
	run      func(args []string, s *streams) int
	hidden   bool
}

var commands = map[string]command{
	"plan":            {synopsis: "Show what would run where, without running anything", run: runPlan},
	"apply":           {synopsis: "Run the tasks, rolling back on failure", run: runApply},
	"validate":        {synopsis: "Check a configuration without contacting any host", run: runValidate},
	"version":         {synopsis: "Print the fanout version", run: runVersion},
	"internal-plugin": {run: runInternalPlugin, hidden: true},
}

var commandOrder = []string{"plan", "apply", "validate", "version"}

func run(args []string, s *streams) int {
	if len(args) == 0 {
		usage(s.Err)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		usage(s.Out)
		return exitOK
	case "-v", "-version", "--version":
		return runVersion(nil, s)
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(s.Err, "fanout: unknown command %q.\n\n", name)
		usage(s.Err)
		return exitUsage
	}
	return cmd.run(args[1:], s)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: fanout COMMAND [options] FILE.hcl|DIR [NAME...]

fanout runs tasks on many hosts at once, declared in HCL, planned before it
runs, and rolled back as a whole when one part fails.

Commands:
`)
	for _, name := range commandOrder {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].synopsis)
	}
	fmt.Fprint(w, `
Run "fanout COMMAND -help" for a command's options.
Set FANOUT_LOG=debug to see debug logs, plugins' included.
`)
}

func runVersion(_ []string, s *streams) int {
	fmt.Fprintf(s.Out, "fanout %s\n", version)
	return exitOK
}

// commandHelp is printed by -help for plan, apply and validate.
func commandHelp(w io.Writer, name, synopsis, extra string) {
	fmt.Fprintf(w, `Usage: fanout %s [options] FILE.hcl|DIR [NAME...]

  %s

  NAME... limits the run to the named tasks or parallelize groups, in that
  order (like "cap deploy:restart"); without names every root runs.

Options:
  -var NAME=VALUE   Set a variable (repeatable); FANOUT_VAR_NAME=VALUE in
                    the environment sets one with lower precedence.
  -no-color         Disable colors (so does NO_COLOR=1).
%s`, name, synopsis, extra)
}

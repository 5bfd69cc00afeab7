// Command fanout runs tasks on many hosts at once: declared in HCL, planned
// before it runs, and rolled back as a whole when one part fails.
package main

import (
	"context"
	"io"
	"os"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/internal/reaper"
	"github.com/fanout/fanout/plugins/local"
	"github.com/fanout/fanout/sdk/client"
	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	// First, before anything reads arguments: the local transport re-executes
	// this binary once per plugin as the supervisor of the commands it runs.
	local.SupervisorMain()
	if !hiddenCommand(os.Args[1:]) {
		// fanout becomes a child subreaper, so that what a crashed plugin
		// leaves running becomes fanout's to end before the rollback
		// (pluginhost.Plugin.KillOrphans); where that is impossible, a
		// crash says fanout cannot know. Not the plugins fanout serves
		// (a hidden command): their commands' orphans must reach fanout;
		// and each of them decides on limitProcs (runInternalPlugin).
		// Here, not in run, which tests call in their own process.
		_ = reaper.Enable()
		limitProcs()
	}
	os.Exit(run(os.Args[1:], newStreams()))
}

// hiddenCommand reports whether args run one of the commands fanout runs
// itself, such as serving a built-in transport.
func hiddenCommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	c := lookupCommand(args[0])
	return c != nil && c.hidden
}

// streams are where a command reads and writes; tests pass buffers.
type streams struct {
	Out io.Writer
	Err io.Writer
	// Color is true when Out is a terminal and NO_COLOR is unset.
	Color bool
	// Terminal is true when Out is a terminal: control characters are
	// escaped there, and the live status line drawn unless it is Dumb.
	Terminal bool
	// ErrTerminal is true when Err is a terminal, where exec -pipe writes
	// the commands' stderr: control characters are escaped there.
	ErrTerminal bool
	// Dumb is true when TERM says the terminal obeys no escape sequence
	// (TERM=dumb: Emacs' shell, some CI consoles): no colors, no status
	// line redrawn in place, as git and ls do.
	Dumb bool
	// Width returns the terminal's width, 0 when unknown.
	Width func() int
	// Prompt asks the operator for a variable's value; nil when stdin is
	// not a terminal, so that a missing variable is an error in scripts.
	Prompt func(v *config.Variable) (string, error)
	// Confirm asks the operator a question and returns the line typed,
	// or ctx's error once ctx ends; nil when stdin is not a terminal, so
	// that nobody is waited for.
	Confirm func(ctx context.Context, question string) (string, error)
	// term asks Prompt's, Confirm's and the run's questions (newInput);
	// nil when stdin is not a terminal.
	term *terminal
}

func newStreams() *streams {
	out := int(os.Stdout.Fd())
	tty := term.IsTerminal(out)
	dumb := os.Getenv("TERM") == "dumb"
	s := &streams{
		Out: &outputWriter{w: os.Stdout}, Err: &outputWriter{w: os.Stderr},
		Color:       tty && os.Getenv("NO_COLOR") == "" && !dumb,
		Terminal:    tty,
		ErrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		Dumb:        dumb,
		Width: func() int {
			w, _, err := term.GetSize(out)
			if err != nil {
				return 0
			}
			return w
		},
	}
	// One terminal for every question, so no line typed ahead is lost.
	if s.term = newTerminal(os.Stderr); s.term != nil {
		s.Prompt = terminalPrompt(s.term)
		s.Confirm = terminalConfirm(s.term)
	}
	return s
}

// Exit codes, as the README documents them.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitFmtCheck = 3
	// exitNotRolledBack is a run whose undo is incomplete: a rollback
	// failed, or an abort left pairs without theirs. It wins over
	// exitInterrupted, since it is what needs someone's hands.
	exitNotRolledBack = 4
	exitInterrupted   = 130
)

func run(args []string, s *streams) int {
	defer startProfiling(args)()
	if len(args) == 0 {
		usage(s.Err)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c := lookupCommand(args[1]); c != nil && c.help != "" {
				commandHelp(s.Out, args[1])
				return exitOK
			}
		}
		usage(s.Out)
		return exitOK
	case "-v", "-version", "--version":
		return runVersion(nil, s)
	}
	cmd := lookupCommand(name)
	if cmd == nil {
		printf(s.Err, "fanout: unknown command %q.\n\n", name)
		usage(s.Err)
		return exitUsage
	}
	if !cmd.hidden {
		// Not for a plugin fanout serves: its stdout is go-plugin's, and
		// a plugin whose host is gone should go too.
		survivePipes()
		// Said once, before anything starts, rather than per plugin.
		if _, err := client.ParseReattach(os.Getenv(client.ReattachEnv)); err != nil {
			printf(s.Err, "fanout: %v\n", err)
			return exitUsage
		}
	}
	return cmd.run(args[1:], s)
}

func usage(w io.Writer) {
	printf(w, "%s", `Usage: fanout COMMAND [options] FILE.hcl|DIR [NAME...]

fanout runs tasks on many hosts at once, declared in HCL, planned before it
runs, and rolled back as a whole when one part fails.

Commands:
`)
	for _, c := range commands {
		if !c.hidden {
			printf(w, "  %-10s %s\n", c.name, c.synopsis)
		}
	}
	printf(w, "%s", `
Examples:
  fanout plan deploy.hcl                 what would run where; runs nothing
  fanout apply deploy.hcl                run it; on failure, roll back
  fanout apply -limit 'web*' deploy.hcl restart

Run "fanout COMMAND -help" for a command's options and examples.
Set FANOUT_LOG=debug to see debug logs, plugins' included.
`)
}

func runVersion(_ []string, s *streams) int {
	printf(s.Out, "fanout %s\n", version)
	return exitOK
}

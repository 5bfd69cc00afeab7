package main

import "strings"

// command is one subcommand of fanout.
type command struct {
	name string
	// synopsis is its line in the usage list; help is its -help text
	// (empty: "Usage: fanout NAME").
	synopsis string
	help     string
	run      func(args []string, s *streams) int
	// hidden commands are for fanout itself (re-executed as a plugin,
	// asked by completion scripts): not listed, not completed.
	hidden bool
}

// commands is every subcommand, in the order usage lists them. It is the
// only list: usage, -help, dispatch and the completion scripts read it.
// It is set in init, not in its declaration, because commands print their
// own -help through it (a variable may not refer to itself).
var commands []command

func init() {
	commands = []command{
		{name: "plan", synopsis: "Show what would run where, without running anything", help: helpPlan, run: runPlan},
		{name: "apply", synopsis: "Run the tasks, rolling back on failure", help: helpApply, run: runApply},
		{name: "exec", synopsis: "Run one command on many hosts: fanout exec -on web -- uptime", help: helpExec, run: runExec},
		{name: "validate", synopsis: "Check a configuration without contacting any host", help: helpValidate, run: runValidate},
		{name: "fmt", synopsis: "Rewrite .hcl files in the canonical style", help: helpFmt, run: runFmt},
		{name: "runs", synopsis: "List past runs, or show one: fanout runs [show ID]", help: helpRuns, run: runRuns},
		{name: "rollback", synopsis: "Roll back a recorded run, e.g. after fanout was killed", help: helpRollback, run: runRollback},
		{name: "completion", synopsis: "Print a shell completion script (bash, zsh, fish)", help: helpCompletion, run: runCompletion},
		{name: "version", synopsis: "Print the fanout version", run: runVersion},
		{name: "plugins", synopsis: "List transport plugins and their schemas; lock their checksums", help: pluginsHelp, run: runPlugins},
		{name: "internal-plugin", run: runInternalPlugin, hidden: true},
		{name: "__names", run: runNames, hidden: true},
	}
}

// lookupCommand returns the command called name, or nil.
func lookupCommand(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// visibleCommands returns the names of the commands a user is shown, in
// order, separated by spaces (for completion scripts).
func visibleCommands() string {
	var names []string
	for _, c := range commands {
		if !c.hidden {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, " ")
}

package main

import (
	"io"
)

// Option blocks shared by several commands' help.
const (
	helpVars = helpVarFlags + `                    A required variable left unset is asked for on a
                    terminal, and is an error otherwise.
`
	// helpVarFlags are -var and -var-file, without what becomes of a
	// required variable left unset, which validate does not ask for.
	helpVarFlags = `  -var NAME=VALUE   Set a variable (repeatable). A value for a variable
                    whose type is not string is read as HCL: -var 'ports=[80,443]'.
  -var-file FILE    Set variables from an HCL file of NAME = VALUE lines
                    (repeatable). -var and -var-file apply in the order given,
                    the later winning; FANOUT_VAR_NAME in the environment comes
                    first (and is ignored for a variable not declared).
`
	helpSelect = `  -limit PATTERN    Run only on hosts matching a host name, a role, a nodeset
                    as the output folds hosts ('web[01-20,25]': a bracket of
                    numbers with a range or a list), or else a glob over them
                    ('web*', 'db[12]'); repeatable or comma-separated.
  -exclude PATTERN  Never run on the hosts matching (same patterns).
`
	helpColor = `  -no-color         Disable colours (so does NO_COLOR=1, or output that is
                    not a terminal).
`
)

// Each command's -help text; the command table (commands.go) holds them.
const (
	helpPlan = `Usage: fanout plan [options] FILE.hcl|DIR [NAME...]

  Show what would run where: the tree of groups and tasks, each task's hosts,
  exact commands, rollback, environment and limits. Nothing runs and no host
  is contacted. NAME... plans only the named tasks or parallelize groups, in
  that order; without names every root is planned.

Options:
` + helpVars + helpSelect + `  -json             Print the plan as one JSON document (docs/json.md).
` + helpColor + `
Examples:
  fanout plan deploy.hcl
  fanout plan -var release=2026-11-25 deploy.hcl restart
  fanout plan -limit web -exclude web3 -json deploy.hcl | jq .summary
`
	helpApply = `Usage: fanout apply [options] FILE.hcl|DIR [NAME...]

  Run the plan: tasks in parallel under their limits, each output line
  prefixed by host and task, a recap at the end (task x host: status, exit
  code, duration, rollback; failures first with their last lines of
  stderr). When a task fails, nothing new starts, work in flight finishes,
  and everything that started is rolled back, newest first. Ctrl-C once
  interrupts and rolls back (so do SIGTERM, SIGHUP and SIGQUIT); twice aborts. A
  closed output pipe (| head) drops the rest of the output, not the run. On a terminal a status line
  shows progress; send SIGUSR1 (kill -USR1 PID) to list what runs now.

  Exit status: 0 all succeeded, 1 the run failed or was partial (hosts
  dropped within a failure budget, rolled back), 2 bad usage or
  configuration (nothing ran), 4 a rollback failed or an abort left tasks
  without theirs (the recap names them), 130 interrupted (any interrupt
  signal).

Options:
` + helpVars + helpSelect + `  -quiet            Show only failures and the recap.
  -group            Hold each task's output until its hosts finish, then show
                    identical output once, headed by the hosts: web[01-20] (20).
  -json             Stream one JSON event per line instead (docs/json.md).
  -html FILE        At the end, write the run's timeline to FILE as one
                    self-contained HTML page (as fanout runs show -html).
` + helpColor + `
Examples:
  fanout apply deploy.hcl
  fanout apply deploy.hcl restart                 only the "restart" group
  fanout apply -limit 'web*' -var-file prod.hcl deploy.hcl
  fanout apply -quiet deploy.hcl; echo "exit $?"
  fanout apply -json deploy.hcl | jq -c 'select(.type=="task_finished")'
`
	helpValidate = `Usage: fanout validate [options] FILE.hcl|DIR

  Check a configuration: syntax, references, limits, and every transport's
  settings against its plugin's schema. No host is contacted.

Options:
` + helpVarFlags + `                    A required variable left unset is not asked for: what
                    depends on it is not checked further.
  -json             Print the diagnostics as one JSON document, for editors.
` + helpColor + `
Examples:
  fanout validate deploy.hcl
  fanout validate -json . | jq '.diagnostics[].summary'
`
	helpFmt = `Usage: fanout fmt [options] [FILE.hcl|DIR...|-]

  Rewrite .hcl files in the canonical style (aligned equals signs, two-space
  indentation), as terraform fmt does. With no argument, the .hcl files of
  the current directory. The names of the files changed are printed. With
  -, format stdin to stdout (for an editor or a pipe).

  Exit status: 0 done (or, with -check, all formatted), 2 a file could not be
  read or parsed, 3 with -check: some files are not formatted.

Options:
  -check            Change nothing; list the files that are not formatted and
                    exit 3 if there are any (for CI).
  -recursive        Also process the directories below.

Examples:
  fanout fmt
  fanout fmt -check -recursive .
`
	helpCompletion = `Usage: fanout completion bash|zsh|fish

  Print a script that completes fanout's commands, flags, .hcl files and the
  task and group names of the configuration on the line.

Examples:
  source <(fanout completion bash)                  # in ~/.bashrc
  fanout completion zsh > "${fpath[1]}/_fanout"
  fanout completion fish > ~/.config/fish/completions/fanout.fish
`
)

// commandHelp prints a command's -help text.
func commandHelp(w io.Writer, name string) {
	if c := lookupCommand(name); c != nil && c.help != "" {
		printf(w, "%s", c.help)
		return
	}
	printf(w, "Usage: fanout %s\n", name)
}

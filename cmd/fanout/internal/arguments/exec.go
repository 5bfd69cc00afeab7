package arguments

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fanout/fanout/config"
)

// DefaultExecThreads is how many hosts `fanout exec` runs the command on
// at once unless -threads says: pdsh's 32 and clush's 64 are the models,
// and fanout's ssh transport holds one connection per host.
const DefaultExecThreads = 64

// Exec is `fanout exec [FILE|DIR] [options] -- COMMAND`: one command on a
// configuration's hosts, or on the hosts of -hosts with no configuration.
type Exec struct {
	Common
	Selection
	// On selects the hosts to run on, as a task's on does, plus nodesets
	// and globs; empty means every host.
	On []string
	// Hosts is a nodeset of hosts to run on over ssh, with no
	// configuration ("" when a configuration is given).
	Hosts string
	// User logs in on the -hosts hosts, as ssh -l ("": ssh_config's
	// User, then the local user).
	User string
	// ForwardAgent forwards the agent to the -hosts hosts' command, as
	// ssh -A (false: as ssh_config's ForwardAgent says).
	ForwardAgent bool
	// Raw sends the command to the -hosts hosts as it is, as ssh HOST
	// CMD does: run by the login shell, or a device's own command line,
	// without fanout's /bin/sh and watcher (the ssh transport's raw).
	Raw bool
	// Threads is how many hosts run the command at once.
	Threads int
	// Timeout bounds the command on one host; zero means no limit.
	Timeout time.Duration
	// Preflight connects every host before the command runs anywhere,
	// and runs nothing if one fails, as apply does. Without it a host that
	// cannot be reached fails alone and the others run the command.
	Preflight bool
	// Sudo runs the command through sudo, as SudoUser ("root" unless
	// -sudo-user says; -sudo-user implies -sudo), as a task's sudo does:
	// a password the hosts ask for is asked once on the terminal.
	Sudo     bool
	SudoUser string
	// Quiet and Group are apply's.
	Quiet, Group bool
	// Pipe writes the commands' output as pdsh does, for a pipe: each
	// stdout line on stdout and each stderr line on stderr, as "host:
	// line", fanout's own lines on stderr.
	Pipe bool
	// Command is the words after "--", joined by spaces as ssh joins
	// them: sh -c reads it on each host.
	Command string
}

// ParseExec parses `fanout exec` arguments. The command follows "--";
// flags and the configuration's path may come in any order before it.
// Without -hosts, the configuration is "." unless given.
func ParseExec(args []string) (*Exec, error) {
	e := &Exec{Threads: DefaultExecThreads}
	i := slices.Index(args, "--")
	if i < 0 {
		if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
			return e, ErrHelp
		}
		return e, errors.New(`exec needs a command after "--": fanout exec [FILE|DIR] [options] -- COMMAND`)
	}
	e.Command = strings.TrimSpace(strings.Join(args[i+1:], " "))
	fs := newFlagSet("exec")
	e.Common.flags(fs)
	e.Selection.flags(fs)
	fs.Var(listFlag{&e.On}, "on", "run on these roles, hosts, nodesets or globs (repeatable, comma-separated)")
	fs.Var(hostsFlag{&e.Hosts}, "hosts", "run over ssh on these hosts (a nodeset; commas or white space between hosts), with no configuration")
	fs.StringVar(&e.User, "l", "", "with -hosts, the user to log in as, as ssh -l")
	fs.BoolVar(&e.ForwardAgent, "A", false, "with -hosts, forward the ssh-agent to the command, as ssh -A")
	fs.BoolVar(&e.Raw, "raw", false, "with -hosts, send the command as it is, as ssh HOST CMD does: no /bin/sh, no watcher")
	fs.IntVar(&e.Threads, "threads", DefaultExecThreads, "how many hosts run the command at once")
	fs.DurationVar(&e.Timeout, "timeout", 0, "stop the command on a host after this long (0: no limit)")
	fs.BoolVar(&e.Preflight, "preflight", false, "connect every host first; run nothing if one fails")
	fs.BoolVar(&e.Sudo, "sudo", false, "run the command through sudo, as root unless -sudo-user says")
	fs.StringVar(&e.SudoUser, "sudo-user", "", "run the command through sudo as this user (implies -sudo)")
	fs.BoolVar(&e.Quiet, "quiet", false, "show only failures and the recap")
	fs.BoolVar(&e.Group, "group", false, "fold identical output of many hosts into one block")
	fs.BoolVar(&e.Pipe, "pipe", false, `output for a pipe, as pdsh's: "host: line", stdout's on stdout, stderr's on stderr; fanout's own lines on stderr`)
	paths, err := parseInterspersed(fs, args[:i])
	switch {
	case err != nil:
		return e, err
	case e.Command == "":
		return e, errors.New(`exec needs a command after "--"`)
	case len(paths) > 1:
		return e, fmt.Errorf("exec takes one configuration, got %q: put the command after \"--\"", paths)
	case len(paths) == 1 && e.Hosts != "":
		return e, errors.New("exec takes a configuration or -hosts, not both: -on selects among a configuration's hosts")
	case e.User != "" && e.Hosts == "":
		return e, errors.New("-l goes with -hosts: with a configuration, set user in its transport or host blocks")
	case e.ForwardAgent && e.Hosts == "":
		return e, errors.New("-A goes with -hosts: with a configuration, set forward_agent = true in its ssh transport block")
	case e.Raw && e.Hosts == "":
		return e, errors.New("-raw goes with -hosts: with a configuration, set raw = true in its ssh transport block, or in a host block")
	case e.User != "" && !config.ValidUserName(e.User):
		return e, fmt.Errorf("-l %q is not a user name: letters, digits, '.', '_' and '-', not starting with '-', such as -l deploy", e.User)
	case e.Threads < 1:
		return e, fmt.Errorf("-threads must be at least 1, got %d", e.Threads)
	case e.Timeout < 0:
		return e, fmt.Errorf("-timeout must not be negative, got %s", e.Timeout)
	case e.ViewType == ViewJSON && (e.Quiet || e.Group):
		return e, errors.New("-json cannot be combined with -quiet or -group: the JSON stream holds every event")
	case e.Pipe && (e.ViewType == ViewJSON || e.Group || e.Quiet):
		return e, errors.New("-pipe cannot be combined with -json, -group or -quiet: it writes the output lines alone on stdout, and fanout's failures and recap on stderr")
	case e.SudoUser != "" && !config.ValidUserName(e.SudoUser):
		return e, fmt.Errorf("-sudo-user %q is not a user name: letters, digits, '.', '_' and '-', not starting with '-', such as -sudo-user app", e.SudoUser)
	}
	switch {
	case e.SudoUser != "":
		e.Sudo = true
	case e.Sudo:
		e.SudoUser = "root"
	}
	if len(paths) == 1 {
		e.Path = paths[0]
	} else if e.Hosts == "" {
		e.Path = "."
	}
	return e, nil
}

// hostsFlag is -hosts: a nodeset, refused when it names no host (a
// script's empty "$HOSTS" would otherwise run on the configuration in the
// current directory); given twice, both are run on.
type hostsFlag struct{ hosts *string }

func (f hostsFlag) String() string {
	if f.hosts == nil {
		return ""
	}
	return *f.hosts
}

func (f hostsFlag) Set(s string) error {
	if strings.Trim(s, ", \t\r\n") == "" {
		return errors.New("no host in it: give a nodeset, such as web[01-40] or host1,host2")
	}
	if *f.hosts != "" {
		s = *f.hosts + "," + s
	}
	*f.hosts = s
	return nil
}

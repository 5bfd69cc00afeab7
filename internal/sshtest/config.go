package sshtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/shellquote"
)

// The files WriteConfig writes into its directory. HostsFile and TasksFile
// are the configuration; the others are what its commands use.
const (
	// HostsFile holds the transport "ssh" block and one host block per
	// fleet host.
	HostsFile = "hosts.hcl"
	// TasksFile holds the example's blocks but its host and transport
	// blocks, with variable "systemctl" pointing at SystemctlFile.
	TasksFile = "tasks.hcl"
	// SSHConfigFile is an empty ssh_config: the fleet's configuration does
	// not read the user's ~/.ssh/config.
	SSHConfigFile = "ssh_config"
	// SystemctlFile is a stand-in for systemctl (the fleet's hosts have no
	// systemd of their own): see WriteConfig.
	SystemctlFile = "bin/systemctl"
	// StateDir holds the stand-in's state: StateDir/HOST/UNIT holds
	// "active" while the unit runs, StateDir/HOST/broken lists patterns of
	// units that fail to start on HOST, and StateDir/journal has one line
	// "HOST ACTION UNIT" per systemctl command that changed something.
	StateDir = "state"
)

// ExampleSystemctlVar is the variable of the example whose default
// WriteConfig replaces with the stand-in's path.
const ExampleSystemctlVar = "systemctl"

// ExampleFile returns the path of the repository's examples/ssh.hcl, the
// file WriteConfig copies the tasks from by default. It is found next to
// this package's source (go run, go test), or else above the working
// directory.
func ExampleFile() (string, error) {
	var roots []string
	if _, src, _, ok := runtime.Caller(0); ok && filepath.IsAbs(src) {
		roots = append(roots, filepath.Join(filepath.Dir(src), "..", ".."))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			roots = append(roots, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, r := range roots {
		p := filepath.Join(r, "examples", "ssh.hcl")
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), nil
		}
	}
	return "", errors.New("examples/ssh.hcl not found next to the sshtest package nor above the working directory")
}

// Roles are the roles WriteConfig gives the fleet's hosts, matching
// examples/ssh.hcl's: every host is "app", and host1, host3, ... are also
// "web", so that every role has a host however many hosts there are.
func (h *Host) Roles() []string {
	i := slices.Index(h.fleet.Hosts, h)
	if i%2 == 0 {
		return []string{"web", "app"}
	}
	return []string{"app"}
}

// WriteConfig writes into dir (created if missing) a fanout configuration
// that runs the tasks of example (an .hcl file; "" for ExampleFile()) on
// the fleet, so that `fanout apply DIR` works with nothing else set up:
//
//   - HostsFile: a transport "ssh" block (the fleet's user, its
//     known_hosts with host_key_checking = "strict", its ssh-agent as
//     agent_socket, an empty ssh_config) and a host block per fleet host
//     with its address, port and Roles;
//   - TasksFile: every block of example except host and transport blocks,
//     with the default of variable "systemctl" replaced by the path of
//     SystemctlFile, so no command reaches this machine's real services;
//   - SystemctlFile: a stand-in for systemctl that understands start,
//     stop, restart, reload and is-active [--quiet] UNIT, keeping each
//     host's units under StateDir (the hosts share this machine's file
//     system; a command's host is the sshd that runs it). A unit that
//     matches a line of StateDir/HOST/broken (a shell pattern such as
//     "app@*") fails to start there.
//
// It refuses a dir holding other .hcl files, which would become part of
// the configuration, and an example without variable "systemctl". The
// files of an earlier WriteConfig are replaced, the state cleared.
func (f *Fleet) WriteConfig(dir, example string) error {
	if example == "" {
		var err error
		if example, err = ExampleFile(); err != nil {
			return err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if others, _ := filepath.Glob(filepath.Join(dir, "*.hcl")); len(others) > 0 {
		for _, o := range others {
			if b := filepath.Base(o); b != HostsFile && b != TasksFile {
				return fmt.Errorf("%s holds %s: every .hcl file of a directory is part of its configuration; use an empty directory", dir, b)
			}
		}
	}
	src, err := os.ReadFile(example)
	if err != nil {
		return err
	}
	systemctl := filepath.Join(dir, filepath.FromSlash(SystemctlFile))
	tasks, err := fleetTasks(src, example, shellquote.Word(systemctl))
	if err != nil {
		return err
	}
	state := filepath.Join(dir, StateDir)
	if err := os.RemoveAll(state); err != nil {
		return err
	}
	for _, d := range []string{filepath.Dir(systemctl), state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{SSHConfigFile, []byte("# Empty: the sshtest fleet's configuration does not read ~/.ssh/config.\n"), 0o644},
		{SystemctlFile, []byte(systemctlScript(state)), 0o755},
		{HostsFile, f.hostsHCL(dir), 0o644},
		{TasksFile, tasks, 0o644},
	}
	for _, fl := range files {
		p := filepath.Join(dir, filepath.FromSlash(fl.name))
		if err := os.WriteFile(p, fl.data, fl.mode); err != nil {
			return err
		}
		if err := os.Chmod(p, fl.mode); err != nil { // an earlier file's mode
			return err
		}
	}
	return nil
}

// hostsHCL renders HostsFile.
func (f *Fleet) hostsHCL(dir string) []byte {
	file := hclwrite.NewEmptyFile()
	body := file.Body()
	tr := body.AppendNewBlock("transport", []string{"ssh"}).Body()
	tr.SetAttributeValue("user", cty.StringVal(f.User))
	tr.SetAttributeValue("known_hosts", cty.ListVal([]cty.Value{cty.StringVal(f.KnownHosts)}))
	tr.SetAttributeValue("host_key_checking", cty.StringVal("strict"))
	if f.AgentSocket != "" {
		tr.SetAttributeValue("agent_socket", cty.StringVal(f.AgentSocket))
	}
	tr.SetAttributeValue("ssh_config", cty.StringVal(filepath.Join(dir, SSHConfigFile)))
	for _, h := range f.Hosts {
		body.AppendNewline()
		hb := body.AppendNewBlock("host", []string{h.Name}).Body()
		hb.SetAttributeValue("address", cty.StringVal(h.Addr))
		hb.SetAttributeValue("port", cty.NumberIntVal(int64(h.Port)))
		var roles []cty.Value
		for _, r := range h.Roles() {
			roles = append(roles, cty.StringVal(r))
		}
		hb.SetAttributeValue("roles", cty.ListVal(roles))
	}
	header := `# Generated by sshtest for a fleet of test sshd servers on this machine,
# gone when the fleet stops. The agent named below holds the only key the
# servers accept; known_hosts lists their keys.

`
	return append([]byte(header), hclwrite.Format(file.Bytes())...)
}

// fleetTasks is example without its host and transport blocks and its
// leading comment, with variable "systemctl" defaulting to systemctl.
func fleetTasks(src []byte, name, systemctl string) ([]byte, error) {
	file, diags := hclwrite.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	found := false
	for _, b := range file.Body().Blocks() {
		switch {
		case b.Type() == "host" || b.Type() == "transport":
			file.Body().RemoveBlock(b)
		case b.Type() == "variable" && slices.Equal(b.Labels(), []string{ExampleSystemctlVar}):
			b.Body().SetAttributeValue("default", cty.StringVal(systemctl))
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%s has no variable %q: its commands would run this machine's own systemctl", name, ExampleSystemctlVar)
	}
	out := hclwrite.Format(file.Bytes())
	// Drop the example's own header (its usage), and the blank lines the
	// removed blocks left.
	lines := strings.SplitAfter(string(out), "\n")
	for len(lines) > 0 && (strings.HasPrefix(lines[0], "#") || strings.TrimSpace(lines[0]) == "") {
		lines = lines[1:]
	}
	out = blankLines.ReplaceAll([]byte(strings.Join(lines, "")), []byte("\n\n"))
	header := fmt.Sprintf(`# Generated by sshtest from %s for the test fleet: its blocks but host
# and transport (see %s), with var.%s pointing at a stand-in that
# keeps each host's units under %s/.

`, filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(name)), filepath.Base(name))), HostsFile, ExampleSystemctlVar, StateDir)
	return append([]byte(header), bytes.TrimLeft(out, "\n")...), nil
}

var (
	blankLines = regexp.MustCompile(`\n{3,}`)
)

// systemctlScript is SystemctlFile's text, keeping its state under state.
func systemctlScript(state string) string {
	return `#!/bin/sh
# A stand-in for systemctl on the sshtest fleet, written by sshtest's
# WriteConfig: start, stop, restart, reload and is-active [--quiet] UNIT.
# A unit is active while ` + StateDir + `/HOST/UNIT holds "active"; a unit
# matching a line of ` + StateDir + `/HOST/broken (a shell pattern) fails to start.
state=` + shellquote.Word(state) + `
# sshd sets FANOUT_SSHTEST_TOKEN=TOKEN/HOST in every session of a host.
host=${FANOUT_SSHTEST_TOKEN##*/}
[ -n "$host" ] || host=${FANOUT_HOST:-localhost}
dir=$state/$host
mkdir -p "$dir" || exit 1

action= unit= quiet=
for a in "$@"; do
	case $a in
	-q | --quiet) quiet=1 ;;
	-*) ;;
	*)
		if [ -z "$action" ]; then
			action=$a
		elif [ -z "$unit" ]; then
			unit=$a
		fi
		;;
	esac
done
unit=${unit%.service}
case $unit in
"" | */* | .*)
	echo "usage: systemctl start|stop|restart|reload|is-active [--quiet] UNIT" >&2
	exit 2
	;;
esac

broken() {
	[ -f "$dir/broken" ] || return 1
	while IFS= read -r p || [ -n "$p" ]; do
		[ -n "$p" ] || continue
		case $unit in $p) return 0 ;; esac
	done <"$dir/broken"
	return 1
}

case $action in
start | restart | reload)
	echo "$host $action $unit" >>"$state/journal"
	if broken; then
		echo failed >"$dir/$unit"
		echo "Job for $unit.service failed because the control process exited with error code." >&2
		exit 1
	fi
	echo active >"$dir/$unit"
	echo "systemctl: ${action}ed $unit"
	;;
stop)
	echo "$host $action $unit" >>"$state/journal"
	rm -f "$dir/$unit"
	echo "systemctl: stopped $unit"
	;;
is-active)
	s=$(cat "$dir/$unit" 2>/dev/null) || s=inactive
	[ -n "$quiet" ] || echo "$s"
	[ "$s" = active ]
	;;
*)
	echo "systemctl (sshtest stand-in): unknown command \"$action\"" >&2
	exit 2
	;;
esac
`
}

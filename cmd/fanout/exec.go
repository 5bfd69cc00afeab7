package main

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/internal/nodeset"
	"github.com/fanout/fanout/internal/userhome"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// execTask names the one task of `fanout exec` in output, the recap and
// the journal.
const execTask = "exec"

const helpExec = `Usage: fanout exec [FILE.hcl|DIR] [options] -- COMMAND
       fanout exec -hosts NODESET [options] -- COMMAND

  Run one command on many hosts, as pdsh, clush or ansible -m shell do,
  with apply's engine: preflight, limits, timeouts, live output prefixed by
  host, Ctrl-C, the recap, -json. The configuration gives the hosts and
  their transports (its tasks are ignored); with -hosts there is none, and
  the hosts are reached over ssh with its defaults and ~/.ssh/config. A
  failure on one host, or a host that cannot be reached, does not stop the
  others (unless -preflight). The run is journaled ("fanout runs") and has
  nothing to roll back. It shares the configuration's run lock with other
  execs, which run at once, but not with apply or rollback: it does not
  start while one of them runs, nor they while it does. With -hosts,
  journals are kept in ~/.fanout/exec, the last 1,000: fanout runs
  ~/.fanout/exec.

  Exit status: 0 the command succeeded everywhere, 1 it failed somewhere,
  2 bad usage or configuration (nothing ran), 130 interrupted.

Options:
  -on PATTERN       Run on the hosts with this role or name, a nodeset
                    ('web[01-20]') or a glob ('db*'); repeatable or
                    comma-separated. Every host of the configuration if absent.
  -hosts NODESET    Run over ssh on these hosts, with no configuration:
                    -hosts 'web[01-40].example.com,db1'; white space
                    separates hosts too: -hosts "$(cat hosts.txt)".
  -l USER           With -hosts, log in as USER, as ssh -l does (default:
                    ~/.ssh/config's User, then yours).
  -A                With -hosts, forward the ssh-agent to the command, as
                    ssh -A does (a git pull over ssh on the hosts): root
                    there can use your keys while it runs.
  -raw              With -hosts, send the command as it is, as ssh HOST CMD
                    does: run by the login shell, or by the command line of
                    a device without /bin/sh (a switch, an appliance).
                    Given up: /bin/sh, and stopping the command when
                    fanout is interrupted or its connection drops (see
                    docs/security.md).
  -threads N        How many hosts run the command at once (default 64).
  -timeout D        Stop the command on a host after D (30s, 2m).
  -preflight        Connect every host first, and run nothing if one fails,
                    as apply does.
  -sudo             Run the command through sudo, as root, as a task's
                    sudo = true does: a password the hosts' sudo asks for
                    is asked once on the terminal (or taken from the
                    configuration's fanout { sudo_password }), sent on the
                    command's stdin and hidden in the output.
  -sudo-user USER   Run the command through sudo as USER (implies -sudo).
` + helpVars + helpSelect + `  -quiet            Show only failures and the recap.
  -group            Show identical output of many hosts once, headed by the
                    hosts: web[01-20] (20) (clush -b).
  -pipe             Write the output for a pipe, as pdsh does: each line of
                    the command's stdout on stdout as "host: line", each
                    line of its stderr on stderr; fanout's own lines
                    (failures, the recap) on stderr. The exit status is
                    the same.
  -json             Stream one JSON event per line instead (docs/json.md).
` + helpColor + `
Examples:
  fanout exec -on web -- uptime
  fanout exec deploy.hcl -on 'web[01-10]' -group -- cat /etc/app/release
  fanout exec -hosts 'node[1-50]' -threads 100 -timeout 10s -- systemctl is-active app
  fanout exec -on db -sudo -sudo-user postgres -- psql -c 'select 1'
`

func runExec(args []string, s *streams) int {
	a, err := arguments.ParseExec(args)
	if code, ok := parseArgs(err, s, "exec"); !ok {
		return code
	}
	l := newLoader(s, &a.Common)
	runID := core.NewRunID()
	l.runID = runID

	var cfg *config.Config
	if a.Hosts != "" {
		if cfg, err = hostsConfig(a); err != nil {
			printf(s.Err, "fanout exec: -hosts: %s\n", err)
			return exitUsage
		}
		// With no configuration, the journal and the lock live in
		// ~/.fanout/exec: one history of ad hoc runs per user.
		if a.Path, err = execStateDir(); err != nil {
			printf(s.Err, "fanout exec: %s; nothing was run.\n", err)
			return exitFailed
		}
		if state, err := stateDir(a.Path); err == nil {
			pruneJournals(filepath.Join(state, "runs"), execJournalsKept)
		}
	} else {
		var ok bool
		if cfg, ok = l.load(&a.Common); !ok {
			return exitUsage
		}
	}
	if diags := adHocTask(cfg, a); diags.HasErrors() {
		l.report(diags)
		return exitUsage
	}
	pl, done, ok := l.planConfig(cfg, &a.Common, a.Selection)
	defer done()
	if !ok {
		return exitUsage
	}
	return runPlanned(s, l, pl, runSpec{
		command: "exec", path: a.Path, runID: runID,
		quiet: a.Quiet, group: a.Group, pipe: a.Pipe, viewType: a.ViewType,
	})
}

// adHocTask replaces the configuration's tasks by the one task of exec:
// the command, on the hosts -on selects, -threads at once, with no
// rollback, and a failure that stops nothing else. Preflight is -preflight's:
// an ad hoc command runs where it can, as pdsh does, unless asked.
func adHocTask(cfg *config.Config, a *arguments.Exec) hcl.Diagnostics {
	hosts, diags := selectOn(cfg.Hosts, a.On)
	if diags.HasErrors() {
		return diags
	}
	t := &config.Task{
		Name:     execTask,
		On:       a.On,
		Hosts:    hosts,
		Run:      []string{a.Command},
		Timeout:  a.Timeout,
		MaxHosts: a.Threads,
		Sudo:     a.Sudo,
		SudoUser: a.SudoUser,
	}
	settings := *cfg.Settings
	settings.OnFailure = config.OnFailureContinue
	settings.Preflight = a.Preflight
	cfg.Settings = &settings
	cfg.Tasks, cfg.Groups, cfg.Roots = []*config.Task{t}, nil, []config.Node{t}
	return diags
}

// selectOn returns the hosts -on selects, in declaration order: those
// named, those with a role named, those a nodeset names, and those whose
// name or a role a glob matches. A pattern that selects no host is an
// error; no pattern selects every host.
func selectOn(hosts []*config.Host, on []string) ([]*config.Host, hcl.Diagnostics) {
	if len(on) == 0 {
		return slices.Clone(hosts), nil
	}
	var diags hcl.Diagnostics
	want := map[*config.Host]bool{}
	for _, pat := range on {
		matched, err := matchOn(hosts, pat)
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -on pattern", Detail: err.Error() + "."})
			continue
		}
		if len(matched) == 0 {
			roles := map[string]bool{}
			var names []string
			for _, h := range hosts {
				names = append(names, h.Name)
				for _, r := range h.Roles {
					roles[r] = true
				}
			}
			diags = diags.Append(&hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("No host matches -on %s", pat),
				Detail: fmt.Sprintf("The pattern %q matches no host name or role. Hosts: %s. Roles: %s.",
					pat, nodeset.Fold(names), strings.Join(slices.Sorted(maps.Keys(roles)), ", ")),
			})
		}
		for _, h := range matched {
			want[h] = true
		}
	}
	var out []*config.Host
	for _, h := range hosts {
		if want[h] {
			out = append(out, h)
		}
	}
	return out, diags
}

// matchOn returns the hosts one -on pattern selects.
func matchOn(hosts []*config.Host, pat string) ([]*config.Host, error) {
	var names map[string]bool
	if nodeset.IsPattern(pat) {
		list, err := nodeset.Expand(pat)
		if err != nil {
			return nil, err
		}
		names = make(map[string]bool, len(list))
		for _, n := range list {
			names[n] = true
		}
	}
	if _, err := path.Match(pat, ""); err != nil {
		return nil, fmt.Errorf("%q is not a valid glob: %w", pat, err)
	}
	var out []*config.Host
	for _, h := range hosts {
		match := names[h.Name] || h.Name == pat || slices.Contains(h.Roles, pat)
		if !match && names == nil {
			ok, _ := path.Match(pat, h.Name)
			match = ok || slices.ContainsFunc(h.Roles, func(r string) bool { ok, _ := path.Match(pat, r); return ok })
		}
		if match {
			out = append(out, h)
		}
	}
	return out, nil
}

// hostsConfig is the configuration of exec -hosts: the hosts of a
// nodeset, each its own address, over ssh with its default settings
// (and ~/.ssh/config), connected in preflight; -l, when given, is the
// ssh transport's user, which wins over ssh_config's User as ssh -l does,
// -A its forward_agent, as ssh -A, and -raw its raw.
func hostsConfig(a *arguments.Exec) (*config.Config, error) {
	// White space separates hosts as commas do: -hosts "$(cat hosts)".
	var parts []string
	for _, f := range strings.Fields(a.Hosts) {
		if f = strings.Trim(f, ","); f != "" {
			parts = append(parts, f)
		}
	}
	names, err := nodeset.Expand(strings.Join(parts, ","))
	if err != nil {
		return nil, err
	}
	cfg := &config.Config{
		Settings:    &config.Settings{Threads: arguments.DefaultExecThreads, OnFailure: config.OnFailureContinue, Preflight: true},
		Transports:  map[string]*config.Transport{},
		EvalContext: &hcl.EvalContext{},
	}
	if a.User != "" || a.ForwardAgent || a.Raw {
		body, err := settingsBody("fanout exec flags", func(b *hclwrite.Body) {
			if a.User != "" {
				b.SetAttributeValue("user", cty.StringVal(a.User))
			}
			if a.ForwardAgent {
				b.SetAttributeValue("forward_agent", cty.True)
			}
			if a.Raw {
				b.SetAttributeValue("raw", cty.True)
			}
		})
		if err != nil {
			return nil, err
		}
		cfg.Transports[config.DefaultTransport] = &config.Transport{Name: config.DefaultTransport, Config: body}
	}
	for _, n := range names {
		user, addr, port, err := splitHostArg(n)
		if err != nil {
			return nil, err
		}
		h := &config.Host{Name: n, Address: addr, Transport: config.DefaultTransport}
		if user != "" || port != 0 {
			// As ssh takes them: user@host logs in as user, host:port
			// dials port; each over what ssh_config says.
			if h.Config, err = settingsBody("fanout exec -hosts "+n, func(b *hclwrite.Body) {
				if user != "" {
					b.SetAttributeValue("user", cty.StringVal(user))
				}
				if port != 0 {
					b.SetAttributeValue("port", cty.NumberIntVal(int64(port)))
				}
			}); err != nil {
				return nil, err
			}
		}
		cfg.Hosts = append(cfg.Hosts, h)
	}
	return cfg, nil
}

// settingsBody is the block body set writes, named name in diagnostics:
// the settings exec's flags give a transport or host block.
func settingsBody(name string, set func(*hclwrite.Body)) (hcl.Body, error) {
	f := hclwrite.NewEmptyFile()
	set(f.Body())
	body, diags := hclsyntax.ParseConfig(f.Bytes(), name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	return body.Body, nil
}

// splitHostArg reads one host of exec -hosts as ssh reads its
// destination: [user@]host, with :port (host:port, [host]:port for an
// IPv6 address) too, as pdsh and ssh:// take it.
func splitHostArg(s string) (user, host string, port int, err error) {
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		// A name printed on every line of output must not carry an
		// escape sequence or a line break into it, nor bytes that are no
		// text (the plugin protocol refuses them).
		return "", "", 0, fmt.Errorf("%q: a host name is UTF-8 text with no control characters", s)
	}
	host = s
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		user, host = host[:i], host[i+1:]
		if user == "" || host == "" {
			return "", "", 0, fmt.Errorf("%q: want [user@]host[:port]", s)
		}
	}
	p := ""
	switch {
	case strings.HasPrefix(host, "["):
		end := strings.Index(host, "]")
		if end < 0 {
			return "", "", 0, fmt.Errorf("%q: an unclosed [ (want [address]:port)", s)
		}
		if rest := host[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", "", 0, fmt.Errorf("%q: want [address]:port", s)
			}
			p = rest[1:]
		}
		host = host[1:end]
	case strings.Count(host, ":") == 1:
		host, p, _ = strings.Cut(host, ":")
	}
	if p != "" {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 65535 {
			return "", "", 0, fmt.Errorf("%q: the port %q is not a number from 1 to 65535", s, p)
		}
		port = n
	}
	if host == "" {
		return "", "", 0, fmt.Errorf("%q: no host name", s)
	}
	return user, host, port, nil
}

// execStateDir is where exec -hosts keeps its journals and lock:
// ~/.fanout/exec/.fanout, created if need be.
func execStateDir() (string, error) {
	home, err := userhome.Dir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the run journal: %w", err)
	}
	dir := filepath.Join(home, ".fanout", "exec")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s for the run journal: %w", dir, err)
	}
	return dir, nil
}

// execJournalsKept is how many journals of ad hoc runs (-hosts) are kept
// in ~/.fanout/exec: they have nothing to roll back, and one run of 2,000
// hosts writes 700 kB.
const execJournalsKept = 1000

// pruneJournals removes the oldest journals in dir past the newest keep,
// leaving those whose run goes on. Run IDs begin with their start time, so
// names sort as the runs started. What cannot be removed stays.
func pruneJournals(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jsonl") && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	for _, n := range names[:max(len(names)-keep, 0)] {
		if p := filepath.Join(dir, n); !journalLive(p) {
			_ = os.Remove(p) // an old journal of an ad hoc run: nothing depends on it
		}
	}
}

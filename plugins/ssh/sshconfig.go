package ssh

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/fanout/fanout/sdk"
)

// What fanout reads of ssh_config, as OpenSSH reads it (ssh_config(5)):
//
//   - the files: the user's (the ssh_config setting, else ~/.ssh/config),
//     then the system's (/etc/ssh/ssh_config) unless ssh_config is set, as
//     `ssh -F` does; for each keyword the first value found wins across
//     both, IdentityFile adds up;
//   - the keywords HostName (its %h is the name given), User, Port,
//     IdentityFile, CertificateFile, IdentitiesOnly, IdentityAgent,
//     ProxyJump, ProxyCommand (whichever of the two comes first),
//     UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking,
//     HashKnownHosts, HostKeyAlias, ConnectTimeout, ServerAliveInterval,
//     ServerAliveCountMax, ForwardAgent, and the algorithm lists
//     KexAlgorithms, HostKeyAlgorithms, Ciphers, MACs and
//     PubkeyAcceptedAlgorithms (see algorithms.go); every other keyword
//     is ignored;
//   - Host lines, their patterns (* and ?) and negations (!) matched
//     against the name given (a host block's address, else its name);
//   - Match lines with the criteria all, host (the HostName set so far,
//     else the name given), originalhost (the name given), user (the login
//     user set so far: fanout's user setting, else User of an earlier
//     line, else the local user), localuser, exec (see matchexec.go), and
//     negation (!). A Match line with canonical, final or any other
//     criterion is not evaluated: its block is skipped, with a debug
//     line, never an error;
//   - Include, its globs, ~ and paths relative to ~/.ssh (the user's file)
//     or /etc/ssh (the system's), conditional when inside a Host or Match
//     block, at most 16 deep.

// maxIncludeDepth bounds nested Includes, as OpenSSH's READCONF_MAX_DEPTH.
const maxIncludeDepth = 16

// SystemSSHConfig is OpenSSH's system-wide client configuration file.
const SystemSSHConfig = "/etc/ssh/ssh_config"

// sshConfig is the parsed ssh_config files, in reading order.
type sshConfig struct {
	files  []*configFile
	logger hclog.Logger
	home   string     // the user's home, Match exec's %d
	execs  matchExecs // Match exec's answers

	mu   sync.Mutex      // guards said
	said map[string]bool // Match lines whose skipping was logged
}

// configFile is one ssh_config file's lines.
type configFile struct {
	path  string
	lines []configLine
}

// configLine is a keyword line: the keyword in lower case and its
// arguments, unquoted.
type configLine struct {
	pos      string // "file:line", for debug lines
	keyword  string
	args     []string
	includes []*configFile // an Include's files, in order
}

// sshOptions are the values ssh_config gives one destination; empty means
// unset.
type sshOptions struct {
	hostname       string
	user           string
	port           string
	identityFiles  []string
	certFiles      []string // CertificateFile, every one, as IdentityFile
	identityAgent  string
	identitiesOnly string
	proxyJump      string
	proxyCommand   string
	hostKeyAlias   string
	// revokedHostKeys is RevokedHostKeys' file, as written.
	revokedHostKeys string
	connectTimeout  string
	// addressFamily is AddressFamily's value, as written.
	addressFamily string
	// serverAliveInterval and serverAliveCountMax, as written.
	serverAliveInterval string
	serverAliveCountMax string
	forwardAgent        string
	hashKnownHosts      string
	// userKnownHosts and globalKnownHosts are every file their keyword
	// lists; strictHostKeyChecking is its value as written.
	userKnownHosts        []string
	globalKnownHosts      []string
	strictHostKeyChecking string
	// algorithms are the algorithm keywords' values, by OpenSSH's name
	// of the keyword (see algorithmKeywords).
	algorithms map[string]algorithmSpec
}

// loadSSHConfigs reads the user's file (missing is no file unless
// explicit) and then the system's, if system is not "" (missing is no
// file). home expands ~ in Includes.
func loadSSHConfigs(user string, explicit bool, system, home string, logger hclog.Logger) (*sshConfig, error) {
	c := &sshConfig{logger: logger, home: home, said: map[string]bool{}}
	if user != "" {
		// ~/.ssh/config and its Includes are checked as ssh checks them;
		// a file named in the configuration is taken as ssh -F takes it.
		f, err := parseConfigFile(user, filepath.Join(home, ".ssh"), home, nil, !explicit)
		switch {
		case err == nil:
			c.files = append(c.files, f)
		case !errors.Is(err, os.ErrNotExist) || explicit:
			return nil, err
		}
	}
	if system != "" {
		f, err := parseConfigFile(system, filepath.Dir(system), "", nil, false)
		switch {
		case err == nil:
			c.files = append(c.files, f)
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
	}
	return c, nil
}

// parseConfigFile reads path. Relative Include paths are taken in dir; ~
// in them is home ("" for the system's file, where OpenSSH refuses it).
// including are the files whose Includes lead to this one: a file that
// includes itself, directly or not, is not read again.
func parseConfigFile(path, dir, home string, including []string, checkPerm bool) (*configFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = fh.Close() }() // read only: nothing to lose
	if checkPerm {
		if err := securePermissions(fh); err != nil {
			return nil, err
		}
	}
	f := &configFile{path: path}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		keyword, args, rest := splitConfigLine(sc.Text())
		if keyword == "" {
			continue
		}
		l := configLine{pos: fmt.Sprintf("%s:%d", path, n), keyword: keyword, args: args}
		if len(args) > 1 && oneValue(keyword) {
			// ssh refuses the whole file ("keyword port extra arguments
			// at end of line"); taking the first would reach a host ssh
			// does not.
			return nil, fmt.Errorf("%s: %w: %s takes one value, and this line has %d (%s); ssh refuses this file too", l.pos, errBadLine, keyword, len(args), strings.Join(args, " "))
		}
		if keyword == "proxycommand" {
			// The command is the rest of the line as written, quotes and
			// all, as ssh takes it.
			l.args = []string{rest}
		}
		if keyword == "include" && len(including) < maxIncludeDepth {
			for _, pattern := range args {
				switch {
				case strings.HasPrefix(pattern, "~/") && home != "":
					pattern = filepath.Join(home, pattern[2:])
				case !filepath.IsAbs(pattern):
					pattern = filepath.Join(dir, pattern)
				}
				matches, _ := filepath.Glob(pattern)
				sort.Strings(matches)
				chain := append(slices.Clip(including), path)
				for _, m := range matches {
					if slices.Contains(chain, m) {
						continue
					}
					inc, err := parseConfigFile(m, dir, home, chain, checkPerm)
					if errors.Is(err, errBadPermissions) || errors.Is(err, errBadLine) {
						return nil, err
					}
					if err == nil {
						l.includes = append(l.includes, inc)
					}
				}
			}
		}
		f.lines = append(f.lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

// splitConfigLine returns a line's keyword, lower case, its arguments
// (separated by blanks or one "=" after the keyword, double quotes
// grouping) and the text they come from as written; "" for a blank line
// or a comment.
func splitConfigLine(line string) (keyword string, args []string, rest string) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", nil, ""
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return strings.ToLower(line), nil, ""
	}
	keyword = strings.ToLower(line[:end])
	rest = strings.TrimLeft(strings.TrimPrefix(strings.TrimLeft(line[end:], " \t"), "="), " \t")
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(rest); i++ {
		ch := rest[i]
		switch {
		case ch == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (ch == ' ' || ch == '\t'):
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case !quoted && ch == '#' && !inWord:
			i = len(rest) // a trailing comment
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return keyword, args, rest
}

// lookup evaluates the files for the destination alias, as `ssh -l user
// alias` would (user "" for none), with localUser the local login name.
// A nil sshConfig gives no values.
func (c *sshConfig) lookup(alias, user, localUser string) sshOptions {
	var o sshOptions
	if c == nil {
		return o
	}
	o.user = user
	set := map[string]bool{}
	if user != "" {
		set["user"] = true
	}
	// The name as given: Host lines match it case-sensitively, as ssh's
	// do (Host Web1 is not web1); Match host compares in lower case.
	e := evaluation{c: c, alias: alias, localUser: localUser, o: &o, set: set}
	for _, f := range c.files {
		e.file(f, true, false)
	}
	return o
}

// evaluation is one lookup in progress.
type evaluation struct {
	c         *sshConfig
	alias     string
	localUser string
	o         *sshOptions
	set       map[string]bool // keywords that have their value
}

// file applies f's lines, starting active; neverMatch (an Include in a
// block that does not apply) makes every Host and Match line false.
func (e *evaluation) file(f *configFile, active, neverMatch bool) {
	for _, l := range f.lines {
		switch l.keyword {
		case "host":
			active = !neverMatch && matchHostLine(e.alias, l.args, false)
		case "match":
			active = !neverMatch && e.match(l)
		case "include":
			for _, inc := range l.includes {
				// An included file's Host and Match lines do not
				// change the including file's state.
				e.file(inc, active, neverMatch || !active)
			}
		default:
			if active {
				e.apply(l)
			}
		}
	}
}

// apply takes a keyword's value unless it has one: the first wins.
// IdentityFile and CertificateFile add up instead.
func (e *evaluation) apply(l configLine) {
	if len(l.args) == 0 {
		return
	}
	o, v := e.o, l.args[0]
	switch l.keyword {
	case "identityfile":
		o.identityFiles = append(o.identityFiles, v)
	case "certificatefile":
		o.certFiles = append(o.certFiles, v)
	case "userknownhostsfile":
		e.first(l.keyword, func() { o.userKnownHosts = slices.Clone(l.args) })
	case "globalknownhostsfile":
		e.first(l.keyword, func() { o.globalKnownHosts = slices.Clone(l.args) })
	case "proxyjump", "proxycommand":
		// Whichever comes first wins, the other is then ignored, as ssh
		// has it.
		if !e.set["proxyjump"] && !e.set["proxycommand"] {
			e.first(l.keyword, func() {
				if l.keyword == "proxycommand" {
					o.proxyCommand = v
				} else {
					o.proxyJump = v
				}
			})
		}
	default:
		if name, ok := algorithmKeywords[l.keyword]; ok {
			e.first(name, func() {
				if o.algorithms == nil {
					o.algorithms = map[string]algorithmSpec{}
				}
				o.algorithms[name] = algorithmSpec{value: v, pos: l.pos}
			})
		} else if field := o.field(l.keyword); field != nil {
			e.first(l.keyword, func() { *field = v })
		}
	}
}

// first runs set for keyword's first value only.
func (e *evaluation) first(keyword string, set func()) {
	if !e.set[keyword] {
		e.set[keyword] = true
		set()
	}
}

// field is where a keyword of one value goes, nil for one fanout does not
// read.
func (o *sshOptions) field(keyword string) *string {
	switch keyword {
	case "hostname":
		return &o.hostname
	case "user":
		return &o.user
	case "port":
		return &o.port
	case "identityagent":
		return &o.identityAgent
	case "identitiesonly":
		return &o.identitiesOnly
	case "stricthostkeychecking":
		return &o.strictHostKeyChecking
	case "hostkeyalias":
		return &o.hostKeyAlias
	case "revokedhostkeys":
		return &o.revokedHostKeys
	case "connecttimeout":
		return &o.connectTimeout
	case "addressfamily":
		return &o.addressFamily
	case "serveraliveinterval":
		return &o.serverAliveInterval
	case "serveralivecountmax":
		return &o.serverAliveCountMax
	case "forwardagent":
		return &o.forwardAgent
	case "hashknownhosts":
		return &o.hashKnownHosts
	}
	return nil
}

// host is what `Match host` compares: the HostName set so far with its %h
// replaced, else the name given.
func (e *evaluation) host() string {
	if e.o.hostname == "" {
		return e.alias
	}
	return strings.ToLower(expandHostName(e.o.hostname, e.alias))
}

// expandHostName replaces HostName's tokens: %h with the name given, %%
// with %. Others stay as they are.
func expandHostName(hostname, alias string) string {
	return percentExpand(hostname, func(c byte) (string, bool) { return alias, c == 'h' })
}

// match evaluates a Match line: every criterion must hold. A line with a
// criterion fanout does not evaluate, or malformed, does not match.
func (e *evaluation) match(l configLine) bool {
	result := true
	args := l.args
	if len(args) == 0 {
		e.skip(l, "Match with no criteria")
		return false
	}
	for i := 0; i < len(args); i++ {
		attr := strings.ToLower(args[i])
		negate := strings.HasPrefix(attr, "!")
		attr = strings.TrimPrefix(attr, "!")
		if attr == "all" {
			if len(args) != 1 {
				e.skip(l, "Match all with other criteria")
				return false
			}
			return !negate
		}
		var subject string
		switch attr {
		case "host":
			subject = e.host()
		case "originalhost":
			subject = e.alias
		case "user":
			subject = e.o.user
			if subject == "" {
				subject = e.localUser
			}
		case "localuser":
			subject = e.localUser
		case "exec":
			if i+1 == len(args) {
				e.skip(l, "Match exec without a command")
				return false
			}
			i++
			if !result {
				continue // as ssh: not run once a criterion failed
			}
			command := e.expandMatchExec(args[i])
			ok, ran := e.c.execs.run(command)
			if ran && e.c.logger != nil {
				e.c.logger.Debug("ssh_config: Match exec", "at", l.pos, "command", command, "matched", ok)
			}
			if ok == negate {
				result = false
			}
			continue
		default:
			e.skip(l, "Match criterion "+attr+" is not evaluated by fanout")
			return false
		}
		if i+1 == len(args) {
			e.skip(l, "Match "+attr+" without an argument")
			return false
		}
		i++
		hit := matchPatternList(subject, args[i], attr == "host" || attr == "originalhost")
		if hit == negate {
			result = false
		}
	}
	return result
}

// skip logs, once per line, that a Match block is skipped and why.
func (e *evaluation) skip(l configLine, why string) {
	e.c.mu.Lock()
	said := e.c.said[l.pos]
	e.c.said[l.pos] = true
	e.c.mu.Unlock()
	if !said && e.c.logger != nil {
		e.c.logger.Debug("ssh_config: Match block skipped", "at", l.pos, "why", why, "line", "Match "+strings.Join(l.args, " "))
	}
}

// matchHostLine reports whether a Host line's patterns select name: one
// pattern matches and no negated one does. As ssh's, case counts in a
// Host line (Host Web1 is not web1), not in known_hosts, whose patterns
// lower compares in lower case (names come lowercased).
func matchHostLine(name string, patterns []string, lower bool) bool {
	hit := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if lower {
			p = strings.ToLower(p)
		}
		if wildcardMatch(name, p) {
			if neg {
				return false
			}
			hit = true
		}
	}
	return hit
}

// matchPatternList matches s against a comma-separated pattern list, as
// OpenSSH's match_pattern_list: a negated pattern that matches fails the
// list; otherwise one pattern must match. lower compares in lower case.
func matchPatternList(s, list string, lower bool) bool {
	if lower {
		s, list = strings.ToLower(s), strings.ToLower(list)
	}
	hit := false
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		if wildcardMatch(s, strings.TrimPrefix(p, "!")) {
			if neg {
				return false
			}
			hit = true
		}
	}
	return hit
}

// wildcardMatch matches s against pattern, where * is any run of
// characters and ? any one character. It backtracks only to the last *,
// so it takes O(len(s)·len(pattern)) whatever the pattern: a pattern of
// many *s from a hostile file cannot make it take exponential time.
func wildcardMatch(s, pattern string) bool {
	si, pi := 0, 0
	star, mark := -1, 0 // the last * seen, and where in s its run ends
	for si < len(s) {
		switch {
		case pi < len(pattern) && (pattern[pi] == '?' || pattern[pi] == s[si]) && pattern[pi] != '*':
			si++
			pi++
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			// The last * takes one more character.
			mark++
			si, pi = mark, star+1
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// errBadPermissions is the error of an ssh_config file others could write.
var errBadPermissions = errors.New("bad owner or permissions")

// errBadLine is the error of an ssh_config line ssh refuses, which makes
// it refuse the whole file.
var errBadLine = errors.New("bad configuration line")

// oneValue reports whether a line of keyword takes one value, as ssh
// checks it: the keywords of one value fanout reads, and IdentityFile and
// CertificateFile, which add one file a line.
func oneValue(keyword string) bool {
	return (&sshOptions{}).field(keyword) != nil || keyword == "identityfile" || keyword == "certificatefile"
}

// securePermissions refuses, as ssh refuses it ("Bad owner or permissions
// on ~/.ssh/config"), a user's ssh_config that another user owns or that
// its group or others may write: its Match exec and ProxyCommand lines run
// commands as the operator.
func securePermissions(fh *os.File) error {
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	uid, owned := fileOwner(fi)
	switch {
	case owned && uid != 0 && uid != os.Getuid():
		return fmt.Errorf("%s: %w: it belongs to user %d, and ssh refuses it too; it must belong to you (or root)", fh.Name(), errBadPermissions, uid)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s: %w: its group or others may write it (mode %04o), and ssh refuses it too; chmod go-w %s", fh.Name(), errBadPermissions, fi.Mode().Perm(), fh.Name())
	}
	return nil
}

// unreadKeywords are the ssh_config keywords ssh obeys and fanout does
// not read where they change which host is reached, how, with what key,
// or what runs there, with what ssh does; values that change nothing
// ("no", "none", "any") are left out by unreadWarnings.
var unreadKeywords = map[string][2]string{ // keyword: its name, what ssh does
	"canonicalizehostname": {"CanonicalizeHostname", "ssh completes host names with CanonicalDomains; fanout dials them as written"},
	"bindaddress":          {"BindAddress", "ssh connects from that address; fanout from the system's choice"},
	"bindinterface":        {"BindInterface", "ssh connects from that interface; fanout from the system's choice"},
	"knownhostscommand":    {"KnownHostsCommand", "ssh trusts the host keys that command prints; fanout only its known_hosts files"},
	"pkcs11provider":       {"PKCS11Provider", "ssh offers the keys of that token; fanout only the agent's and the identity files'"},
	"securitykeyprovider":  {"SecurityKeyProvider", "ssh signs with that security key library; fanout through the agent only"},
	"remotecommand":        {"RemoteCommand", "ssh runs that command on the host; fanout runs its tasks"},
	"setenv":               {"SetEnv", "ssh asks the server to set those variables (it does for the names its AcceptEnv lists); fanout sets only a task's env and FANOUT_*"},
}

// unreadWarnings returns a warning for the first line, in the files read,
// of each keyword of unreadKeywords set to something that matters, for
// Configure to show: a host it applies to is reached otherwise than ssh
// reaches it. Lines under any Host or Match count: which hosts they
// apply to is known only host by host.
func (c *sshConfig) unreadWarnings() sdk.Diagnostics {
	said := map[string]bool{}
	var diags sdk.Diagnostics
	var walk func(lines []configLine)
	walk = func(lines []configLine) {
		for _, l := range lines {
			walk(includedLines(l))
			kw, ok := unreadKeywords[l.keyword]
			if !ok || said[l.keyword] || len(l.args) == 0 {
				continue
			}
			switch strings.ToLower(l.args[0]) {
			case "no", "none", "any":
				continue
			}
			said[l.keyword] = true
			diags = append(diags, sdk.Diagnostic{Severity: sdk.Warning,
				Summary: "ssh_config setting not read",
				Detail: fmt.Sprintf("%s (%s) is not read by fanout: %s. A host it applies to is reached otherwise than ssh reaches it.",
					kw[0], l.pos, kw[1])})
		}
	}
	for _, f := range c.files {
		walk(f.lines)
	}
	return diags
}

// includedLines are the lines of the files an Include line read.
func includedLines(l configLine) []configLine {
	var out []configLine
	for _, inc := range l.includes {
		out = append(out, inc.lines...)
	}
	return out
}

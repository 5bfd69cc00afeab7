package views

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fanout/fanout/core"
)

// The recap of a run on a fleet folds: hosts that agree are one line with
// their host set, as clush -b does, so that 2,000 hosts read in a screen.
// Only the human view folds; -json and the journal keep every pair.

// failLimit is how many failures the recap lists one by one, each with
// the last lines it wrote, before it folds the rest by cause.
const failLimit = 10

// addressPattern matches the parts of an error that name a host's own
// address (10.0.0.9:22, [::1]:22), so that hosts failing for one reason
// fold though each error quotes its own address.
var addressPattern = regexp.MustCompile(`\[[0-9A-Fa-f:.]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)

// fingerprintPattern matches a key's SHA256 fingerprint: every host of a
// fleet that known_hosts does not know yet offers a key of its own, and a
// cause that quoted each would fold nothing.
var fingerprintPattern = regexp.MustCompile(`SHA256:[A-Za-z0-9+/]{43}`)

// fileLinePattern matches a file's line ("/root/.ssh/known_hosts:17"): a
// fleet whose hosts were all re-keyed finds each old key on its own line.
var fileLinePattern = regexp.MustCompile(`(/[^\s:,;()"']*[^\s:,;()"'0-9]):\d+\b`)

// causeOf is an error with the host's name and addresses, and the key
// fingerprints and known_hosts lines that differ from host to host, taken
// out: what hosts that failed the same way have in common.
func causeOf(err, host string) string {
	err = replaceName(err, host, "<host>")
	err = fingerprintPattern.ReplaceAllString(err, "<fingerprint>")
	err = addressPattern.ReplaceAllString(err, "<address>")
	return fileLinePattern.ReplaceAllString(err, "$1:<line>")
}

// resultCause is r as the recap describes it, with causeOf applied to the
// error it carries: only that text names the host (an exit status of a
// host named "1" is not its name). A timeout's cause is the timeout: how
// long each command then took to stop differs from host to host, and
// would split a fleet that timed out into as many groups.
func resultCause(r core.PhaseResult, host string) string {
	if r.Status == core.StatusTimedOut && r.Timeout > 0 {
		r.Duration = r.Timeout
	}
	if r.Err == "" {
		return r.Describe() // every pair that succeeded, with -group
	}
	r.Err = causeOf(r.Err, host)
	return r.Describe()
}

// replaceName replaces name in s where it stands as a whole name, not
// inside a longer one: host "web1" in "web12", or host "e" in every word
// of the message, stay as they are. A dot ends a name, so a host's own
// domain ("web01" in "web01.example.com") folds as "<host>.example.com".
func replaceName(s, name, with string) string {
	if name == "" {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, name)
		if i < 0 {
			break
		}
		end := i + len(name)
		if (i > 0 && nameByte(s[i-1])) || (end < len(s) && nameByte(s[end])) {
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:i])
			b.WriteString(with)
		}
		s = s[end:]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}

// nameByte reports whether c can continue a host name (letters, digits,
// "-" and "_"; not ".", which separates a name from its domain).
func nameByte(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// hostGroup is hosts that share a cause (or a recap row), in the order
// they were met, with the text shown for them.
type hostGroup struct {
	key   string
	text  string // the first host's own text, shown when the group is one host
	hosts []string
	units []*core.UnitResult
}

// groupBy puts items into groups by key, in the order of each group's
// first item.
type groupBy struct {
	groups []*hostGroup
	byKey  map[string]*hostGroup
}

func (g *groupBy) add(key, text, host string, u *core.UnitResult) {
	if g.byKey == nil {
		g.byKey = map[string]*hostGroup{}
	}
	hg := g.byKey[key]
	if hg == nil {
		hg = &hostGroup{key: key, text: text}
		g.byKey[key] = hg
		g.groups = append(g.groups, hg)
	}
	hg.hosts = append(hg.hosts, host)
	if u != nil {
		hg.units = append(hg.units, u)
	}
}

// writePreflight writes the hosts that failed preflight: a line per host
// when there are a few, else one line per distinct cause with its host
// set and count, most hosts first (a cause of one host reads as a host's
// own line).
func writePreflight(b *strings.Builder, failures []core.HostError, o Options) {
	fmt.Fprintf(b, "Preflight failed on %s; nothing was run:\n", plural(len(failures), "host"))
	if len(failures) <= foldAbove {
		for _, h := range failures {
			fmt.Fprintf(b, "  %s %s: %s\n", paint(o.Color, ansiRed, "✗"), h.Host, o.Redact.String(h.Err))
		}
		return
	}
	var g groupBy
	for _, h := range failures {
		g.add(causeOf(h.Err, h.Host), h.Err, h.Host, nil)
	}
	groups := g.groups
	slices.SortStableFunc(groups, func(a, b *hostGroup) int { return cmp.Compare(len(b.hosts), len(a.hosts)) })
	for _, hg := range groups {
		who, why := hg.hosts[0], hg.text
		if len(hg.hosts) > 1 {
			who, why = FoldHosts(hg.hosts), hg.key
		}
		fmt.Fprintf(b, "  %s %s: %s\n", paint(o.Color, ansiRed, "✗"), who, o.Redact.String(why))
	}
}

// writeFailures writes the failed phases of the recap, in the order
// given, one by one with their last lines; with fold (a recap past
// foldAbove rows), only the first failLimit, then the rest folded by
// task, phase and cause.
func writeFailures(b *strings.Builder, fails []*core.UnitResult, tails *Tails, o Options, fold bool) {
	type failure struct {
		u     *core.UnitResult
		phase core.Phase
		r     core.PhaseResult
	}
	var all []failure
	for _, u := range fails {
		if failed(u.Run) {
			all = append(all, failure{u, core.PhaseRun, u.Run})
		}
		if u.Rollback != nil && failed(*u.Rollback) {
			all = append(all, failure{u, core.PhaseRollback, *u.Rollback})
		}
	}
	// Hosts that could not be reached for one cause have nothing of
	// their own to show (no output): folded at once, they leave the
	// one-by-one lines to failures that do.
	var unreachable groupBy
	if fold {
		counts := map[string]int{}
		for _, f := range all {
			if f.r.Status == core.StatusUnreachable {
				counts[failureKey(f.u, f.phase, f.r)]++
			}
		}
		all = slices.DeleteFunc(all, func(f failure) bool {
			if k := failureKey(f.u, f.phase, f.r); f.r.Status == core.StatusUnreachable && counts[k] > 1 {
				unreachable.add(k, "", f.u.Host, f.u)
				return true
			}
			return false
		})
	}
	writeFolded(b, unreachable, o)
	limit := len(all)
	if fold && len(all) > failLimit {
		limit = failLimit
	}
	for _, f := range all[:limit] {
		writeFailure(b, f.u, f.phase, f.r, tails, o)
	}
	if limit == len(all) {
		return
	}
	fmt.Fprintf(b, "  %s\n", paint(o.Color, ansiDim, fmt.Sprintf("%d more, by cause:", len(all)-limit)))
	var g groupBy
	for _, f := range all[limit:] {
		g.add(failureKey(f.u, f.phase, f.r), "", f.u.Host, f.u)
	}
	writeFolded(b, g, o)
}

// failureKey is what failures fold by: "task\x00cause", the task marked
// when it is its rollback that failed, the command named when one of a
// list failed.
func failureKey(u *core.UnitResult, phase core.Phase, r core.PhaseResult) string {
	what := u.Task
	if phase == core.PhaseRollback {
		what += " (rollback)"
	}
	cause := resultCause(r, u.Host)
	if r.Command >= 0 && r.Status == core.StatusFailed {
		cause += fmt.Sprintf(" from command %d", r.Command+1)
	}
	return what + "\x00" + cause
}

// writeFolded writes one line per group of failures (see failureKey):
// "✗ TASK on HOSTS: CAUSE".
func writeFolded(b *strings.Builder, g groupBy, o Options) {
	for _, hg := range g.groups {
		what, cause, _ := strings.Cut(hg.key, "\x00")
		fmt.Fprintf(b, "  %s %s on %s: %s\n", paint(o.Color, ansiRed, "✗"), what, FoldHosts(hg.hosts), o.Redact.String(cause))
	}
}

// foldedTable is the recap table past foldAbove rows: one row per task,
// status, exit code and rollback outcome, with the durations as p50 and
// max and the host set, in the order of each row's first pair.
func foldedTable(rows []*core.UnitResult, o Options) string {
	var g groupBy
	for _, u := range rows {
		key := strings.Join([]string{u.Task, u.Run.Status.String(), exitCode(u.Run), rollbackState(u, o)}, "\x00")
		g.add(key, "", u.Host, u)
	}
	t := &table{}
	// The host set comes last: a long one (every other host of 2,000)
	// runs on to the right instead of widening every row.
	t.add("TASK", "STATUS", "EXIT", "DURATION", "ROLLBACK", "HOSTS")
	for _, hg := range g.groups {
		u := hg.units[0]
		status := u.Run.Status.String()
		switch {
		case u.Run.Status == core.StatusOK:
			status = paint(o.Color, ansiGreen, status)
		case failed(u.Run):
			status = paint(o.Color, ansiRed, status)
		default:
			status = paint(o.Color, ansiDim, status)
		}
		var runs, rollbacks []time.Duration
		for _, x := range hg.units {
			if x.Run.Status != core.StatusSkipped && !unknownDuration(x.Run) {
				runs = append(runs, x.Run.Duration)
			}
			if x.Rollback != nil {
				rollbacks = append(rollbacks, x.Rollback.Duration)
			}
		}
		rb := rollbackState(u, o)
		if d := spread(rollbacks); d != "" {
			rb += ", " + d
		}
		if u.Rollback != nil && failed(*u.Rollback) {
			rb = paint(o.Color, ansiRed, rb)
		}
		dur := spread(runs)
		if dur == "" {
			dur = "-"
		}
		t.add(u.Task, status, exitCode(u.Run), dur, rb, FoldHosts(hg.hosts))
	}
	return t.String()
}

// rollbackState is the rollback column without its duration: what rows
// must agree on to fold.
func rollbackState(u *core.UnitResult, o Options) string {
	switch {
	case u.Rollback == nil:
		return "-"
	case failed(*u.Rollback):
		return "FAILED: " + o.Redact.String(resultCause(*u.Rollback, u.Host))
	}
	return "rolled back"
}

// spread is one duration as it is, several as "p50 1.2s, max 3.4s", none
// as "".
func spread(ds []time.Duration) string {
	switch len(ds) {
	case 0:
		return ""
	case 1:
		return duration(ds[0])
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return fmt.Sprintf("p50 %s, max %s", duration(ds[(len(ds)-1)/2]), duration(ds[len(ds)-1]))
}

// foldTaskHosts writes "task on host" entries (the recap's list of failed
// rollbacks) as they are when there are a few, else one entry per task
// with its host set.
func foldTaskHosts(entries []string) string {
	if len(entries) <= foldAbove {
		return strings.Join(entries, ", ")
	}
	var tasks []string
	hosts := map[string][]string{}
	for _, e := range entries {
		task, host, ok := strings.Cut(e, " on ")
		if !ok {
			task, host = e, ""
		}
		if _, seen := hosts[task]; !seen {
			tasks = append(tasks, task)
		}
		hosts[task] = append(hosts[task], host)
	}
	parts := make([]string, len(tasks))
	for i, task := range tasks {
		parts[i] = task + " on " + FoldHosts(hosts[task])
	}
	return strings.Join(parts, ", ")
}

// listHosts writes host names as a list when there are a few, else as a
// host set.
func listHosts(hosts []string) string {
	if len(hosts) > foldAbove {
		return FoldHosts(hosts)
	}
	return strings.Join(hosts, ", ")
}

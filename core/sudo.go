package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// A task with sudo runs each command as
//
//	sudo -S -k -p MARKER --preserve-env=NAMES -u USER -- sh -c STOPPER sh CMD
//
// (STOPPER is sudoStopper, which runs CMD so that stopping it stops what it
// started too).
// The password, when a host's sudo asks for one, goes on the command's
// stdin (ExecRequest.Stdin), never on a command line or in the
// environment. Whether a host asks is learned once per host and user by a
// probe that runs `true` through sudo; the password itself is tried on one
// host at a time until one accepts it, so that a wrong password is refused
// by one host only and never offered to the others (no lockouts).

// sudoPromptID is the Input question of the sudo password: one per run.
const sudoPromptID = "sudo-password"

// errSudoIncorrect is the error of a host that refused the password.
var errSudoIncorrect = errors.New("sudo: incorrect password")

// sudoState is what a run knows of sudo: its prompt marker, the password
// and whether a host took it or refused it, and which hosts ask for it.
type sudoState struct {
	// marker is sudo's password prompt (-p): random per run, so that
	// nothing a command prints is taken for it; it is never shown.
	marker string
	input  *asker // its own: the password must not go with Connect's answers

	// trial is held while an unverified password is tried on a host.
	trial sync.Mutex

	mu sync.Mutex // guards the fields below
	// password is known when given by the variable or asked; asked is
	// true for one typed at the terminal, which no Secret lists.
	password string
	known    bool
	asked    bool
	// verified is true once a host accepted the password; refusedBy names
	// the host that refused it.
	verified  bool
	refusedBy string
	// asks is, by host and user, whether the host's sudo asks for a password.
	asks map[[2]string]bool
}

func newSudoState(opts ApplyOptions) *sudoState {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &sudoState{
		marker: "[fanout-sudo-" + hex.EncodeToString(b[:]) + "]",
		input:  &asker{input: opts.Input},
		asks:   map[[2]string]bool{},
	}
	if opts.SudoPassword != "" {
		s.password, s.known = opts.SudoPassword, true
	}
	return s
}

// sudoStopper runs "$1" as `sh -c` would, as the user sudo runs it as, in
// a way stopping it reaches: the transport's stop (a timeout, Ctrl-C, a
// dropped connection) signals the process group of the login user's
// session, and the user cannot signal the command, which is another
// user's (root's); sudo passes each signal on to the one process it runs,
// and no further. So this shell, that process, runs the command in the
// background, in a process group of its own (setsid, where there is one),
// and waits (a wait that a trapped signal ends, where waiting for a
// foreground command defers the trap): a HUP, INT, QUIT or TERM that sudo
// passes on sends TERM to the command's group, then KILL 2 s later, so
// that `sleep 40; restart` or a daemon's children are stopped, not left
// running as root (an INT reaches a background command as TERM, since sh
// starts it ignoring INT). It keeps the command's stdin, which sudo left
// after the password, and its exit status (128+N for a signal, as sh -c
// gives it).
const sudoStopper = `exec 3<&0; ` +
	`if command -v setsid >/dev/null 2>&1; then setsid sh -c "$1" sh <&3 3<&- & else sh -c "$1" sh <&3 3<&- & fi; ` +
	`p=$!; exec 3<&-; ` +
	`trap 'trap "" HUP INT QUIT TERM; kill -s TERM -- -$p 2>/dev/null || kill -s TERM $p 2>/dev/null; ` +
	`(sleep 2; kill -s KILL -- -$p 2>/dev/null || kill -s KILL $p 2>/dev/null) >/dev/null 2>&1 &' HUP INT QUIT TERM; ` +
	`while :; do wait $p; s=$?; kill -0 $p 2>/dev/null || break; done; exit $s`

var quotedStopper = config.ShellQuote(sudoStopper)

// sudoCommand returns cmd as run through sudo as user, keeping the named
// environment variables. stdin is true when sudo reads the password from
// stdin (-S), and false for sudo -n, which fails rather than ask.
func (s *sudoState) command(user, cmd string, env map[string]string, stdin bool) string {
	var b strings.Builder
	b.WriteString("sudo")
	if stdin {
		// -k: never a cached credential, so that the password sent is
		// always read by sudo and never reaches the command's stdin.
		b.WriteString(" -S -k -p " + config.ShellQuote(s.marker))
	} else {
		b.WriteString(" -n")
	}
	if len(env) > 0 {
		names := make([]string, 0, len(env))
		for k := range env {
			names = append(names, k)
		}
		slices.Sort(names)
		b.WriteString(" --preserve-env=" + strings.Join(names, ","))
	}
	b.WriteString(" -u " + config.ShellQuote(user) + " -- sh -c " + quotedStopper + " sh " + config.ShellQuote(cmd))
	return b.String()
}

// sudoExec runs cmd through sudo as t.SudoUser, with the password on stdin
// when h's sudo asks for one.
func (r *run) sudoExec(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, idx int, cmd string, env map[string]string, timeout time.Duration, out sdk.ExecOutput) PhaseResult {
	s := r.sudo
	// sudo refused before running the command: a pair whose first
	// command it is ran nothing (nothingRan), and has nothing to roll
	// back; a wrong password must not read as a fleet to check by hand.
	notRun := idx
	if idx == 0 {
		notRun = -1
	}
	fail := func(err error) PhaseResult {
		return PhaseResult{Status: StatusFailed, ExitCode: -1, Command: notRun, Err: errText(err)}
	}
	stdin := r.capabilities(h).Stdin
	asks, err := r.sudoAsks(ctx, tr, t, h, phase, stdin)
	if err != nil {
		return fail(err)
	}
	if !asks {
		return r.execOnce(ctx, tr, t, h, phase, idx, s.command(t.SudoUser, cmd, env, false), env, timeout, out, nil)
	}
	if !stdin {
		return fail(fmt.Errorf("sudo on host %q asks for a password, and its transport %q cannot send one "+
			"(its plugin does not declare the stdin capability); allow the command without a password (NOPASSWD) "+
			"or use a transport that can", h.Name, h.Transport))
	}
	pw, err := r.sudoPassword(ctx, tr, t, h, phase)
	if err != nil {
		return fail(err)
	}
	// The password is hidden in what the command prints too, should it
	// print it (an asked one is in no redactor: it was not known before
	// the run). A short one is not, as Secrets leaves it (minSecretLen).
	var hide []byte
	if Hideable(pw) {
		hide = []byte(pw)
	}
	stdout := &markerFilter{w: out.Stdout, marker: hide, with: []byte(Redacted)}
	hidden := &markerFilter{w: out.Stderr, marker: hide, with: []byte(Redacted)}
	filter := &markerFilter{w: hidden, marker: []byte(s.marker)}
	res := r.execOnce(ctx, tr, t, h, phase, idx, s.command(t.SudoUser, cmd, env, true), env, timeout,
		sdk.ExecOutput{Stdout: stdout, Stderr: filter}, []byte(pw+"\n"))
	filter.flush()
	hidden.flush()
	stdout.flush()
	if filter.count() > 1 {
		// Refused after another host took it: that host's password differs.
		s.refuse(h.Name)
		return fail(errSudoIncorrect)
	}
	return res
}

// sudoAsks reports whether h's sudo asks for a password to run commands as
// t.SudoUser, probing once per host and user. stdin tells how: sudo -S with
// an empty stdin prints its prompt when it wants a password; sudo -n fails
// saying one is required.
func (r *run) sudoAsks(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, stdin bool) (bool, error) {
	s := r.sudo
	key := [2]string{h.Name, t.SudoUser}
	s.mu.Lock()
	asks, ok := s.asks[key]
	s.mu.Unlock()
	if ok {
		return asks, nil
	}
	var errOut bytes.Buffer
	filter := &markerFilter{w: &errOut, marker: []byte(s.marker)}
	env := map[string]string{"LC_ALL": "C"}
	var in []byte
	if stdin {
		in = []byte{}
	}
	res := r.execOnce(ctx, tr, t, h, phase, -1, s.command(t.SudoUser, "true", nil, stdin), env, time.Minute,
		sdk.ExecOutput{Stdout: io.Discard, Stderr: filter}, in)
	filter.flush()
	switch {
	case res.Status == StatusOK:
		asks = false
	case filter.count() > 0 || !stdin && strings.Contains(errOut.String(), "password is required"):
		asks = true
	case res.Status == StatusFailed:
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = res.Describe()
		}
		return false, fmt.Errorf("sudo -u %s on host %q: %s", t.SudoUser, h.Name, lastLine(msg))
	default:
		return false, fmt.Errorf("sudo -u %s on host %q: %s", t.SudoUser, h.Name, res.Describe())
	}
	s.mu.Lock()
	s.asks[key] = asks
	s.mu.Unlock()
	return asks, nil
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// sudoPassword returns the password for h: asked once for the run when
// the variable did not give it, and tried on h alone (with `true`) while
// no host has accepted it yet. A password a host refused is offered to no
// other.
func (r *run) sudoPassword(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase) (string, error) {
	s := r.sudo
	s.mu.Lock()
	known := s.known
	s.mu.Unlock()
	if !known {
		answers, err := s.input.answer(ctx, []sdk.Prompt{{
			ID:     sudoPromptID,
			Text:   "sudo password (asked once, for every host that asks): ",
			Secret: true,
			NoAnswer: "sudo asks for a password on this host, and nobody can type it: run fanout on a terminal, " +
				"where it asks once, set fanout { sudo_password = var.NAME } to a sensitive variable in the configuration, " +
				"or allow the commands without a password (NOPASSWD)",
		}})
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		if !s.known {
			s.password, s.known, s.asked = answers[sudoPromptID], true, true
		}
		s.mu.Unlock()
	}
	if pw, ok, err := s.usable(); ok || err != nil {
		return pw, err
	}
	s.trial.Lock()
	defer s.trial.Unlock()
	if pw, ok, err := s.usable(); ok || err != nil {
		return pw, err
	}
	s.mu.Lock()
	pw := s.password
	s.mu.Unlock()
	var errOut bytes.Buffer
	filter := &markerFilter{w: &errOut, marker: []byte(s.marker)}
	res := r.execOnce(ctx, tr, t, h, phase, -1, s.command(t.SudoUser, "true", nil, true), nil, time.Minute,
		sdk.ExecOutput{Stdout: io.Discard, Stderr: filter}, []byte(pw+"\n"))
	filter.flush()
	switch {
	case res.Status == StatusOK:
		s.mu.Lock()
		s.verified = true
		s.mu.Unlock()
		return pw, nil
	case filter.count() > 1:
		s.refuse(h.Name)
		return "", errSudoIncorrect
	default:
		// sudo's own words ("x is not in the sudoers file", "you must
		// have a tty"), as sudoAsks gives them.
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = res.Describe()
		}
		return "", fmt.Errorf("sudo -u %s on host %q: %s", t.SudoUser, h.Name, lastLine(msg))
	}
}

// usable returns the password when a host accepted it, or the error of
// every host once one refused it; ok is false while it is untried.
func (s *sudoState) usable() (pw string, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.refusedBy != "":
		return "", false, fmt.Errorf("sudo asks for a password on this host; not offered, since host %q refused it "+
			"(sudo: incorrect password)", s.refusedBy)
	case s.verified:
		return s.password, true, nil
	}
	return "", false, nil
}

// hideAsked returns a copy of rec with the password typed at the terminal
// replaced by Redacted in the fields a record carries command output and
// errors in (hideRecordText, as FileJournal hides Secrets), should a
// command have printed it: it is in no Secret, since it was not known
// before the run. rec is returned as it is when there is nothing to hide.
func (s *sudoState) hideAsked(rec *JournalRecord) *JournalRecord {
	if s == nil || rec.Header != nil {
		return rec
	}
	s.mu.Lock()
	pw, asked := s.password, s.asked
	s.mu.Unlock()
	if !asked || !Hideable(pw) {
		return rec
	}
	out := *rec
	hideRecordText(&out, func(v string) string { return strings.ReplaceAll(v, pw, Redacted) })
	return &out
}

func (s *sudoState) refuse(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refusedBy == "" {
		s.refusedBy = host
	}
	s.verified = false
}

// markerFilter passes a command's stderr on without sudo's prompt marker
// (or with it replaced by with), counting the prompts: one for a password
// taken, more for one refused. A marker split across writes is held back
// until it is whole.
type markerFilter struct {
	w      io.Writer
	marker []byte
	with   []byte

	mu      sync.Mutex
	pending []byte
	n       int
}

func (f *markerFilter) Write(p []byte) (int, error) {
	if len(f.marker) == 0 {
		return f.w.Write(p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	buf := p
	if len(f.pending) > 0 {
		buf = append(f.pending, p...)
	}
	f.pending = nil
	// out is built only when a marker is replaced: the usual chunk, with
	// none, is passed on as it came, not copied.
	var out []byte
	for {
		i := bytes.Index(buf, f.marker)
		if i < 0 {
			break
		}
		out = append(out, buf[:i]...)
		out = append(out, f.with...)
		f.n++
		buf = buf[i+len(f.marker):]
	}
	k := partialPrefix(buf, f.marker)
	if out == nil {
		out = buf[:len(buf)-k]
	} else {
		out = append(out, buf[:len(buf)-k]...)
	}
	f.pending = bytes.Clone(buf[len(buf)-k:])
	if len(out) > 0 {
		if _, err := f.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// flush writes what was held back as a possible marker's start.
func (f *markerFilter) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) > 0 {
		_, _ = f.w.Write(f.pending)
		f.pending = nil
	}
}

func (f *markerFilter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// partialPrefix returns the length of the longest end of b that begins
// marker, shorter than marker.
func partialPrefix(b, marker []byte) int {
	for k := min(len(b), len(marker)-1); k > 0; k-- {
		if bytes.HasPrefix(marker, b[len(b)-k:]) {
			return k
		}
	}
	return 0
}

// sudoPreflightOK asks each host of a task with sudo whether its sudo
// wants a password, before anything runs, where fanout could not give one:
// no password was given and nobody can be asked for one, or the host's
// transport cannot send one (no stdin capability). It reports false,
// failing the run and naming those hosts, when any does. A host whose
// probe fails otherwise fails later, with its task, as it would have.
func (r *run) sudoPreflightOK() bool {
	r.sudo.mu.Lock()
	known := r.sudo.known
	r.sudo.mu.Unlock()
	nobodyToAsk := !known && r.opts.Input == nil
	type pair struct {
		t       *TaskNode
		h       *Host
		noStdin bool
	}
	var pairs []pair
	seen := map[[2]string]bool{}
	r.plan.Walk(func(t *TaskNode) {
		if t.SudoUser == "" {
			return
		}
		for _, h := range t.Hosts {
			key := [2]string{h.Name, t.SudoUser}
			if seen[key] {
				continue
			}
			seen[key] = true
			noStdin := !r.capabilities(h).Stdin
			if nobodyToAsk || noStdin {
				pairs = append(pairs, pair{t, h, noStdin})
			}
		}
	})
	asked := make([]bool, len(pairs))
	// Without the plan's preflight these connect the hosts: as many at
	// once as connectAll would. The probes that follow are not bounded.
	sem := newSemaphore(maxConnecting)
	var wg sync.WaitGroup
	for i, p := range pairs {
		wg.Go(func() {
			sem.acquire()
			tr, err := r.connect(p.h, true)
			sem.release()
			if err != nil {
				return // the host fails when its task runs, as it would have
			}
			asked[i], _ = r.sudoAsks(r.ctx, tr, p.t, p.h, PhaseRun, !p.noStdin)
		})
	}
	wg.Wait()
	var failed []HostError
	hosts := map[string]bool{}
	cannotSend := 0
	for i, p := range pairs {
		if !asked[i] || hosts[p.h.Name] {
			continue
		}
		hosts[p.h.Name] = true
		why := "nobody can type it (fanout is not on a terminal): set fanout { sudo_password = var.NAME } to a " +
			"sensitive variable, or allow the commands without a password"
		if p.noStdin {
			cannotSend++
			why = fmt.Sprintf("its transport %q cannot send one (its plugin does not declare the stdin capability): "+
				"allow the commands without a password (NOPASSWD), or use a transport that can", p.h.Transport)
		}
		failed = append(failed, HostError{Host: p.h.Name, Err: fmt.Sprintf("sudo -u %s asks for a password, and %s", p.t.SudoUser, why)})
	}
	if len(failed) == 0 {
		return true
	}
	names := make([]string, len(failed))
	for i, he := range failed {
		names[i] = he.Host
	}
	why := "fanout is not on a terminal nor given fanout { sudo_password }"
	switch {
	case cannotSend == len(failed):
		why = "their transport cannot send it (no stdin capability)"
	case cannotSend > 0:
		why = "fanout cannot send it there (see each host)"
	}
	r.mu.Lock()
	r.preflight = append(r.preflight, failed...)
	r.failed = true
	r.cause = fmt.Sprintf("sudo asks for a password on %s (%s), and %s; nothing was run",
		plural(len(failed), "host"), strings.Join(names, ", "), why)
	r.mu.Unlock()
	for _, he := range failed {
		r.record(&JournalRecord{Type: RecordHostError, Host: he.Host, Reason: he.Err})
	}
	return false
}

// checkSudoCapabilities reports each task with sudo whose host's transport
// cannot send a sudo password: its plugin does not declare the stdin
// capability. Once per task and transport. In a configuration that gives
// a sudo password that is an error; without one it is a warning that only
// sudo asking for no password (NOPASSWD) works there: a host whose sudo
// asks for one fails before anything runs (sudoPreflightOK).
func checkSudoCapabilities(p *Plan, cfg *config.Config) hcl.Diagnostics {
	withPassword := cfg.Settings != nil && cfg.Settings.SudoPasswordName != ""
	caps, tasks := capabilityLookups(p, cfg)
	var diags hcl.Diagnostics
	p.Walk(func(tn *TaskNode) {
		t := tasks[tn.Name]
		if tn.SudoUser == "" || t == nil {
			return
		}
		// An ad hoc task (exec -sudo) has no sudo attribute to point at.
		subject := t.SudoRange.Ptr()
		if t.SudoRange.Filename == "" {
			subject = nil
		}
		reported := map[string]bool{}
		for _, h := range tn.Hosts {
			desc := caps[h.Transport]
			if desc == nil || desc.Capabilities.Stdin || reported[h.Transport] {
				continue
			}
			reported[h.Transport] = true
			if !withPassword {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  fmt.Sprintf("Only passwordless sudo works over transport %q", h.Transport),
					Detail: fmt.Sprintf("Task %q runs through sudo, and its host %q uses the transport %q, whose plugin "+
						"(%s %s) does not declare the stdin capability, the way a sudo password goes. Only sudo that asks "+
						"for no password (NOPASSWD in sudoers) works there: a host whose sudo asks for one fails before "+
						"anything runs.",
						tn.Name, h.Name, h.Transport, desc.Name, desc.Version),
					Subject: subject,
				})
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Transport %q cannot send a sudo password", h.Transport),
				Detail: fmt.Sprintf("Task %q runs through sudo with the password of %s, and its host %q uses the "+
					"transport %q, whose plugin (%s %s) does not declare the stdin capability, the way the password "+
					"goes. Use a transport that does (ssh and local do) for these hosts, or allow their commands without a "+
					"password (NOPASSWD) and remove sudo_password.",
					tn.Name, cfg.Settings.SudoPasswordName, h.Name, h.Transport, desc.Name, desc.Version),
				Subject: subject,
			})
		}
	})
	return diags
}

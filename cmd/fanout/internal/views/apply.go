package views

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/core"
)

// Apply renders a run. It is the core.Observer of `fanout apply`, plus
// what the command asks of it between events: Tick redraws the progress
// line and Status lists what runs now (SIGUSR1). Implementations are safe
// for Event, Tick and Status to be called from different goroutines.
type Apply interface {
	core.Observer
	// Tick redraws the live status line, if the view draws one; the
	// command calls it about once a second so elapsed time moves.
	Tick()
	// Status shows what runs right now and for how long.
	Status()
	// Resize redraws the live status line, if the view draws one, for a
	// terminal now width columns wide.
	Resize(width int)
	// Hold clears the view's live status line and holds its output until
	// resume is called, so that a question asked on the terminal (a key's
	// passphrase) stays readable. Events that arrive meanwhile wait.
	Hold() (resume func())
}

// ApplyOptions are how `fanout apply` output looks.
type ApplyOptions struct {
	Options
	// Quiet shows failures and the recap only.
	Quiet bool
	// Progress draws a live status line at the bottom; only for a terminal.
	Progress bool
	// Width is the terminal's width, to keep the status line on one row;
	// 0 means unknown.
	Width int
	// Group holds each task's output until its hosts have finished, then
	// shows identical output of many hosts once, headed by the host set.
	Group bool
	// Now is the clock; time.Now when nil. Tests fix it.
	Now func() time.Time
	// Version is fanout's version, for the JSON stream's version event.
	Version string
	// Command names what runs, for the opening line and the recap's last
	// one: "apply" unless set ("rollback" for a journaled run's rollback).
	Command string
	// Rollbacks and Hosts are, for Command "rollback", how many (task,
	// host) pairs it rolls back on how many hosts, for the opening line:
	// the run's plan has more pairs than its rollback.
	Rollbacks, Hosts int
}

// NewApply returns the view the parsed -json flag asks for, writing to out.
func NewApply(vt arguments.ViewType, out io.Writer, p *core.Plan, o ApplyOptions) Apply {
	if vt == arguments.ViewJSON {
		return NewApplyJSON(out, o)
	}
	return NewApplyHuman(out, p, o)
}

// ApplyHuman renders a run for a person: each output line prefixed by host
// and task, a line when a pair starts and ends, the stop and rollback
// announcements, an optional live status line, and the recap at the end.
type ApplyHuman struct {
	out   io.Writer
	o     ApplyOptions
	hostW int
	taskW int

	mu sync.Mutex
	// guarded by mu: Event comes from the run's dispatcher, Tick and
	// Status from the command's goroutines.
	tails       *Tails
	started     time.Time
	total       int
	done        int
	failedN     int
	running     map[unitKey]time.Time
	rollback    string
	stopping    bool
	runID       string
	statusDrawn bool
	finished    bool
	groups      *grouper
	buf         bytes.Buffer
	// continued holds the streams whose last Output ended inside a line.
	continued map[tailKey]bool
	// checks holds each pair's last check attempt shown, wave the wave
	// running or the pause before one, for the status line (rollout.go).
	checks map[unitKey]string
	wave   string
	// connectCauses holds, by cause (causeOf), the first host that failed
	// to connect for it, "" once a second one was folded under it: by its
	// connect line or its pair's, unreachable.
	connectCauses map[string]string
	// hosts is the run's, and preflighted how many preflight has
	// connected or failed to: the status line shows preflight's progress
	// until the first pair starts (2,000 handshakes take a while).
	hosts, preflighted int
	anyStarted         bool
}

// unitKey names one phase of a (task, host) pair.
type unitKey struct {
	task, host string
	phase      core.Phase
}

var _ Apply = (*ApplyHuman)(nil)

// NewApplyHuman returns a view writing to out, with columns sized for the
// plan's host and task names.
func NewApplyHuman(out io.Writer, p *core.Plan, o ApplyOptions) *ApplyHuman {
	if o.Now == nil {
		o.Now = time.Now
	}
	v := &ApplyHuman{out: out, o: o, tails: NewTails(), running: map[unitKey]time.Time{}, continued: map[tailKey]bool{}}
	v.tails.Both = o.Quiet
	for _, h := range p.Hosts {
		v.hostW = max(v.hostW, width(h.Name))
	}
	p.Walk(func(t *core.TaskNode) {
		v.taskW = max(v.taskW, width(t.Name)+len(" (rollback)"))
	})
	if o.Group {
		v.groups = newGrouper(p)
	}
	return v
}

// prefix is "host │ task │ ", the host in its own colour.
func (v *ApplyHuman) prefix(host, task string, phase core.Phase) string {
	if phase == core.PhaseRollback {
		task += " (rollback)"
	}
	return paint(v.o.Color, hostColor(host), pad(host, v.hostW)) + " │ " + pad(task, v.taskW) + " │ "
}

// stderrPrefix marks stderr by "!" in place of the second bar.
func (v *ApplyHuman) stderrPrefix(host, task string, phase core.Phase) string {
	p := v.prefix(host, task, phase)
	return strings.TrimSuffix(p, "│ ") + paint(v.o.Color, ansiRed, "!") + " "
}

// Event implements core.Observer. What one event prints goes out in one
// Write, so lines of different hosts never interleave.
func (v *ApplyHuman) Event(e core.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	// One buffer for every event: output events come by the thousand.
	// One that grew for a huge event is let go rather than kept.
	if v.buf.Cap() > maxKeptBuffer {
		v.buf = bytes.Buffer{}
	}
	v.buf.Reset()
	v.render(&v.buf, e)
	v.flush(&v.buf)
}

// maxKeptBuffer is the largest render buffer kept between events.
const maxKeptBuffer = 1 << 20

// render writes what e shows to b, and keeps the state of the status
// line and of the recap.
func (v *ApplyHuman) render(b *bytes.Buffer, e core.Event) {
	rd := v.o.Redact
	switch e := e.(type) {
	case core.RunStarted:
		v.runStarted(b, e)
	case core.HostConnected:
		if e.Preflight {
			v.preflighted++
		}
		// With -group, a line per host would be 2,000 alike: the recap's
		// one line per cause says which hosts preflight failed on, and a
		// host that fails to connect later fails its pair, whose block
		// (one per cause) says why.
		if e.Err != "" && v.groups == nil {
			v.connectFailed(b, e)
		}
	case core.UnitStarted:
		v.anyStarted = true
		v.running[unitKey{e.Task, e.Host, e.Phase}] = e.Time
		switch {
		case v.groups != nil:
			v.groups.started(e)
		case !v.o.Quiet && !e.Unreachable:
			// A pair whose host could not be connected started nothing:
			// its unreachable line follows.
			fmt.Fprintf(b, "%s%s\n", v.prefix(e.Host, e.Task, e.Phase), paint(v.o.Color, ansiDim, "started"))
		}
	case core.Output:
		v.tails.Record(e)
		switch {
		case v.groups != nil:
			v.groups.output(e)
		case !v.o.Quiet:
			v.output(b, e)
		}
	case core.UnitFinished:
		v.unitFinished(b, e)
	case core.Stopping:
		v.stopping = true
		then := "no rollback (on_failure)"
		switch {
		case v.o.Command == "exec":
			then = "no rollback (an ad hoc command has none)"
		case e.Rollback:
			then = "rolling back what started once running work ends"
		}
		fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiYellow+ansiBold, fmt.Sprintf("Stopping: %s; starting nothing new, %s.", rd.String(e.Reason), then)))
	case core.RollbackGoesOn:
		// As `fanout rollback` says it: the interrupt changed nothing.
		fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiYellow+ansiBold, fmt.Sprintf(
			"%s: the rollback goes on (stopping it half-way would leave hosts half undone). "+
				"Interrupt again to abort it; what it has not rolled back is then left for \"%s\".",
			"Interrupt ("+rd.String(e.Reason)+")", Suggest("rollback", v.runID, v.o.Config))))
	case core.RollbackStarted:
		v.rollbackStarted(b, e)
	case core.RollbackFinished:
		v.rollback = ""
		if len(e.Failed) > 0 {
			fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiRed, fmt.Sprintf("Rollback of task %q failed on %s", e.Task, listHosts(e.Failed))))
		}
	case core.WaveStarted, core.WaveFinished, core.Pausing, core.AttemptFailed, core.CheckAttempt, core.HostDropped, core.HostSkipped, core.BudgetExceeded:
		v.renderRollout(b, e)
	case core.RunFinished:
		v.finished = true
		if v.groups != nil {
			v.writeGroups(b, v.groups.ready(true))
		}
		var s strings.Builder
		summary(&s, e.Result, v.tails, v.o.Options, v.o.Command == "rollback")
		b.WriteString(s.String())
	}
}

// connectFailed writes a host's failure to connect as it happens: the
// first host of each cause with its own error, then, once, that the next
// hosts failing that way are folded. A line each would be 1,000 alike
// when a fleet's keys are not yet known, or its bastion is down; the
// recap still names every host that failed preflight, by cause, and a
// later connection's failure is its pair's own line.
func (v *ApplyHuman) connectFailed(b *bytes.Buffer, e core.HostConnected) {
	folded, skip := v.foldCause(causeOf(e.Err, e.Host), e.Host, false)
	if skip {
		return
	}
	line := cmp.Or(folded, v.o.Redact.String(e.Err))
	fmt.Fprintf(b, "%s%s\n", v.prefix(e.Host, "connect", core.PhaseRun), paint(v.o.Color, ansiRed, "✗ "+line))
}

// foldCause records that host failed for cause and says how its line
// shows: in full (folded ""), when it is the cause's first host, or, with
// own, a later line of that first host; as folded ("as FIRST; more hosts
// failing this way are not listed here") for the second host; not at all
// (skip) after that.
func (v *ApplyHuman) foldCause(cause, host string, own bool) (folded string, skip bool) {
	if v.connectCauses == nil {
		v.connectCauses = map[string]string{}
	}
	first, seen := v.connectCauses[cause]
	switch {
	case !seen:
		v.connectCauses[cause] = host
		return "", false
	case own && first == host:
		return "", false
	case first != "":
		v.connectCauses[cause] = ""
		return "as " + first + "; more hosts failing this way are not listed here", false
	}
	return "", true
}

// runStarted starts the counts of the status line, and writes the run's
// first line: what runs on how many hosts.
func (v *ApplyHuman) runStarted(b *bytes.Buffer, e core.RunStarted) {
	v.started, v.total, v.hosts, v.runID = e.Time, e.Units, e.Hosts, e.RunID
	if v.o.Quiet {
		return
	}
	if v.o.Command == "rollback" {
		fmt.Fprintf(b, "fanout rollback: run %s, %s on %s\n", e.RunID, plural(v.o.Rollbacks, "rollback"), plural(v.o.Hosts, "host"))
	} else {
		fmt.Fprintf(b, "fanout %s: run %s, %s on %s\n", cmp.Or(v.o.Command, "apply"), e.RunID, plural(e.Units, "run"), plural(e.Hosts, "host"))
	}
}

// unitFinished counts a finished unit, and writes its line, or the groups
// of output it completes with -group. With -quiet only failures show.
func (v *ApplyHuman) unitFinished(b *bytes.Buffer, e core.UnitFinished) {
	delete(v.running, unitKey{e.Task, e.Host, e.Phase})
	r := e.Result
	if e.Phase == core.PhaseRun {
		if r.Status == core.StatusOK || r.Status == core.StatusConditionSkipped {
			v.done++
		} else {
			v.failedN++
		}
	}
	switch {
	case v.groups != nil:
		v.groups.finishedUnit(e)
		v.writeGroups(b, v.groups.ready(false))
	case r.Status == core.StatusUnreachable:
		v.unreachable(b, e)
	case !v.o.Quiet || failed(r):
		b.WriteString(v.finishedLine(e))
	}
}

// unreachable writes the line of a pair that could not reach its host,
// folded as connect lines are (see connectFailed): the first host of a
// cause has its line, the next says once that more are folded under it,
// the others have none. Without preflight (fanout exec), 1,000 hosts
// behind a bastion that is down were 1,000 lines alike; the recap folds
// them by cause, and -json and the journal keep each one.
func (v *ApplyHuman) unreachable(b *bytes.Buffer, e core.UnitFinished) {
	switch folded, skip := v.foldCause(causeOf(e.Result.Err, e.Host), e.Host, true); {
	case skip:
	case folded == "":
		b.WriteString(v.finishedLine(e))
	default:
		fmt.Fprintf(b, "%s%s\n", v.prefix(e.Host, e.Task, e.Phase), paint(v.o.Color, ansiRed, "✗ unreachable "+folded))
	}
}

// rollbackStarted writes which task rolls back on which hosts.
func (v *ApplyHuman) rollbackStarted(b *bytes.Buffer, e core.RollbackStarted) {
	v.rollback = e.Task
	if v.groups != nil {
		v.groups.rollbackStarted(e)
	}
	if v.o.Quiet {
		return
	}
	hosts := listHosts(e.Hosts)
	if v.groups != nil {
		hosts = FoldHosts(e.Hosts)
	}
	fmt.Fprintf(b, "%s\n", paint(v.o.Color, ansiYellow, fmt.Sprintf("Rolling back task %q on %s", e.Task, hosts)))
}

// finishedLine is "host │ task │ ✓ ok (1.2s)" or the failure in red.
func (v *ApplyHuman) finishedLine(e core.UnitFinished) string {
	r := e.Result
	mark, code := "✓ ", ansiGreen
	switch r.Status {
	case core.StatusOK:
	case core.StatusConditionSkipped: // no failure: the task is not for this host
		mark, code = "- ", ansiDim
	default:
		mark, code = "✗ ", ansiRed
	}
	took := " (" + duration(r.Duration) + ")"
	if r.Status == core.StatusTimedOut { // "timed out after 2s" says it already
		took = ""
	}
	return fmt.Sprintf("%s%s%s\n", v.prefix(e.Host, e.Task, e.Phase), paint(v.o.Color, code, mark+v.o.Redact.String(r.Describe())), took)
}

// output writes each line of an Output event behind its prefix. Output is
// most of what a busy run renders, so lines are copied as bytes, and only
// turned into strings when there is something sensitive to hide.
func (v *ApplyHuman) output(b *bytes.Buffer, e core.Output) {
	p := v.prefix(e.Host, e.Task, e.Phase)
	if e.Stream == core.Stderr {
		p = v.stderrPrefix(e.Host, e.Task, e.Phase)
	}
	// A piece of a long line is marked, and so is the piece after it.
	k := tailKey{e.Task, e.Host, e.Phase, e.Stream}
	continued := v.continued[k]
	if e.Partial {
		v.continued[k] = true
	} else if continued {
		delete(v.continued, k)
	}
	rd := v.o.Redact
	if !rd.active() {
		rd = nil
	}
	if rd == nil && !v.o.Escape && !continued && !e.Partial {
		b.Grow(len(e.Data) + lineCount(e.Data)*(len(p)+1))
		out := b.AvailableBuffer()
		for line := range lines(e.Data) {
			out = append(out, p...)
			out = append(out, line...)
			out = append(out, '\n')
		}
		b.Write(out)
		return
	}
	n, i := lineCount(e.Data), 0
	for line := range lines(e.Data) {
		b.WriteString(p)
		if i == 0 && continued {
			b.WriteString(continuedMark)
		}
		if rd != nil {
			line = []byte(rd.String(string(line)))
		}
		if v.o.Escape {
			b.Write(appendTerminalSafe(b.AvailableBuffer(), line))
		} else {
			b.Write(line)
		}
		if i++; i == n && e.Partial {
			b.WriteString(continuesMark)
		}
		b.WriteByte('\n')
	}
}

// flush writes what an event produced. With a status line on screen, the
// line is cleared first, the output scrolls above where it was, and the
// line is drawn again below: one Write, so the terminal never shows a
// half-drawn state.
func (v *ApplyHuman) flush(b *bytes.Buffer) {
	if !v.o.Progress {
		if b.Len() > 0 {
			_, _ = v.out.Write(b.Bytes())
		}
		return
	}
	var w bytes.Buffer
	if v.statusDrawn {
		w.WriteString(ansiClearLine)
		v.statusDrawn = false
	}
	w.Write(b.Bytes())
	if !v.finished && !v.started.IsZero() {
		w.WriteString(v.statusLine())
		v.statusDrawn = true
	}
	if w.Len() > 0 {
		_, _ = v.out.Write(w.Bytes())
	}
}

// statusLine is the live status: counts of the plan's pairs and elapsed
// time, cut to the terminal's width so that it never wraps (a wrapped line
// cannot be redrawn in place).
func (v *ApplyHuman) statusLine() string {
	runRunning := 0
	for k := range v.running {
		if k.phase == core.PhaseRun {
			runRunning++
		}
	}
	pending := max(v.total-v.done-v.failedN-runRunning, 0)
	// Once the run stops, what has not started never will.
	waiting := "pending"
	if v.stopping {
		waiting = "skipped"
	}
	elapsed := v.o.Now().Sub(v.started).Truncate(100 * time.Millisecond)
	s := fmt.Sprintf("%d done · %d running · %d failed · %d %s of %d · %s",
		v.done, runRunning, v.failedN, pending, waiting, v.total, elapsed)
	if !v.anyStarted && v.preflighted > 0 && v.preflighted < v.hosts {
		// Nothing runs before every host is connected.
		s = fmt.Sprintf("preflight: %d of %d hosts connected · %s", v.preflighted, v.hosts, elapsed)
	}
	if v.wave != "" {
		s += " · " + v.wave
	}
	if v.rollback != "" {
		s += " · rolling back " + v.rollback
	}
	if v.o.Width > 1 && width(s) >= v.o.Width {
		s = string([]rune(s)[:v.o.Width-2]) + "…"
	}
	return paint(v.o.Color, ansiBold, s)
}

// Tick implements Apply.
func (v *ApplyHuman) Tick() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.o.Progress && !v.finished && !v.started.IsZero() {
		v.flush(&bytes.Buffer{})
	}
}

// Resize implements Apply.
func (v *ApplyHuman) Resize(width int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.o.Width = width
	if v.o.Progress && !v.finished && !v.started.IsZero() {
		v.flush(&bytes.Buffer{})
	}
}

// Hold implements Apply.
func (v *ApplyHuman) Hold() (resume func()) {
	v.mu.Lock()
	if v.statusDrawn {
		_, _ = io.WriteString(v.out, ansiClearLine)
		v.statusDrawn = false
	}
	return sync.OnceFunc(v.mu.Unlock)
}

// Status implements Apply: every pair running now, longest first, and
// for how long.
func (v *ApplyHuman) Status() {
	v.mu.Lock()
	defer v.mu.Unlock()
	var b bytes.Buffer
	writeRunning(&b, v.running, v.o.Now(), func(k unitKey) string {
		return strings.TrimSuffix(v.prefix(k.host, k.task, k.phase), " │ ")
	})
	if v.wave != "" {
		// Between waves nothing runs: say why ("pausing before wave 3
		// of deploy").
		fmt.Fprintf(&b, "  (%s)\n", v.wave)
	}
	v.flush(&b)
}

// writeRunning lists running pairs, longest running first.
func writeRunning(b *bytes.Buffer, running map[unitKey]time.Time, now time.Time, label func(unitKey) string) {
	keys := make([]unitKey, 0, len(running))
	for k := range running {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b unitKey) int {
		if c := running[a].Compare(running[b]); c != 0 {
			return c
		}
		return strings.Compare(a.host+a.task, b.host+b.task)
	})
	fmt.Fprintf(b, "Running now: %s\n", plural(len(keys), "pair"))
	// On a fleet, the longest running are the ones to look at; the
	// others are counted.
	shown := keys[:min(len(keys), foldAbove)]
	for _, k := range shown {
		fmt.Fprintf(b, "  %s │ for %s\n", label(k), now.Sub(running[k]).Truncate(100*time.Millisecond))
	}
	if more := len(keys) - len(shown); more > 0 {
		fmt.Fprintf(b, "  and %d more, running for less time\n", more)
	}
}

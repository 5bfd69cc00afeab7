package views

import (
	"encoding/json"
	"io"
	"time"

	"github.com/fanout/fanout/core"
)

// JSONVersion is the version of the -json output (docs/json.md). The
// minor grows when fields or event types are added; the major changes
// only when a consumer would break.
const JSONVersion = "1.1"

// ApplyJSON streams a run as JSON Lines: one event per line, a version
// event first and run_finished, with the recap, last. Output is split
// into one event per line. Only JSON is written to its stream.
type ApplyJSON struct {
	out   io.Writer
	enc   *json.Encoder
	buf   []byte // an output event's lines, encoded (json_encode.go)
	o     ApplyOptions
	tails *Tails
	// last is the latest timestamp written (events come one at a time).
	last time.Time
}

var _ Apply = (*ApplyJSON)(nil)

// NewApplyJSON returns a view writing the event stream to out.
func NewApplyJSON(out io.Writer, o ApplyOptions) *ApplyJSON {
	if o.Now == nil {
		o.Now = time.Now
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	return &ApplyJSON{out: out, enc: enc, o: o, tails: NewTails()}
}

// envelope opens every line: its type and when it happened; the type's
// fields follow (docs/json.md).
type envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"@timestamp"`
}

// env opens an event of type typ that happened at t (now when zero).
// Timestamps never go back in the stream: a command's last output lines
// can reach the view after its end was measured, and a consumer sorting
// by @timestamp would put the task's end before them.
func (v *ApplyJSON) env(typ string, t time.Time) envelope {
	if t.IsZero() {
		t = v.o.Now()
	}
	if t.Before(v.last) {
		t = v.last
	}
	v.last = t
	return envelope{Type: typ, Timestamp: t.UTC()}
}

type jsonVersion struct {
	envelope
	Fanout  string `json:"fanout"`
	Version string `json:"json_version"`
}

type jsonRunStarted struct {
	envelope
	RunID string `json:"run_id"`
	Pairs int    `json:"pairs"`
	Hosts int    `json:"hosts"`
}

type jsonHostConnected struct {
	envelope
	Host       string `json:"host"`
	Transport  string `json:"transport"`
	Preflight  bool   `json:"preflight"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

type jsonTaskStarted struct {
	envelope
	Task  string     `json:"task"`
	Host  string     `json:"host"`
	Phase core.Phase `json:"phase"`
}

type jsonOutput struct {
	envelope
	Task   string      `json:"task"`
	Host   string      `json:"host"`
	Phase  core.Phase  `json:"phase"`
	Stream core.Stream `json:"stream"`
	Line   string      `json:"line"`
	// Partial marks a piece of a line too long for one event: the next
	// output event of the same task, host, phase and stream continues it.
	Partial bool `json:"partial,omitempty"`
}

type jsonTaskFinished struct {
	envelope
	Task   string     `json:"task"`
	Host   string     `json:"host"`
	Phase  core.Phase `json:"phase"`
	Result *jsonPhase `json:"result"`
}

type jsonStopping struct {
	envelope
	Reason   string `json:"reason"`
	Rollback bool   `json:"rollback"`
}

// jsonRollbackGoesOn is an interrupt during the rollback cascade, which
// goes on: only a second one aborts it.
type jsonRollbackGoesOn struct {
	envelope
	Reason string `json:"reason"`
}

type jsonRollbackStarted struct {
	envelope
	Task  string   `json:"task"`
	Hosts []string `json:"hosts"`
}

type jsonRollbackFinished struct {
	envelope
	Task   string   `json:"task"`
	Failed []string `json:"failed_hosts"`
}

type jsonRunFinished struct {
	envelope
	*jsonRecap
}

// jsonPhase is how one phase of a pair ended.
type jsonPhase struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Signal   string `json:"signal,omitempty"`
	// Command is the 1-based index of the command that failed; 0 if none.
	Command    int    `json:"command,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// Attempts counts the run's attempts when it had retries; the check's
	// attempts and its last output lines when it had a check.
	Attempts      int      `json:"attempts,omitempty"`
	CheckAttempts int      `json:"check_attempts,omitempty"`
	CheckTail     []string `json:"check_tail,omitempty"`
}

// jsonRecap is the run's record, as the human recap shows it.
type jsonRecap struct {
	RunID          string          `json:"run_id"`
	Status         string          `json:"status"`
	Cause          string          `json:"cause,omitempty"`
	FirstFailure   *jsonPair       `json:"first_failure,omitempty"`
	DurationMS     int64           `json:"duration_ms"`
	Preflight      []jsonHostError `json:"preflight_failures,omitempty"`
	Units          []jsonUnit      `json:"units"`
	RolledBack     []string        `json:"rolled_back"`
	RollbackFailed []string        `json:"rollback_failed"`
	NotRolledBack  []string        `json:"not_rolled_back,omitempty"`
	// NoRollback is on_failure ("stop" or "continue") when it left
	// NotRolledBack, rather than an abort.
	NoRollback string `json:"no_rollback,omitempty"`
	// Outcome is the status, "partial" when hosts were dropped within a
	// failure budget; Waves and Dropped say which (rollout.go).
	Outcome string        `json:"outcome"`
	Waves   []jsonWaveRun `json:"waves,omitempty"`
	Dropped []jsonDropped `json:"dropped,omitempty"`
}

type jsonPair struct {
	Task string `json:"task"`
	Host string `json:"host"`
}

type jsonHostError struct {
	Host  string `json:"host"`
	Error string `json:"error"`
}

type jsonUnit struct {
	Task     string     `json:"task"`
	Host     string     `json:"host"`
	Run      jsonPhase  `json:"run"`
	Rollback *jsonPhase `json:"rollback,omitempty"`
	// Tail is the last lines of the run's stderr (stdout if it wrote no
	// stderr), for a failed pair only.
	Tail []string `json:"tail,omitempty"`
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

func (v *ApplyJSON) phase(r core.PhaseResult) *jsonPhase {
	p := &jsonPhase{Status: r.Status.String(), ExitCode: r.ExitCode, Signal: r.Signal, Error: v.o.Redact.String(r.Err), DurationMS: ms(r.Duration),
		CheckAttempts: r.CheckAttempts, CheckTail: v.o.Redact.Strings(r.CheckTail)}
	if r.Attempts > 1 {
		p.Attempts = r.Attempts
	}
	if r.Command >= 0 && failed(r) {
		p.Command = r.Command + 1
	}
	return p
}

func (v *ApplyJSON) write(e any) { _ = v.enc.Encode(e) }

// Event implements core.Observer.
func (v *ApplyJSON) Event(e core.Event) {
	rd := v.o.Redact
	switch e := e.(type) {
	case core.RunStarted:
		v.write(jsonVersion{v.env("version", e.Time), v.o.Version, JSONVersion})
		v.write(jsonRunStarted{v.env("run_started", e.Time), e.RunID, e.Units, e.Hosts})
	case core.HostConnected:
		v.write(jsonHostConnected{v.env("host_connected", e.Time), e.Host, e.Transport, e.Preflight, ms(e.Duration), rd.String(e.Err)})
	case core.UnitStarted:
		v.write(jsonTaskStarted{v.env("task_started", e.Time), e.Task, e.Host, e.Phase})
	case core.Output:
		v.tails.Record(e)
		env := v.env("output", time.Time{})
		n, i := lineCount(e.Data), 0
		b := v.buf[:0]
		hide := rd.active()
		for line := range lines(e.Data) {
			i++
			if hide {
				b = appendOutputEvent(b, env.Timestamp, e, rd.String(string(line)), e.Partial && i == n)
			} else {
				// Nothing to hide yet: no copy of the line.
				b = appendOutputEvent(b, env.Timestamp, e, line, e.Partial && i == n)
			}
		}
		_, _ = v.out.Write(b) // as write's: a stream that fails is the caller's to see
		if cap(b) <= 1<<20 {
			v.buf = b
		}
	case core.UnitFinished:
		v.write(jsonTaskFinished{v.env("task_finished", e.Result.Started.Add(e.Result.Duration)), e.Task, e.Host, e.Phase, v.phase(e.Result)})
	case core.Stopping:
		v.write(jsonStopping{v.env("stopping", e.Time), rd.String(e.Reason), e.Rollback})
	case core.RollbackGoesOn:
		v.write(jsonRollbackGoesOn{v.env("rollback_goes_on", e.Time), rd.String(e.Reason)})
	case core.RollbackStarted:
		v.write(jsonRollbackStarted{v.env("rollback_started", e.Time), e.Task, nonNil(e.Hosts)})
	case core.RollbackFinished:
		v.write(jsonRollbackFinished{v.env("rollback_finished", e.Time), e.Task, nonNil(e.Failed)})
	case core.WaveStarted, core.WaveFinished, core.Pausing, core.AttemptFailed, core.CheckAttempt, core.HostDropped, core.HostSkipped, core.BudgetExceeded:
		v.rolloutEvent(e)
	case core.RunFinished:
		res := e.Result
		v.write(jsonRunFinished{v.env("run_finished", res.Started.Add(res.Duration)), v.recap(res)})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (v *ApplyJSON) recap(res *core.Result) *jsonRecap {
	rd := v.o.Redact
	r := &jsonRecap{
		RunID: res.RunID, Status: res.Status.String(), Cause: rd.String(res.Cause), DurationMS: ms(res.Duration),
		Units: []jsonUnit{}, RolledBack: nonNil(jsonRolledBack(res)), RollbackFailed: nonNil(res.RollbackFailed),
		NotRolledBack: res.NotRolledBack, NoRollback: res.NoRollback,
	}
	if ff := res.FirstFailure; ff != nil {
		r.FirstFailure = &jsonPair{Task: ff.Task, Host: ff.Host}
	}
	v.rolloutRecap(r, res)
	for _, h := range res.Preflight {
		r.Preflight = append(r.Preflight, jsonHostError{Host: h.Host, Error: rd.String(h.Err)})
	}
	for _, u := range res.Units {
		ju := jsonUnit{Task: u.Task, Host: u.Host, Run: *v.phase(u.Run)}
		if u.Rollback != nil {
			ju.Rollback = v.phase(*u.Rollback)
		}
		if failed(u.Run) {
			lines, _, _ := v.tails.Last(u.Task, u.Host, core.PhaseRun)
			ju.Tail = rd.Strings(lines)
		}
		r.Units = append(r.Units, ju)
	}
	return r
}

// Tick implements Apply; the stream has no status line.
func (v *ApplyJSON) Tick() {}

// Status implements Apply; the stream already says what runs.
func (v *ApplyJSON) Status() {}

// Resize implements Apply; the JSON stream has no status line.
func (v *ApplyJSON) Resize(int) {}

// Hold implements Apply; the JSON stream has no status line to clear.
func (v *ApplyJSON) Hold() (resume func()) { return func() {} }

// jsonRolledBack is rolled_back: the tasks the recap's "Rolled back" line
// names, without its words.
func jsonRolledBack(res *core.Result) []string {
	names, _ := rolledBackTasks(res)
	return names
}

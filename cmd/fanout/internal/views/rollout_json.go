package views

import (
	"time"

	"github.com/fanout/fanout/core"
)

// The -json events and recap fields of a rollout (docs/json.md).

type jsonWaveStarted struct {
	envelope
	Task   string   `json:"task"`
	Wave   int      `json:"wave"`
	Waves  int      `json:"waves"`
	Hosts  []string `json:"hosts"`
	Budget int      `json:"max_failures"`
}

type jsonWaveFinished struct {
	envelope
	Task   string   `json:"task"`
	Wave   int      `json:"wave"`
	Waves  int      `json:"waves"`
	Failed []string `json:"failed_hosts"`
}

type jsonPausing struct {
	envelope
	Task       string `json:"task"`
	NextWave   int    `json:"next_wave"`
	DurationMS int64  `json:"duration_ms"`
}

type jsonAttemptFailed struct {
	envelope
	Task     string     `json:"task"`
	Host     string     `json:"host"`
	Attempt  int        `json:"attempt"`
	Attempts int        `json:"attempts"`
	DelayMS  int64      `json:"retry_delay_ms"`
	Result   *jsonPhase `json:"result"`
}

type jsonCheckAttempt struct {
	envelope
	Task     string     `json:"task"`
	Host     string     `json:"host"`
	Attempt  int        `json:"attempt"`
	Passed   bool       `json:"passed"`
	LastLine string     `json:"last_line,omitempty"`
	Result   *jsonPhase `json:"result"`
}

type jsonHostDropped struct {
	envelope
	Host  string `json:"host"`
	Task  string `json:"task"`
	Cause string `json:"cause"`
}

type jsonBudgetExceeded struct {
	envelope
	Task   string   `json:"task"`
	Wave   int      `json:"wave"`
	Waves  int      `json:"waves"`
	Failed []string `json:"failed_hosts"`
	Budget int      `json:"max_failures"`
}

type jsonHostSkipped struct {
	envelope
	Task   string `json:"task"`
	Host   string `json:"host"`
	Reason string `json:"reason"`
}

// jsonWaveRun is a wave in the recap.
type jsonWaveRun struct {
	Task       string   `json:"task"`
	Wave       int      `json:"wave"`
	Waves      int      `json:"waves"`
	Hosts      []string `json:"hosts"`
	Failed     []string `json:"failed_hosts"`
	Finished   bool     `json:"finished"`
	DurationMS int64    `json:"duration_ms"`
}

// jsonDropped is a dropped host in the recap.
type jsonDropped struct {
	Host  string `json:"host"`
	Task  string `json:"task"`
	Cause string `json:"cause"`
	// RolledBack lists only the rollbacks that succeeded; FailedRollbacks
	// those that failed.
	RolledBack      []string `json:"rolled_back"`
	RollbackFailed  bool     `json:"rollback_failed"`
	FailedRollbacks []string `json:"failed_rollbacks,omitempty"`
	NotRolledBack   []string `json:"not_rolled_back,omitempty"`
	Unfinished      []string `json:"rollback_unfinished,omitempty"`
}

func (v *ApplyJSON) rolloutEvent(e core.Event) {
	rd := v.o.Redact
	switch e := e.(type) {
	case core.WaveStarted:
		v.write(jsonWaveStarted{v.env("wave_started", e.Time), e.Task, e.Index, e.Of, nonNil(e.Hosts), e.Budget})
	case core.WaveFinished:
		v.write(jsonWaveFinished{v.env("wave_finished", e.Time), e.Task, e.Index, e.Of, nonNil(e.Failed)})
	case core.Pausing:
		v.write(jsonPausing{v.env("pausing", e.Time), e.Task, e.Next, ms(e.Duration)})
	case core.AttemptFailed:
		v.write(jsonAttemptFailed{v.env("attempt_failed", time.Time{}), e.Task, e.Host, e.Attempt, e.Of, ms(e.Delay), v.phase(e.Result)})
	case core.CheckAttempt:
		v.write(jsonCheckAttempt{v.env("check_attempt", e.Time), e.Task, e.Host, e.Attempt, e.Result.Status == core.StatusOK,
			rd.String(e.Last), v.phase(e.Result)})
	case core.HostDropped:
		v.write(jsonHostDropped{v.env("host_dropped", e.Time), e.Host, e.Task, rd.String(e.Cause)})
	case core.BudgetExceeded:
		v.write(jsonBudgetExceeded{v.env("budget_exceeded", e.Time), e.Task, e.Index, e.Of, nonNil(e.Failed), e.Budget})
	case core.HostSkipped:
		v.write(jsonHostSkipped{v.env("host_skipped", time.Time{}), e.Task, e.Host, rd.String(e.Reason)})
	}
}

func (v *ApplyJSON) rolloutRecap(r *jsonRecap, res *core.Result) {
	r.Outcome = res.Status.String()
	for _, w := range res.Waves {
		r.Waves = append(r.Waves, jsonWaveRun{Task: w.Task, Wave: w.Index, Waves: w.Of, Hosts: nonNil(w.Hosts),
			Failed: nonNil(w.Failed), Finished: w.Finished, DurationMS: ms(w.Duration)})
	}
	for _, d := range res.Dropped {
		r.Dropped = append(r.Dropped, jsonDropped{Host: d.Host, Task: d.Task, Cause: v.o.Redact.String(d.Cause),
			RolledBack: nonNil(d.RolledBack), RollbackFailed: d.RollbackFailed(), FailedRollbacks: d.FailedRollbacks,
			NotRolledBack: d.NotRolledBack, Unfinished: d.Unfinished})
	}
}

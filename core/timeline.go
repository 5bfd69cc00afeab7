package core

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Timeline is a run as its journal tells it, laid out in time: what ran
// on which host when, the waves and the pauses between them, the first
// failure, the rollback cascade in its order, and what each later
// `fanout rollback` of the run did. It is the data a picture of the run is
// drawn from (`fanout runs show -html`) and holds no presentation: times
// are milliseconds from the run's start, texts are the journal's, with
// its secrets' placeholders.
//
// A journal without its last records (a run in progress, or one fanout
// did not live to finish) gives a timeline too: pairs whose end is not
// recorded are Open, and end at the journal's last record.
type Timeline struct {
	RunID string `json:"run_id"`
	// Config is the configuration's path as the run was given it.
	Config  string    `json:"config"`
	Started time.Time `json:"started"`
	// EndMS is the time of the journal's last record.
	EndMS int64 `json:"end_ms"`
	// Status is Recovery.Status: the run's state including any later
	// `fanout rollback` ("failed", "unfinished", "rolled back").
	Status string `json:"status"`
	// Cause names the run's first failure or what stopped it.
	Cause string `json:"cause,omitempty"`
	// InProgress is true when the journal has no run_finished record and
	// no rollback of it was started: the run is still going, or fanout
	// stopped before its end.
	InProgress bool `json:"in_progress,omitempty"`
	// Truncated is Recovery.Truncated: the last line was cut short.
	Truncated bool `json:"truncated,omitempty"`
	// Hosts and Tasks are the plan's, in plan order: the rows of a
	// timeline by host and by task.
	Hosts []string `json:"hosts"`
	Tasks []string `json:"tasks"`
	// Bars are the (task, host, phase) runs, ordered by start, then task
	// and host in plan order.
	Bars []TimelineBar `json:"bars"`
	// Folds groups the hosts whose histories are the same (tasks,
	// phases, outcomes, waves), in plan order of each group's first host:
	// a picture of 2,000 hosts draws one row per group.
	Folds     []TimelineFold      `json:"folds"`
	Waves     []TimelineWave      `json:"waves,omitempty"`
	Pauses    []TimelinePause     `json:"pauses,omitempty"`
	Preflight []TimelineHostError `json:"preflight,omitempty"`
	Drops     []TimelineDrop      `json:"drops,omitempty"`
	Cascade   []TimelineRollback  `json:"cascade,omitempty"`
	// Recoveries are the `fanout rollback` runs appended to the journal,
	// in order; a bar or a cascade step with Recovery n belongs to the
	// n-th.
	Recoveries []TimelineRecovery `json:"recoveries,omitempty"`
	// FirstFailure is the pair that stopped the run, if one did; its
	// run bar has First set.
	FirstFailure *TimelinePair `json:"first_failure,omitempty"`
	Recap        TimelineRecap `json:"recap"`
}

// TimelineBar is one phase of a (task, host) pair.
type TimelineBar struct {
	Task  string `json:"task"`
	Host  string `json:"host"`
	Phase Phase  `json:"phase"`
	// Recovery is the `fanout rollback` the bar belongs to, counting from
	// 1; 0 for the run itself.
	Recovery int   `json:"recovery,omitempty"`
	StartMS  int64 `json:"start_ms"`
	EndMS    int64 `json:"end_ms"`
	// Open is true when the journal has no record of the pair's end: it
	// is running, or fanout stopped while it ran. Status is then
	// "unfinished" and EndMS the journal's last record.
	Open bool `json:"open,omitempty"`
	// Status is the outcome in the recap's words ("ok", "failed",
	// "check failed").
	Status string `json:"status"`
	// Describe is PhaseResult.Describe: "exit 3", "timed out after 1s".
	Describe string `json:"describe,omitempty"`
	ExitCode int    `json:"exit_code"`
	Signal   string `json:"signal,omitempty"`
	// Command is the failing command's index from 0, -1 for none.
	Command int    `json:"command"`
	Error   string `json:"error,omitempty"`
	// Wave is the host's wave of the task, counting from 1; 0 when the
	// task ran in one wave.
	Wave          int `json:"wave,omitempty"`
	Attempts      int `json:"attempts,omitempty"`
	CheckAttempts int `json:"check_attempts,omitempty"`
	// Retried are the attempts that failed and were tried again, with
	// when each failed.
	Retried    []TimelineAttempt `json:"retried,omitempty"`
	StderrTail []string          `json:"stderr_tail,omitempty"`
	CheckTail  []string          `json:"check_tail,omitempty"`
	// First marks the run bar of the run's first failure.
	First bool `json:"first,omitempty"`
	// Dropped marks the run bar of the failure that dropped its host.
	Dropped bool `json:"dropped,omitempty"`
}

// TimelineAttempt is an attempt of a pair's run that failed and was tried
// again.
type TimelineAttempt struct {
	Attempt  int    `json:"attempt"`
	AtMS     int64  `json:"at_ms"`
	Describe string `json:"describe"`
}

// TimelineFold is a set of hosts with the same history.
type TimelineFold struct {
	// History says what the hosts went through: "stage:run:ok
	// restart#2:run:ok" (task, wave, phase, outcome, in order).
	History string   `json:"history"`
	Hosts   []string `json:"hosts"`
}

// TimelineWave is one wave of a task.
type TimelineWave struct {
	Task    string   `json:"task"`
	Index   int      `json:"index"`
	Of      int      `json:"of"`
	Hosts   []string `json:"hosts"`
	StartMS int64    `json:"start_ms"`
	EndMS   int64    `json:"end_ms"`
	// Finished is false for a wave the run stopped in, or still runs.
	Finished bool     `json:"finished"`
	Failed   []string `json:"failed,omitempty"`
}

// TimelinePause is the wait between two waves of a task: from the end of
// wave After to the start of the next.
type TimelinePause struct {
	Task    string `json:"task"`
	After   int    `json:"after"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
}

// TimelineDrop is a host dropped within a wave's failure budget.
type TimelineDrop struct {
	Host  string `json:"host"`
	Task  string `json:"task"`
	Cause string `json:"cause"`
	AtMS  int64  `json:"at_ms"`
}

// TimelineRollback is one step of a rollback cascade: a task rolled back
// on its hosts, one task at a time, in the order they ran.
type TimelineRollback struct {
	// Step counts the steps of its run or recovery from 1.
	Step     int      `json:"step"`
	Recovery int      `json:"recovery,omitempty"`
	Task     string   `json:"task"`
	Hosts    []string `json:"hosts"`
	Failed   []string `json:"failed,omitempty"`
	StartMS  int64    `json:"start_ms"`
	EndMS    int64    `json:"end_ms"`
	Open     bool     `json:"open,omitempty"`
}

// TimelineRecovery is a `fanout rollback` of the run.
type TimelineRecovery struct {
	Index   int    `json:"index"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Open    bool   `json:"open,omitempty"`
	Status  string `json:"status"`
	Cause   string `json:"cause,omitempty"`
}

// TimelineHostError is a host that failed preflight: nothing ran.
type TimelineHostError struct {
	Host  string `json:"host"`
	Error string `json:"error"`
}

// TimelinePair names a (task, host) pair.
type TimelinePair struct {
	Task string `json:"task"`
	Host string `json:"host"`
}

// TimelineRecap is the recap's numbers.
type TimelineRecap struct {
	Hosts int `json:"hosts"`
	Tasks int `json:"tasks"`
	// Pairs counts the plan's (task, host) pairs; Runs counts them by the
	// outcome of their run phase ("ok", "failed", "skipped", "unfinished";
	// "not started" in a run in progress).
	Pairs int            `json:"pairs"`
	Runs  map[string]int `json:"runs"`
	// RolledBack counts pairs whose latest rollback succeeded;
	// RollbackFailed those whose latest failed or did not finish.
	RolledBack     int `json:"rolled_back"`
	RollbackFailed int `json:"rollback_failed"`
	Dropped        int `json:"dropped"`
	// Waves counts the waves that started, of every task.
	Waves      int   `json:"waves"`
	Preflight  int   `json:"preflight,omitempty"`
	DurationMS int64 `json:"duration_ms"`
}

// unfinishedWord is an open bar's status.
const unfinishedWord = "unfinished"

// Timeline lays the journal's run out in time. It reads the records only,
// so it shows a run in progress as far as it went.
func (rc *Recovery) Timeline() (*Timeline, error) {
	plan, err := rc.Plan()
	if err != nil {
		return nil, err
	}
	res, err := rc.Result()
	if err != nil {
		return nil, err
	}
	tl := &Timeline{
		RunID:     rc.Header.RunID,
		Config:    rc.Header.Config,
		Started:   rc.Header.Started,
		Status:    rc.Status(),
		Cause:     res.Cause,
		Truncated: rc.Truncated,
	}
	for _, he := range res.Preflight {
		tl.Preflight = append(tl.Preflight, TimelineHostError{Host: he.Host, Error: he.Err})
	}
	_, finished := rc.Finished()
	tl.InProgress = !finished && !slices.ContainsFunc(rc.Records, func(r *JournalRecord) bool { return r.Type == RecordRecoveryStarted })
	for _, h := range plan.Hosts {
		tl.Hosts = append(tl.Hosts, h.Name)
	}
	plan.Walk(func(t *TaskNode) { tl.Tasks = append(tl.Tasks, t.Name) })

	b := &timelineBuilder{tl: tl, base: rc.Header.Started, openBars: map[barKey]int{}, openSteps: map[string]int{}, waveOf: map[TimelinePair]int{}}
	for _, rec := range rc.Records {
		b.add(rec)
	}
	b.close()
	if ff := res.FirstFailure; ff != nil {
		tl.FirstFailure = &TimelinePair{Task: ff.Task, Host: ff.Host}
		for i := range tl.Bars {
			if bar := &tl.Bars[i]; bar.Task == ff.Task && bar.Host == ff.Host && bar.Phase == PhaseRun && bar.Recovery == 0 {
				bar.First = true
			}
		}
	}
	taskIx, hostIx := indexOf(tl.Tasks), indexOf(tl.Hosts)
	slices.SortStableFunc(tl.Bars, func(a, b TimelineBar) int {
		return cmp.Or(cmp.Compare(a.StartMS, b.StartMS), cmp.Compare(taskIx[a.Task], taskIx[b.Task]),
			cmp.Compare(hostIx[a.Host], hostIx[b.Host]), cmp.Compare(a.Phase, b.Phase), cmp.Compare(a.Recovery, b.Recovery))
	})
	tl.Folds = folds(tl, taskIx)
	tl.Recap = recap(tl, res)
	return tl, nil
}

// timelineBuilder is the state of reading a journal's records in order.
type timelineBuilder struct {
	tl   *Timeline
	base time.Time
	last int64
	// recovery is the `fanout rollback` being read, 0 for the run.
	recovery int
	// openBars and openSteps index the bars and the cascade steps (by
	// task) not ended yet.
	openBars  map[barKey]int
	openSteps map[string]int
	waveOf    map[TimelinePair]int
	// steps counts the cascade's steps of the run or recovery read.
	steps int
}

// ms is t as milliseconds from the run's start.
func (b *timelineBuilder) ms(t time.Time) int64 { return t.Sub(b.base).Milliseconds() }

// barKey names a bar of the run or of the recovery being read.
type barKey struct {
	task, host string
	phase      Phase
}

// add takes one record into the timeline.
func (b *timelineBuilder) add(rec *JournalRecord) {
	tl := b.tl
	at := b.ms(rec.Time)
	if rec.Type == RecordRecoveryStarted {
		// What the run left open ends where its journal did, not when
		// someone came to roll it back.
		b.closeOpen()
	}
	b.last = max(b.last, at)
	switch rec.Type {
	case RecordUnitStarted:
		w := 0
		if rec.Phase == PhaseRun {
			w = b.waveOf[TimelinePair{rec.Task, rec.Host}]
		}
		b.openBars[barKey{rec.Task, rec.Host, rec.Phase}] = len(tl.Bars)
		tl.Bars = append(tl.Bars, TimelineBar{Task: rec.Task, Host: rec.Host, Phase: rec.Phase, Recovery: b.recovery,
			StartMS: at, EndMS: at, Open: true, Status: unfinishedWord, ExitCode: -1, Command: 0, Wave: w})
	case RecordUnitFinished:
		k := barKey{rec.Task, rec.Host, rec.Phase}
		i, ok := b.openBars[k]
		if !ok || rec.Result == nil {
			return
		}
		delete(b.openBars, k)
		bar := &tl.Bars[i]
		pr := rec.Result.phaseResult(rec.Time)
		bar.EndMS, bar.Open = at, false
		bar.Status, bar.Describe = pr.Status.String(), pr.Describe()
		bar.ExitCode, bar.Signal, bar.Command, bar.Error = pr.ExitCode, pr.Signal, pr.Command, pr.Err
		bar.Attempts, bar.CheckAttempts = pr.Attempts, pr.CheckAttempts
		bar.StderrTail, bar.CheckTail = pr.StderrTail, pr.CheckTail
	case RecordAttempt:
		i, ok := b.openBars[barKey{rec.Task, rec.Host, PhaseRun}]
		if !ok || rec.Result == nil {
			return
		}
		tl.Bars[i].Retried = append(tl.Bars[i].Retried, TimelineAttempt{Attempt: rec.Attempt, AtMS: at,
			Describe: rec.Result.phaseResult(rec.Time).Describe()})
	case RecordWaveStarted:
		for _, h := range rec.Hosts {
			b.waveOf[TimelinePair{rec.Task, h}] = rec.Wave
		}
		// Tasks beside each other interleave their waves' records.
		if i := slices.IndexFunc(tl.Waves, func(w TimelineWave) bool { return w.Task == rec.Task && w.Index == rec.Wave-1 }); i >= 0 {
			if prev := tl.Waves[i]; prev.Finished && at > prev.EndMS {
				tl.Pauses = append(tl.Pauses, TimelinePause{Task: rec.Task, After: prev.Index, StartMS: prev.EndMS, EndMS: at})
			}
		}
		tl.Waves = append(tl.Waves, TimelineWave{Task: rec.Task, Index: rec.Wave, Of: rec.Waves, Hosts: slices.Clone(rec.Hosts), StartMS: at, EndMS: at})
	case RecordWaveFinished:
		for i := range tl.Waves {
			if w := &tl.Waves[i]; w.Task == rec.Task && w.Index == rec.Wave {
				w.EndMS, w.Finished, w.Failed = at, true, slices.Clone(rec.Failed)
			}
		}
	case RecordHostDropped:
		tl.Drops = append(tl.Drops, TimelineDrop{Host: rec.Host, Task: rec.Task, Cause: rec.Reason, AtMS: at})
		for i := range tl.Bars {
			if bar := &tl.Bars[i]; bar.Task == rec.Task && bar.Host == rec.Host && bar.Phase == PhaseRun && bar.Recovery == 0 {
				bar.Dropped = true
			}
		}
	case RecordRollbackStarted:
		b.steps++
		b.openSteps[rec.Task] = len(tl.Cascade)
		tl.Cascade = append(tl.Cascade, TimelineRollback{Step: b.steps, Recovery: b.recovery, Task: rec.Task,
			Hosts: slices.Clone(rec.Hosts), StartMS: at, EndMS: at, Open: true})
	case RecordRollbackFinished:
		if i, ok := b.openSteps[rec.Task]; ok {
			delete(b.openSteps, rec.Task)
			s := &tl.Cascade[i]
			s.EndMS, s.Open, s.Failed = at, false, slices.Clone(rec.Failed)
		}
	case RecordRecoveryStarted:
		b.recovery++
		b.steps = 0
		tl.Recoveries = append(tl.Recoveries, TimelineRecovery{Index: b.recovery, StartMS: at, EndMS: at, Open: true, Status: unfinishedWord})
	case RecordRecoveryFinished:
		if n := len(tl.Recoveries); n > 0 {
			r := &tl.Recoveries[n-1]
			r.EndMS, r.Open, r.Status, r.Cause = at, false, rec.Status.String(), rec.Reason
		}
	}
}

// closeOpen ends what is still open at the last record read: a pair or a
// cascade step whose end the journal does not hold.
func (b *timelineBuilder) closeOpen() {
	for _, i := range b.openBars {
		b.tl.Bars[i].EndMS = b.last
	}
	for _, i := range b.openSteps {
		b.tl.Cascade[i].EndMS = b.last
	}
	clear(b.openBars)
	clear(b.openSteps)
	for i := range b.tl.Waves {
		if w := &b.tl.Waves[i]; !w.Finished && w.EndMS < b.last {
			w.EndMS = max(w.EndMS, b.wavesLastBar(w))
		}
	}
}

// wavesLastBar is when the last run bar of w's hosts ended.
func (b *timelineBuilder) wavesLastBar(w *TimelineWave) int64 {
	end := w.StartMS
	for _, bar := range b.tl.Bars {
		if bar.Task == w.Task && bar.Phase == PhaseRun && bar.Recovery == 0 && slices.Contains(w.Hosts, bar.Host) {
			end = max(end, bar.EndMS)
		}
	}
	return end
}

// close ends the journal.
func (b *timelineBuilder) close() {
	b.closeOpen()
	for i := range b.tl.Recoveries {
		if r := &b.tl.Recoveries[i]; r.Open {
			r.EndMS = b.last
		}
	}
	b.tl.EndMS = b.last
}

// indexOf maps each name to its place in names.
func indexOf(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		m[n] = i
	}
	return m
}

// folds groups the hosts by history: the (task, wave, phase, outcome) of
// their bars in task order, the run phase before the rollback.
func folds(tl *Timeline, taskIx map[string]int) []TimelineFold {
	perHost := map[string][]TimelineBar{}
	for _, bar := range tl.Bars {
		perHost[bar.Host] = append(perHost[bar.Host], bar)
	}
	var out []TimelineFold
	at := map[string]int{}
	for _, h := range tl.Hosts {
		bars := perHost[h]
		slices.SortStableFunc(bars, func(a, b TimelineBar) int {
			return cmp.Or(cmp.Compare(a.Recovery, b.Recovery), cmp.Compare(phaseOrder(a.Phase), phaseOrder(b.Phase)),
				cmp.Compare(taskIx[a.Task], taskIx[b.Task]))
		})
		var parts []string
		for _, bar := range bars {
			p := bar.Task
			if bar.Wave > 0 {
				p += "#" + strconv.Itoa(bar.Wave)
			}
			p += ":" + string(bar.Phase) + ":" + bar.Status
			if bar.Recovery > 0 {
				p += "@" + strconv.Itoa(bar.Recovery)
			}
			parts = append(parts, p)
		}
		key := strings.Join(parts, " ")
		if key == "" {
			key = "(nothing ran)"
		}
		if i, ok := at[key]; ok {
			out[i].Hosts = append(out[i].Hosts, h)
			continue
		}
		at[key] = len(out)
		out = append(out, TimelineFold{History: key, Hosts: []string{h}})
	}
	return out
}

// phaseOrder puts a pair's run before its rollback.
func phaseOrder(p Phase) int {
	if p == PhaseRollback {
		return 1
	}
	return 0
}

// recap counts what the recap shows.
func recap(tl *Timeline, res *Result) TimelineRecap {
	rc := TimelineRecap{Hosts: len(tl.Hosts), Tasks: len(tl.Tasks), Runs: map[string]int{},
		Dropped: len(tl.Drops), Preflight: len(tl.Preflight), DurationMS: tl.EndMS}
	for _, u := range res.Units {
		rc.Pairs++
		st := u.Run.Status.String()
		switch {
		case u.Run.Status == StatusInterrupted && (u.Run.Err == errNoEndRecorded || u.Run.Err == errConditionsUnended):
			st = unfinishedWord
		case u.Run.Status == StatusSkipped && tl.InProgress:
			// Its turn may yet come.
			st = "not started"
		}
		rc.Runs[st]++
	}
	// The latest rollback of each pair counts, a recovery's after the
	// run's own.
	latest := map[string]TimelineBar{}
	for _, bar := range tl.Bars {
		if bar.Phase != PhaseRollback {
			continue
		}
		k := bar.Task + "\x00" + bar.Host
		if prev, ok := latest[k]; !ok || bar.Recovery >= prev.Recovery {
			latest[k] = bar
		}
	}
	for _, bar := range latest {
		if bar.Status == StatusOK.String() {
			rc.RolledBack++
		} else {
			rc.RollbackFailed++
		}
	}
	rc.Waves = len(tl.Waves)
	return rc
}

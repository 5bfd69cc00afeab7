package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
)

// runRuns lists the runs journaled for a configuration, or shows one as
// its recap showed it.
func runRuns(args []string, s *streams) int {
	a, err := arguments.ParseRuns(args)
	if code, ok := parseArgs(err, s, "runs"); !ok {
		return code
	}
	o := views.Options{Color: s.Color && !a.NoColor, Config: a.Path}
	if _, err := os.Stat(a.Path); err != nil {
		// Not "No runs recorded": a mistyped path must not look like a
		// configuration that never ran.
		printf(s.Err, "fanout runs: cannot read configuration %s: %s\n", a.Path, errors.Unwrap(err))
		return exitFailed
	}
	state, err := stateDir(a.Path)
	if err != nil {
		printf(s.Err, "fanout runs: %s\n", err)
		return exitUsage
	}
	if a.Show != "" {
		rc, err := readRun(state, a.Show)
		if err != nil {
			printf(s.Err, "fanout runs show: %s\n", err)
			return readRunExit(err)
		}
		if a.HTML {
			return showTimeline(s, rc, a.Out)
		}
		if running, holder := goesOn(liveHolder(state), rc); running {
			// Its journal has no end because it has not ended: a recap
			// now would call it interrupted.
			who := ""
			if holder != nil {
				who = ": " + holder.String()
			}
			printf(s.Out, "Run %s is running now%s.\nIts journal so far is %s; its recap comes when it ends: %s again then.\n",
				rc.Header.RunID, who, rc.Path, views.Suggest("runs show", rc.Header.RunID, a.Path))
			return exitOK
		}
		res, err := rc.Result()
		if err != nil {
			printf(s.Err, "fanout runs show: %s\n", err)
			return exitFailed
		}
		views.RunHeader(s.Out, rc, o)
		views.Summary(s.Out, res, nil, o)
		return exitOK
	}
	dir := filepath.Join(state, "runs")
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		printf(s.Err, "fanout runs: %s\n", err)
		return exitFailed
	}
	holder := liveHolder(state) // read once: it names one run at most
	var runs []views.RunEntry
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".jsonl")
		if !ok || e.IsDir() {
			continue
		}
		re := views.RunEntry{ID: id, File: relPath(filepath.Join(dir, e.Name()))}
		if rc, err := core.ReadJournal(filepath.Join(dir, e.Name())); err != nil {
			re.Status = "unreadable"
		} else {
			re.Started, re.Status, re.Command = rc.Header.Started, rc.Status(), cmp.Or(rc.Header.Command, "apply")
			if running, _ := goesOn(holder, rc); running {
				re.Status = "running"
			}
		}
		runs = append(runs, re)
	}
	sortRuns(runs)
	views.Runs(s.Out, relPath(dir), runs, o)
	return exitOK
}

// sortRuns orders runs as they started: an ID's random suffix orders
// two runs of the same second at random.
func sortRuns(runs []views.RunEntry) {
	sort.Slice(runs, func(i, j int) bool {
		a, b := startOf(runs[i]), startOf(runs[j])
		if !a.Equal(b) {
			return a.Before(b)
		}
		return runs[i].ID < runs[j].ID
	})
}

// startOf is when a listed run started: its journal's time, or for one
// that cannot be read the time its ID begins with.
func startOf(re views.RunEntry) time.Time {
	if !re.Started.IsZero() {
		return re.Started
	}
	stamp, _, _ := strings.Cut(re.ID, "-")
	t, _ := time.Parse(runIDTime, stamp)
	return t
}

// runIDTime is the layout of the time a run ID begins with.
const runIDTime = "20060102T150405"

// readRun reads the journal of run id, which may also be given as the
// journal's path.
func readRun(state, id string) (*core.Recovery, error) {
	path := journalPath(state, id)
	if strings.HasSuffix(id, ".jsonl") {
		path = id
	} else if strings.ContainsAny(id, `/\`) {
		return nil, &notRunIDError{id}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %s: %s does not exist (fanout runs lists the runs)", errNoRun, id, path)
	}
	return core.ReadJournal(path)
}

// errNoRun is readRun's error for a run ID no journal has: the command
// was given a wrong argument (exit 2), nothing failed.
var errNoRun = errors.New("no run")

// notRunIDError is readRun's error for an argument that is neither a run
// ID nor a journal's path: a wrong argument too.
type notRunIDError struct{ id string }

func (e *notRunIDError) Error() string {
	return fmt.Sprintf("%q is not a run ID (fanout runs lists them)", e.id)
}

// readRunExit is the exit code of readRun's error: a wrong argument is
// bad usage (2), a journal that cannot be read a failure (1).
func readRunExit(err error) int {
	if _, ok := errors.AsType[*notRunIDError](err); ok || errors.Is(err, errNoRun) {
		return exitUsage
	}
	return exitFailed
}

// relPath shows a path relative to the current directory when it is below
// it, as the user would type it.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(r) {
		return r
	}
	return p
}

// The help of runs and rollback sits with them; help.go holds the others'.
const (
	helpRuns = `Usage: fanout runs [options] [FILE.hcl|DIR]
       fanout runs show ID [FILE.hcl|DIR]
       fanout runs show ID -html [-o FILE] [FILE.hcl|DIR]

  List the runs journaled for a configuration: every apply records itself in
  .fanout/runs/ID.jsonl next to the configuration (the current directory's
  when none is given) before anything runs. "show" prints one run as its
  recap did, rebuilt from the journal, also for a run fanout did not live to
  finish.

  With -html, "show" writes the run as one self-contained HTML page (no
  network needed): a timeline with a row per host (hosts alike folded) or
  per task, bars coloured by outcome, the waves and pauses, the first
  failure and the rollback cascade in order, the recap's numbers, and each
  pair's exit code and last lines of stderr on hover or click. It works
  for a run in progress, and shows a later fanout rollback of the run.

Options:
  -html             Write the run's HTML timeline (to ID.html unless -o).
  -o FILE           The timeline's file; - writes it to standard output.
` + helpColor + `
Examples:
  fanout runs
  fanout runs show 20261126T011105-10e5fa deploy.hcl
  fanout runs show 20261126T011105-10e5fa -html -o run.html deploy.hcl
`
	helpRollback = `Usage: fanout rollback [options] ID [FILE.hcl|DIR]

  Roll back what run ID started, as recorded in its journal: the failed task
  first, then every task that started, newest first, inner groups whole,
  each on the hosts its run started on, through the transports and settings
  the run used. The plan of what will be rolled back is shown first, and
  on a terminal nothing runs until you type "yes"; without a terminal,
  -auto-approve is required. Pairs rolled back already (by the run itself
  or an earlier rollback) are skipped, so running it twice rolls nothing
  back twice; a rollback that failed is tried again. This is how to finish
  the job after fanout was killed, or lost its terminal, mid-run.

  Sensitive values are not kept in journals: give the variables the
  rollback commands use as for apply (-var, -var-file, FANOUT_VAR_NAME).

Options:
  -dry-run          Show what would be rolled back; run nothing.
  -auto-approve     Roll back without asking for confirmation (scripts, CI).
  -force            Roll back a run that succeeded or was partial, or one a
                    later run of the configuration followed (each refused
                    otherwise).
` + helpVars + helpColor + `
Examples:
  fanout runs                                   find the run's ID
  fanout rollback -dry-run 20261126T011105-10e5fa
  fanout rollback 20261126T011105-10e5fa deploy.hcl
  fanout rollback -auto-approve 20261126T011105-10e5fa deploy.hcl
`
)

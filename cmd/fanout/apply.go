package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
)

func runApply(args []string, s *streams) int {
	a, err := arguments.ParseApply(args)
	if code, ok := parseArgs(err, s, "apply"); !ok {
		return code
	}
	l := newLoader(s, &a.Common)
	// Known before the plan: the transports are configured with it.
	runID := core.NewRunID()
	l.runID = runID
	pl, done, ok := l.buildPlan(&a.Common, a.Selection)
	defer done()
	if !ok {
		return exitUsage
	}
	return runPlanned(s, l, pl, runSpec{
		command: "apply", path: a.Path, runID: runID,
		quiet: a.Quiet, group: a.Group, viewType: a.ViewType, html: a.HTML,
	})
}

// runSpec is what apply and exec tell runPlanned about the run.
type runSpec struct {
	// command names the run in messages, the lock and the journal.
	command string
	// path is the configuration's, whose .fanout directory holds the
	// journal and the lock.
	path  string
	runID string
	quiet bool
	group bool
	// pipe is exec -pipe's output (views.ApplyPipe).
	pipe     bool
	viewType arguments.ViewType
	// html is the file the run's HTML timeline is written to at its end;
	// empty writes none.
	html string
}

// runPlanned journals and runs a plan, rendering it live, and returns the
// command's exit code: the one engine of apply and exec.
func runPlanned(s *streams, l *loader, pl *planned, r runSpec) int {
	if len(pl.plan.Hosts) == 0 {
		// An inventory come out empty (a CSV with its header alone, a
		// filtered YAML) must not turn a deploy green having done
		// nothing, as an empty configuration does not.
		printf(s.Err, "fanout %s: nothing to run: no task has a host to run on (an empty for_each makes no host: check the inventory it reads); nothing ran.\n", r.command)
		return exitUsage
	}
	if ow, ok := s.Out.(*outputWriter); ok {
		ow.setJSON(r.viewType == arguments.ViewJSON)
	}
	jr, ok := startJournal(s, r.command, r.path, r.runID, pl)
	if !ok {
		return exitFailed
	}
	defer jr.close()

	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	interrupt := make(chan struct{})
	stopSignals, interruptReason := watchSignals(interrupt, func() {
		// Said at once, as the first interrupt's Stopping line is: the
		// recap may be a while.
		printf(s.Err, "\nfanout %s: aborting: running commands are stopped now, and rollbacks not yet started are not run (the recap names what is left).\n", r.command)
		abort()
	})
	defer stopSignals()

	o := views.ApplyOptions{
		Options:  views.Options{Color: l.color, Redact: pl.redact, Escape: s.Terminal, Config: r.path},
		Quiet:    r.quiet,
		Group:    r.group,
		Progress: s.Terminal && !s.Dumb && r.viewType == arguments.ViewHuman && !r.pipe,
		Version:  version,
		Command:  r.command,
	}
	if o.Progress && s.Width != nil {
		o.Width = s.Width()
	}
	var view views.Apply
	if r.pipe {
		// fanout's own lines go to stderr, escaped if it is a terminal.
		human := o
		human.Options = views.Options{Redact: pl.redact, Escape: s.ErrTerminal, Config: r.path}
		view = views.NewApplyPipe(s.Out, s.Err, pl.plan, human, views.Options{Redact: pl.redact, Escape: s.Terminal})
	} else {
		view = views.NewApply(r.viewType, s.Out, pl.plan, o)
	}
	var width func() int
	if o.Progress {
		width = s.Width
	}
	stopStatus := watchStatus(view, o.Progress, width)
	res := core.Apply(ctx, pl.plan, core.ApplyOptions{
		Transports: pl.ts,
		Observer:   view,
		Interrupt:  interrupt,
		// Which signal it was, for the recap and the journal.
		InterruptReason: interruptReason,
		Input:           newInput(s, view, pl.redact),
		Logger:          newLogger(s),
		RunID:           r.runID,
		Journal:         jr.journal,

		SudoPassword: pl.cfg.Settings.SudoPassword,
	})
	stopStatus()
	jr.finish(s, res)
	if r.html != "" {
		// The page is drawn from the journal, as runs show -html draws it.
		writeRunTimeline(s, r.command, jr.journal.Path(), r.html, pl.redact, r.path)
	}
	// The run is over: its journal, lock and plugins are let go before
	// waiting for a stalled stdout to take the end of the output.
	jr.close()
	_ = pl.ts.Close(context.Background()) // stops the plugins; their errors were logged
	noteLostOutput(s, r.command, r.runID, r.path, interrupt)
	return runExit(res)
}

// runExit is the exit code of a run, apply's or rollback's.
func runExit(res *core.Result) int {
	// What on_failure "stop" or "continue" left was the configuration's
	// choice, not an undo cut short: the run's own code says how it ended.
	if res.UndoIncomplete() {
		return exitNotRolledBack
	}
	switch res.Status {
	case core.RunSucceeded:
		return exitOK
	case core.RunInterrupted:
		return exitInterrupted
	default:
		return exitFailed
	}
}

// watchStatus redraws the view's status line every second when tick is
// set, and for the terminal's new width (from width) when it is resized
// (SIGWINCH), and lists what runs now on SIGUSR1. The returned func stops
// them and waits for them.
func watchStatus(view views.Apply, tick bool, width func() int) func() {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	winch := make(chan os.Signal, 1)
	if width != nil {
		signal.Notify(winch, syscall.SIGWINCH)
	}
	var ticks <-chan time.Time
	var ticker *time.Ticker
	if tick {
		ticker = time.NewTicker(time.Second)
		ticks = ticker.C
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ticks:
				view.Tick()
			case <-usr1:
				view.Status()
			case <-winch:
				view.Resize(width())
			case <-stop:
				return
			}
		}
	})
	return func() {
		signal.Stop(usr1)
		signal.Stop(winch)
		close(stop)
		wg.Wait()
		if ticker != nil {
			ticker.Stop()
		}
	}
}

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
	jr, ok := startJournal(s, "apply", a.Path, runID, pl)
	if !ok {
		return exitFailed
	}
	defer jr.close()

	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	interrupt := make(chan struct{})
	stopSignals := watchSignals(interrupt, abort)
	defer stopSignals()

	o := views.ApplyOptions{
		Options:  views.Options{Color: l.color, Redact: pl.redact, Escape: s.Terminal},
		Quiet:    a.Quiet,
		Group:    a.Group,
		Progress: s.Terminal && a.ViewType == arguments.ViewHuman,
		Version:  version,
	}
	if o.Progress && s.Width != nil {
		o.Width = s.Width()
	}
	view := views.NewApply(a.ViewType, s.Out, pl.plan, o)
	stopStatus := watchStatus(view, o.Progress)
	res := core.Apply(ctx, pl.plan, core.ApplyOptions{
		Transports: pl.ts,
		Observer:   view,
		Interrupt:  interrupt,
		Input:      newInput(s, view),
		Logger:     newLogger(s),
		RunID:      runID,
		Journal:    jr.journal,
	})
	stopStatus()
	jr.finish(s, res)
	noteLostOutput(s, "apply", runID)
	if a.HTML != "" {
		// The page is drawn from the journal, as runs show -html draws it.
		writeRunTimeline(s, "apply", jr.journal.Path(), a.HTML, pl.redact)
	}
	return runExit(res.Status)
}

// runExit is the exit code of a run, apply's or rollback's.
func runExit(status core.RunStatus) int {
	switch status {
	case core.RunSucceeded:
		return exitOK
	case core.RunInterrupted:
		return exitInterrupted
	default:
		return exitFailed
	}
}

// watchStatus redraws the view's status line every second when tick is
// set, and lists what runs now on SIGUSR1. The returned func stops both
// and waits for them.
func watchStatus(view views.Apply, tick bool) func() {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
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
			case <-stop:
				return
			}
		}
	})
	return func() {
		signal.Stop(usr1)
		close(stop)
		wg.Wait()
		if ticker != nil {
			ticker.Stop()
		}
	}
}

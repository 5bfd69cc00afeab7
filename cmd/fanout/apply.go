package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
)

const applySynopsis = "Run the plan: tasks in parallel under their limits, output prefixed by host\n  and task, a summary at the end. When a task fails, nothing new starts, work\n  in flight finishes, and everything that started is rolled back, newest\n  first. Ctrl-C once interrupts and rolls back; twice aborts."

func runApply(args []string, s *streams) int {
	a, err := arguments.ParseApply(args)
	if code, ok := parseArgs(err, s, "apply", applySynopsis); !ok {
		return code
	}
	p, ts, done, ok := buildPlan(s, &a.Common)
	defer done()
	if !ok {
		return exitUsage
	}

	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	interrupt := make(chan struct{})
	stopSignals := watchSignals(interrupt, abort)
	defer stopSignals()

	view := views.NewApplyHuman(s.Out, p, s.Color && !a.NoColor)
	res := core.Apply(ctx, p, core.ApplyOptions{
		Transports: ts,
		Observer:   view,
		Interrupt:  interrupt,
		Logger:     newLogger(s),
	})
	switch res.Status {
	case core.RunSucceeded:
		return exitOK
	case core.RunInterrupted:
		return exitInterrupted
	default:
		return exitFailed
	}
}

// watchSignals turns the first SIGINT or SIGTERM into an interrupt (stop,
// roll back) and the second into an abort. The returned func stops
// watching and waits for the watcher.
func watchSignals(interrupt chan struct{}, abort context.CancelFunc) func() {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		n := 0
		for {
			select {
			case <-ch:
				n++
				if n == 1 {
					close(interrupt)
				} else {
					abort()
					return
				}
			case <-stop:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(stop)
		<-done
	}
}

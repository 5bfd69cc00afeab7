package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// interruptSignals stop a run and roll it back (a second one aborts):
// Ctrl-C, a polite kill, Ctrl-\ (SIGQUIT, which would otherwise end
// fanout at once with a dump of its goroutines and no rollback), and a
// hang-up, which is how a dropped SSH session to a bastion or a closed
// terminal window ends fanout. A run they interrupt exits with
// exitInterrupted (130), whichever it was. Under nohup, which ignores
// SIGHUP so that a run outlives its terminal, a hang-up is left ignored:
// asking for a signal un-ignores it.
var interruptSignals = func() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT}
	if !signal.Ignored(syscall.SIGHUP) { // read before anything asks for it
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}()

// signalEcho is how soon after a signal the same signal again is taken
// for an echo of it rather than a second one: `timeout 30m fanout apply`
// sends its TERM to fanout and again to its process group, and a CI
// runner may do the same, which read as an abort with nothing rolled
// back. A person pressing Ctrl-C twice to abort is slower than this.
const signalEcho = 250 * time.Millisecond

// watchSignals turns the first interrupt signal into an interrupt (stop,
// roll back) and the second into an abort (the same signal within
// signalEcho of the first is the first). It returns a func that stops
// watching and waits for the watcher, and one that says which signal
// interrupted, for the run's cause (core.ApplyOptions.InterruptReason).
func watchSignals(interrupt chan struct{}, abort context.CancelFunc) (stopWatching func(), reason func() string) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, interruptSignals...)
	stop := make(chan struct{})
	done := make(chan struct{})
	var why atomic.Value // string, set before interrupt is closed
	go func() {
		defer close(done)
		var first os.Signal
		var at time.Time
		for {
			select {
			case sig := <-ch:
				switch {
				case first == nil:
					first, at = sig, time.Now()
					why.Store(interruptReason(sig))
					close(interrupt)
				case sig == first && time.Since(at) < signalEcho:
				default:
					abort()
					return
				}
			case <-stop:
				return
			}
		}
	}()
	stopWatching = func() {
		signal.Stop(ch)
		close(stop)
		<-done
	}
	reason = func() string {
		s, _ := why.Load().(string)
		return s
	}
	return stopWatching, reason
}

// interruptReason is the run's cause for an interrupt by sig: a person's
// Ctrl-C, or a signal from elsewhere (systemd or a CI runner stopping the
// job, a terminal or SSH session that went away), which the recap must
// not pass off as the operator's.
func interruptReason(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "interrupted by SIGTERM"
	case syscall.SIGHUP:
		return "interrupted by SIGHUP (the terminal or its SSH session went away)"
	case syscall.SIGQUIT:
		return "interrupted by the operator (SIGQUIT)"
	}
	return "interrupted by the operator"
}

// survivePipes keeps fanout alive when its stdout or stderr is a pipe
// whose reader has gone (`fanout apply p.hcl | head -2`). Go's runtime
// kills a program writing to such a pipe on fd 1 or 2 with SIGPIPE unless
// the program asks for the signal; asked for, the write fails with EPIPE
// instead, which outputWriter absorbs, and the run goes on to its end,
// rollback and journal included. The signal is not ignored (SIG_IGN)
// because an ignored signal stays ignored in the processes fanout starts.
func survivePipes() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// printf writes to w, one of the command's streams, and has no error to
// return: an outputWriter never fails (it records a failed write, and
// `fanout apply` says at its end that output was lost: noteLostOutput),
// and a test's buffer cannot.
func printf(w io.Writer, format string, a ...any) {
	_, _ = fmt.Fprintf(w, format, a...)
}

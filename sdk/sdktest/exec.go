package sdktest

import (
	"context"
	"testing"
	"time"

	"github.com/fanout/fanout/sdk"
)

// hangHint says what usually keeps an Exec from returning, for the error
// of a test that waited for one in vain.
const hangHint = "the usual causes: the command's process group was not killed " +
	"(Exec must stop everything the command started), or a child process still holds its stdout or stderr " +
	"(Exec must stop reading output a bounded grace after the command exits, as fanout's local transport does after 1s)"

// Result is how an Exec returned.
type Result struct {
	// Resp and Err are what Exec returned.
	Resp *sdk.ExecResponse
	Err  error
	// Stdout and Stderr hold what the command wrote.
	Stdout, Stderr *Output
}

// Running is an Exec that StartExec runs in a goroutine of its own.
type Running struct {
	// Stdout and Stderr fill as the command writes, while it runs.
	Stdout, Stderr *Output

	done   chan struct{}
	result Result // set before done is closed
}

// StartExec calls tr.Exec(ctx, req) in a goroutine, with Stdout and
// Stderr collecting the output, and returns at once. The goroutine ends
// when Exec returns: cancel ctx, or Close the transport, to make sure it
// does before the test ends.
func StartExec(ctx context.Context, tr sdk.Transport, req *sdk.ExecRequest) *Running {
	r := &Running{Stdout: &Output{}, Stderr: &Output{}, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		resp, err := tr.Exec(ctx, req, sdk.ExecOutput{Stdout: r.Stdout, Stderr: r.Stderr})
		r.result = Result{Resp: resp, Err: err, Stdout: r.Stdout, Stderr: r.Stderr}
	}()
	return r
}

// Done returns a channel closed once Exec has returned.
func (r *Running) Done() <-chan struct{} { return r.done }

// Wait returns how Exec returned, waiting at most d. If it has not
// returned by then, Wait fails t there, saying what usually causes a hang.
func (r *Running) Wait(t testing.TB, d time.Duration) Result {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.done:
		return r.result
	case <-timer.C:
		t.Fatalf("Exec did not return within %s; %s. Output so far: stdout %q, stderr %q",
			d, hangHint, r.Stdout.String(), r.Stderr.String())
		return Result{}
	}
}

// Seen waits at most d until the command's stdout holds s, and fails t
// there if it does not, showing what it holds, or, when Exec returned
// first, what Exec returned: a transport whose Exec fails at once is told
// its error, not that its output did not stream.
func (r *Running) Seen(t testing.TB, s string, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.Stdout.Seen(s):
	case <-r.done:
		select {
		case <-r.Stdout.Seen(s):
			return
		default:
		}
		t.Fatalf("Exec returned before the command wrote %q: response %+v, error %v; stdout %q, stderr %q",
			s, r.result.Resp, r.result.Err, r.Stdout.String(), r.Stderr.String())
	case <-timer.C:
		t.Fatalf("%q was not written within %s (is output streamed as it is produced?); got %q", s, d, r.Stdout.String())
	}
}

// WaitSeen waits at most d until o holds s, and fails t there if it does
// not, showing what o holds.
func WaitSeen(t testing.TB, o *Output, s string, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-o.Seen(s):
	case <-timer.C:
		t.Fatalf("%q was not written within %s (is output streamed as it is produced?); got %q", s, d, o.String())
	}
}

// pollInterval is how often Eventually checks its condition.
const pollInterval = 20 * time.Millisecond

// Eventually checks cond every 20ms until it holds, for at most d; if it
// never does, it fails t there with "timed out after d waiting for what",
// rather than let the test fail later with a confusing difference.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(pollInterval)
	}
}

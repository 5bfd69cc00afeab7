package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fanout/fanout/sdk"
)

// fakeTransport is an in-process sdk.Transport for scheduler unit tests.
// Commands are a tiny language: "sleep 100ms", "fail 3", "echo TEXT",
// "write TEXT" (no newline), "ok", "on HOST CMD" (CMD on HOST, "ok"
// elsewhere), and "flaky N" (on each host, fails N times, then "ok"). It records when each command started and ended, per task,
// host and phase, and when each Connect started and ended, numbering
// every record in the order it happened: the tests assert order and
// overlap from these numbers, never from how far apart two times are.
// Durations ("sleep", connectDelay) are meant for the clock of a
// testing/synctest bubble, where they decide the schedule exactly.
type fakeTransport struct {
	mu           sync.Mutex
	seq          int // guarded by mu: the number of the last record
	events       []fakeEvent
	connects     []fakeEvent // kind "start" or "end", host and at only
	cancels      map[string]context.CancelCauseFunc
	badHost      map[string]string        // host -> connect error
	connect      map[string]int           // host -> Connect calls
	connectDelay map[string]time.Duration // host ("" for any other) -> how long Connect takes
	envs         []map[string]string
	flaky        map[string]int // "host command" -> failures so far of a flaky command
}

type fakeEvent struct {
	seq   int    // order of the record among all exec and connect records
	kind  string // "start" or "end"
	task  string
	host  string
	phase string
	cmd   string
	at    time.Time // on the bubble's clock
}

var errSignalled = fmt.Errorf("signalled")

func newFake() *fakeTransport {
	return &fakeTransport{cancels: map[string]context.CancelCauseFunc{}, badHost: map[string]string{}, connect: map[string]int{}, connectDelay: map[string]time.Duration{}}
}

func (f *fakeTransport) launcher() Launcher {
	return launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
		if name != "fake" {
			return nil, nil, fmt.Errorf("no transport %q", name)
		}
		return f, func() {}, nil
	})
}

func (f *fakeTransport) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{Name: "fake", Capabilities: sdk.Capabilities{Signal: true}}, nil
}

func (f *fakeTransport) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}

func (f *fakeTransport) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	host := req.Host.Name
	f.mu.Lock()
	f.connect[host]++
	f.seq++
	f.connects = append(f.connects, fakeEvent{seq: f.seq, kind: "start", host: host, at: time.Now()})
	delay, ok := f.connectDelay[host]
	if !ok {
		delay = f.connectDelay[""]
	}
	msg, bad := f.badHost[host]
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.seq++
		f.connects = append(f.connects, fakeEvent{seq: f.seq, kind: "end", host: host, at: time.Now()})
		f.mu.Unlock()
	}()
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if bad {
		return nil, fmt.Errorf("%s", msg)
	}
	return &sdk.ConnectResponse{}, nil
}

func (f *fakeTransport) record(kind string, req *sdk.ExecRequest) {
	f.mu.Lock()
	f.seq++
	f.events = append(f.events, fakeEvent{seq: f.seq, kind: kind, task: req.Env["FANOUT_TASK"], host: req.Host, phase: req.Env["FANOUT_PHASE"], cmd: req.Command, at: time.Now()})
	if kind == "start" {
		f.envs = append(f.envs, req.Env)
	}
	f.mu.Unlock()
}

func (f *fakeTransport) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	f.mu.Lock()
	f.cancels[req.ID] = cancel
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.cancels, req.ID)
		f.mu.Unlock()
	}()
	f.record("start", req)
	defer f.record("end", req)

	verb, arg, _ := strings.Cut(req.Command, " ")
	if verb == "on" {
		host, cmd, _ := strings.Cut(arg, " ")
		verb, arg = "ok", ""
		if host == req.Host {
			verb, arg, _ = strings.Cut(cmd, " ")
		}
	}
	switch verb {
	case "ok":
		return &sdk.ExecResponse{}, nil
	case "echo":
		// A failed output write is Exec's error, as the contract asks.
		if _, err := fmt.Fprintln(out.Stdout, arg); err != nil {
			return nil, err
		}
		return &sdk.ExecResponse{}, nil
	case "write":
		if _, err := fmt.Fprint(out.Stdout, arg); err != nil {
			return nil, err
		}
		return &sdk.ExecResponse{}, nil
	case "flaky":
		n, _ := strconv.Atoi(arg)
		f.mu.Lock()
		if f.flaky == nil {
			f.flaky = map[string]int{}
		}
		k := req.Host + " " + req.Command
		failing := f.flaky[k] < n
		if failing {
			f.flaky[k]++
		}
		f.mu.Unlock()
		if failing {
			if _, err := fmt.Fprintln(out.Stderr, "not yet"); err != nil {
				return nil, err
			}
			return &sdk.ExecResponse{ExitCode: 1}, nil
		}
		return &sdk.ExecResponse{}, nil
	case "die":
		// A failure that says why on stderr, as a real command does.
		if _, err := fmt.Fprintln(out.Stderr, arg); err != nil {
			return nil, err
		}
		return &sdk.ExecResponse{ExitCode: 2}, nil
	case "fail":
		code, _ := strconv.Atoi(arg)
		if _, err := fmt.Fprintf(out.Stderr, "failing with %d\n", code); err != nil {
			return nil, err
		}
		return &sdk.ExecResponse{ExitCode: code}, nil
	case "wedge":
		// A plugin that ignores the command's timeout: only the end of
		// its ctx, fanout's bound past it, ends the call.
		<-ctx.Done()
		return nil, ctx.Err()
	case "sleep":
		d, err := time.ParseDuration(arg)
		if err != nil {
			return nil, err
		}
		var timeout <-chan time.Time
		if req.Timeout > 0 {
			timer := time.NewTimer(req.Timeout)
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case <-time.After(d):
			return &sdk.ExecResponse{}, nil
		case <-timeout:
			return &sdk.ExecResponse{ExitCode: -1, Signal: "TERM", TimedOut: true}, nil
		case <-ctx.Done():
			if context.Cause(ctx) == errSignalled {
				return &sdk.ExecResponse{ExitCode: -1, Signal: "INT"}, nil
			}
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("fake: unknown command %q", req.Command)
}

func (f *fakeTransport) Signal(ctx context.Context, req *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.cancels[req.ExecID]; ok {
		c(errSignalled)
	}
	return &sdk.SignalResponse{}, nil
}

func (f *fakeTransport) Close(ctx context.Context, req *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	return &sdk.CloseResponse{}, nil
}

// lastSeq is the number of the last record so far: a record made after
// this call has a larger one.
func (f *fakeTransport) lastSeq() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

// A span is when the commands of one "task/host" pair started and ended,
// as record numbers.
type span struct {
	key        string
	start, end int
}

// spans returns the phase's spans, in the order they ended.
func (f *fakeTransport) spans(phase string) []span {
	f.mu.Lock()
	defer f.mu.Unlock()
	open := map[string]int{}
	var out []span
	for _, e := range f.events {
		if e.phase != phase {
			continue
		}
		k := e.task + "/" + e.host
		if e.kind == "start" {
			if _, ok := open[k]; !ok {
				open[k] = e.seq
			}
			continue
		}
		// Spans close at the last command's end: keep updating.
		found := false
		for i := range out {
			if out[i].key == k {
				out[i].end = e.seq
				found = true
			}
		}
		if !found {
			out = append(out, span{key: k, start: open[k], end: e.seq})
		}
	}
	return out
}

// maxOverlap is the largest number of spans running at once: started and
// not yet ended when one of them started.
func maxOverlap(spans []span) int {
	best := 0
	for _, s := range spans {
		n := 0
		for _, o := range spans {
			if o.start <= s.start && o.end > s.start {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

// order lists "task/host" (or task when byTask) of the phase's start events.
func (f *fakeTransport) startOrder(phase string, byTask bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	seen := map[string]bool{}
	for _, e := range f.events {
		if e.kind != "start" || e.phase != phase {
			continue
		}
		k := e.task + "/" + e.host
		if byTask {
			k = e.task
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

package core

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
)

// Connect-ahead: without preflight, the hosts of a task connect while the
// hosts before them run. The tests run in a testing/synctest bubble, where
// the fake's connect delays and sleeps decide the schedule exactly; the
// assertions rest on the order of recorded events, never on how far apart
// two of them were.

// aheadPlan is a task on h1..hn under max_hosts 2, in a plan without
// preflight.
func aheadPlan(n int, mode config.OnFailure, run string, rollback ...string) (*Plan, *TaskNode) {
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("h%d", i))
	}
	tk := testTask("deploy", testHosts(names...), run, rollback...)
	tk.MaxHosts = 2
	p := testPlan(mode, tk)
	p.Preflight = false
	return p, tk
}

// connectSeqs returns when each host's Connect started and ended, as
// record numbers comparable with those of the commands.
func (f *fakeTransport) connectSeqs() (starts, ends map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	starts, ends = map[string]int{}, map[string]int{}
	for _, e := range f.connects {
		if e.kind == "start" {
			starts[e.host] = e.seq
		} else {
			ends[e.host] = e.seq
		}
	}
	return starts, ends
}

// peakConnects returns the most Connects that were in flight at once.
func (f *fakeTransport) peakConnects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, peak := 0, 0
	for _, e := range f.connects {
		if e.kind == "start" {
			n++
			peak = max(peak, n)
		} else {
			n--
		}
	}
	return peak
}

// hostConnected returns the HostConnected events by host.
func hostConnected(events []Event) map[string][]HostConnected {
	out := map[string][]HostConnected{}
	for _, e := range events {
		if hc, ok := e.(HostConnected); ok {
			out[hc.Host] = append(out[hc.Host], hc)
		}
	}
	return out
}

func TestConnectAheadOverlapsRunningWork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.connectDelay[""] = 50 * time.Millisecond
		p, tk := aheadPlan(6, config.OnFailureRollback, "sleep 300ms")
		res, events := runFake(t, f, p, nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		if diff := cmp.Diff(map[string]int{"h1": 1, "h2": 1, "h3": 1, "h4": 1, "h5": 1, "h6": 1}, f.connect); diff != "" {
			t.Errorf("Connect calls (-want +got):\n%s", diff)
		}
		for host, hcs := range hostConnected(events) {
			if len(hcs) != 1 || hcs[0].Preflight || hcs[0].Err != "" {
				t.Errorf("%s: HostConnected events %+v, want one, not preflight, no error", host, hcs)
			}
		}

		starts, connEnds := f.connectSeqs()
		ends := map[string]int{}
		for _, s := range f.spans("run") {
			ends[strings.TrimPrefix(s.key, "deploy/")] = s.end
		}
		// The second wave's handshakes overlap the first wave's work.
		for _, ahead := range []string{"h3", "h4"} {
			for _, running := range []string{"h1", "h2"} {
				if starts[ahead] > ends[running] {
					t.Errorf("%s connected after %s finished: no overlap", ahead, running)
				}
			}
		}

		// At most one window ahead. Causally: host j connects once host j-w has
		// started, which needed j-2w+1 units to finish and free their slots.
		w := tk.MaxHosts
		for j, h := range tk.Hosts {
			finished := 0
			for _, end := range ends {
				if end < starts[h.Name] {
					finished++
				}
			}
			if need := j - 2*w + 1; finished < need {
				t.Errorf("%s connected when %d units had finished, want at least %d: more than max_hosts ahead", h.Name, finished, need)
			}
		}
		// Each host connects ahead behind its predecessor's handshake, never
		// beside it, so the first wave has the CPU to itself.
		for j := w; j < len(tk.Hosts); j++ {
			h, prev := tk.Hosts[j].Name, tk.Hosts[j-w].Name
			if starts[h] < connEnds[prev] {
				t.Errorf("%s connect started before %s's had ended", h, prev)
			}
		}
		// In the event stream: hosts connected but not started never exceed
		// the window (by more than one unit still on its way to UnitStarted).
		pending := map[string]bool{}
		unitStarted := map[string]bool{}
		for _, e := range events {
			switch e := e.(type) {
			case UnitStarted:
				unitStarted[e.Host] = true
				delete(pending, e.Host)
			case HostConnected:
				if !unitStarted[e.Host] {
					pending[e.Host] = true
				}
				if len(pending) > w+1 {
					t.Errorf("hosts %v connected before their turn, more than max_hosts %d", pending, w)
				}
			}
		}
	})
}

func TestConnectAheadStopsWithTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.connectDelay[""] = 50 * time.Millisecond
		// h3's connect outlives the units of the first wave: the run must
		// still wait for it, the rollback need not.
		f.connectDelay["h3"] = 800 * time.Millisecond
		p, _ := aheadPlan(6, config.OnFailureRollback, "on h1 sleep 250ms;on h1 fail 3;on h2 sleep 500ms", "ok")
		res, events := runFake(t, f, p, nil)
		if res.Status != RunFailed || res.FirstFailure == nil || res.FirstFailure.Host != "h1" {
			t.Fatalf("status %v, first failure %+v: want failed on h1", res.Status, res.FirstFailure)
		}
		var stopAt time.Time
		for _, e := range events {
			if s, ok := e.(Stopping); ok && stopAt.IsZero() {
				stopAt = s.Time
			}
		}
		if stopAt.IsZero() {
			t.Fatal("no Stopping event")
		}
		// No connect started once the run was stopping: in record order,
		// after the command whose failure stopped it ended; on the bubble's
		// clock, at or after the Stopping event.
		failed := 0
		for _, e := range f.events {
			if e.kind == "end" && e.host == "h1" && e.cmd == "on h1 fail 3" {
				failed = e.seq
			}
		}
		if failed == 0 {
			t.Fatal("h1's failing command did not run")
		}
		for _, e := range f.connects {
			if e.kind == "start" && e.seq > failed {
				t.Errorf("%s connect started after the failure that stopped the run", e.host)
			}
			if e.kind == "start" && !e.at.Before(stopAt) {
				t.Errorf("%s connect started %v after the run was stopping", e.host, e.at.Sub(stopAt))
			}
		}
		starts, ends := f.connectSeqs()
		for host := range starts {
			// Every connect had ended when Apply returned: none was left
			// running unowned.
			if _, ok := ends[host]; !ok {
				t.Errorf("%s connect had not ended when Apply returned", host)
			}
		}
		// Only the window after the two started hosts was connected ahead.
		var connected []string
		for host := range starts {
			connected = append(connected, host)
		}
		slices.Sort(connected)
		if diff := cmp.Diff([]string{"h1", "h2", "h3", "h4"}, connected); diff != "" {
			t.Errorf("connected hosts (-want +got):\n%s", diff)
		}
		hcs := hostConnected(events)
		if len(hcs["h3"]) != 1 || hcs["h3"][0].Preflight {
			t.Errorf("h3: HostConnected events %+v, want one, not preflight", hcs["h3"])
		}
		got := f.startOrder("rollback", false)
		slices.Sort(got)
		if diff := cmp.Diff([]string{"deploy/h1", "deploy/h2"}, got); diff != "" {
			t.Errorf("rolled back on (-want +got):\n%s", diff)
		}
		// The rollback does not wait behind the handshake of a host that
		// will run nothing (here 800 ms; a silent host: the connect timeout).
		for _, sp := range f.spans("rollback") {
			if sp.start > ends["h3"] {
				t.Errorf("rollback %s started after h3's connect ahead ended; want it not to wait", sp.key)
			}
		}
		for _, u := range res.Units {
			if (u.Host == "h3" || u.Host == "h4") && (u.Run.Status != StatusSkipped || u.Rollback != nil) {
				t.Errorf("%s: run %v, rollback %+v; connected ahead only, want skipped", u.Host, u.Run.Status, u.Rollback)
			}
		}
	})
}

func TestConnectAheadFailureReportedAtItsTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.connectDelay[""] = 50 * time.Millisecond
		f.badHost["h3"] = "connection refused"
		p, _ := aheadPlan(6, config.OnFailureRollback, "sleep 300ms", "ok")
		res, events := runFake(t, f, p, nil)
		if res.FirstFailure == nil || res.FirstFailure.Host != "h3" || res.FirstFailure.Run.Status != StatusUnreachable {
			t.Fatalf("first failure = %+v, want h3 unreachable", res.FirstFailure)
		}
		if !strings.Contains(res.Cause, "connection refused") {
			t.Errorf("cause %q does not say why", res.Cause)
		}
		if f.connect["h3"] != 1 {
			t.Errorf("h3: %d Connect calls, want 1", f.connect["h3"])
		}
		hcs := hostConnected(events)["h3"]
		if len(hcs) != 1 || hcs[0].Preflight || hcs[0].Err != "connection refused" {
			t.Errorf("h3: HostConnected events %+v, want one with the error, not preflight", hcs)
		}
		// The failed connect ahead does not stop the hosts before it: the run
		// stops when h3's turn comes.
		for _, u := range res.Units {
			switch u.Host {
			case "h1", "h2":
				if u.Run.Status != StatusOK || u.Rollback == nil || u.Rollback.Status != StatusOK {
					t.Errorf("%s: run %v, rollback %+v; want ok, rolled back", u.Host, u.Run.Status, u.Rollback)
				}
			case "h3":
				if u.Run.Command != -1 || u.Rollback != nil {
					t.Errorf("h3: command %d, rollback %+v; never reached, nothing to undo", u.Run.Command, u.Rollback)
				}
			}
		}
	})
}

// TestConnectAheadFewAtOnce: the connections made ahead of their host's
// turn are made a few at a time (as many as the machine has CPUs, at least
// two), so that a burst of handshakes never lands on the commands of the
// hosts whose turn it is.
func TestConnectAheadFewAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		limit := max(2, runtime.NumCPU())
		f := newFake()
		f.connectDelay[""] = 60 * time.Millisecond
		p, tk := aheadPlan(3*(limit+3), config.OnFailureRollback, "sleep 500ms")
		tk.MaxHosts = limit + 3
		res, events := runFake(t, f, p, nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		// A host's HostConnected event before its UnitStarted means its
		// connect had ended before its turn came: the run sends both down
		// one channel, HostConnected once Connect has returned, UnitStarted
		// before the unit connects.
		connectedFirst := map[string]bool{}
		turnCame := map[string]bool{}
		for _, e := range events {
			switch e := e.(type) {
			case UnitStarted:
				turnCame[e.Host] = true
			case HostConnected:
				if !turnCame[e.Host] && e.Err == "" {
					connectedFirst[e.Host] = true
				}
			}
		}
		starts, ends := f.connectSeqs()
		type edge struct {
			seq  int
			open int
		}
		var edges []edge
		ahead := 0
		// Hosts after the first wave that were connected before their turn
		// came; a first-wave host (or a late one) may be connected when its
		// turn comes, which is not ahead and not bounded.
		for _, h := range tk.Hosts[tk.MaxHosts:] {
			if !connectedFirst[h.Name] {
				continue
			}
			ahead++
			edges = append(edges, edge{starts[h.Name], 1}, edge{ends[h.Name], -1})
		}
		if ahead < tk.MaxHosts {
			t.Fatalf("%d hosts connected ahead of their turn, want at least %d", ahead, tk.MaxHosts)
		}
		slices.SortFunc(edges, func(a, b edge) int { return a.seq - b.seq })
		open, most := 0, 0
		for _, e := range edges {
			open += e.open
			most = max(most, open)
		}
		if most > limit {
			t.Errorf("%d connections ahead at once, want at most %d", most, limit)
		}
		if most < 2 {
			t.Errorf("connections ahead never overlapped (at most %d at once); want up to %d", most, limit)
		}
	})
}

// TestConnectAheadBehindTheWholeWave: a host connects ahead only once every
// host started with the one it follows has finished its handshake, so that
// the wave's slowest handshake never shares the CPU with the next wave's.
func TestConnectAheadBehindTheWholeWave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.connectDelay[""] = 10 * time.Millisecond
		f.connectDelay["h2"] = 200 * time.Millisecond
		p, _ := aheadPlan(4, config.OnFailureRollback, "sleep 500ms")
		res, _ := runFake(t, f, p, nil)
		if !res.OK() {
			t.Fatalf("run failed: %s", res.Cause)
		}
		starts, ends := f.connectSeqs()
		runEnds := map[string]int{}
		for _, s := range f.spans("run") {
			runEnds[strings.TrimPrefix(s.key, "deploy/")] = s.end
		}
		for _, h := range []string{"h3", "h4"} {
			if starts[h] == 0 || starts[h] > runEnds["h1"] || starts[h] > runEnds["h2"] {
				t.Errorf("%s did not connect ahead, while h1 and h2 ran", h)
			}
			for _, prev := range []string{"h1", "h2"} {
				if starts[h] < ends[prev] {
					t.Errorf("%s connected ahead before %s's handshake had ended", h, prev)
				}
			}
		}
	})
}

// TestConnectAheadNotAfterAStop: a connect ahead still waiting for the
// handshakes of the wave before it when the run stops connects nothing: the
// hosts after a failure are not contacted.
func TestConnectAheadNotAfterAStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.connectDelay[""] = 10 * time.Millisecond
		// h1 fails while h2 is still connecting: the connects ahead of h3
		// (waiting for the whole wave's handshakes) and of h4 (behind h2's)
		// are still waiting.
		f.connectDelay["h2"] = 400 * time.Millisecond
		p, _ := aheadPlan(6, config.OnFailureRollback, "on h1 sleep 100ms;on h1 fail 3", "ok")
		res, _ := runFake(t, f, p, nil)
		if res.Status != RunFailed || res.FirstFailure == nil || res.FirstFailure.Host != "h1" {
			t.Fatalf("status %v, first failure %+v: want failed on h1", res.Status, res.FirstFailure)
		}
		if diff := cmp.Diff(map[string]int{"h1": 1, "h2": 1}, f.connect); diff != "" {
			t.Errorf("Connect calls (-want +got):\n%s", diff)
		}
	})
}

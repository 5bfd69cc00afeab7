package views

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fanout/fanout/core"
)

func TestFoldHosts(t *testing.T) {
	tests := []struct {
		hosts []string
		want  string
	}{
		{[]string{"web01"}, "web01 (1)"},
		{[]string{"web01", "web02", "web03"}, "web[01-03] (3)"},
		{[]string{"web03", "web01", "web02", "web07", "web09", "web10"}, "web[01-03,07,09-10] (6)"},
		{[]string{"web1", "web2", "web10", "db1", "localhost"}, "web[1-2,10],db1,localhost (5)"},
		{[]string{"db2", "web01", "db1"}, "db[1-2],web01 (3)"},
		{[]string{"10.0.0.1", "10.0.0.2"}, "10.0.0.[1-2] (2)"},
		{[]string{"7", "8"}, "7,8 (2)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FoldHosts(tt.hosts); got != tt.want {
				t.Errorf("FoldHosts(%q) = %q, want %q", tt.hosts, got, tt.want)
			}
		})
	}
}

// TestApplyHumanGrouped runs a task on 20 web hosts, 18 printing the same
// and two diverging, then a rollback, through -group.
func TestApplyHumanGrouped(t *testing.T) {
	var hosts []*core.Host
	for i := 1; i <= 20; i++ {
		hosts = append(hosts, &core.Host{Name: fmt.Sprintf("web%02d", i)})
	}
	task := &core.TaskNode{Name: "deploy", Hosts: hosts, MaxHosts: 20}
	p := &core.Plan{Hosts: hosts, Roots: []core.Node{task, &core.TaskNode{Name: "never", Hosts: hosts[:2], MaxHosts: 2}}}
	run, rb := core.PhaseRun, core.PhaseRollback
	events := []core.Event{core.RunStarted{RunID: "r1", Time: t0, Units: 22, Hosts: 20}}
	for _, h := range hosts {
		events = append(events, started("deploy", h.Name, run, 0))
	}
	var names []string
	for i, h := range hosts {
		names = append(names, h.Name)
		switch i {
		case 4:
			events = append(events, out("deploy", h.Name, run, core.Stdout, "pulling release 42\n"), out("deploy", h.Name, run, core.Stderr, "disk full\n"),
				finished("deploy", h.Name, run, exit(1, 0, 0, 300)))
		case 11:
			events = append(events, out("deploy", h.Name, run, core.Stdout, "pulling release 42\nalready current\n"), finished("deploy", h.Name, run, ok(0, 90)))
		default:
			events = append(events, out("deploy", h.Name, run, core.Stdout, "pulling release 42\nrestarted\n"), finished("deploy", h.Name, run, ok(0, 100+i)))
		}
	}
	events = append(events, core.Stopping{Reason: `task "deploy" failed on host "web05": exit 1`, Rollback: true, Time: at(400)},
		core.RollbackStarted{Task: "deploy", Hosts: names, Time: at(500)})
	for _, h := range hosts {
		events = append(events, started("deploy", h.Name, rb, 500), out("deploy", h.Name, rb, core.Stdout, "back to release 41\n"), finished("deploy", h.Name, rb, ok(500, 20)))
	}
	res := &core.Result{RunID: "r1", Status: core.RunFailed, Cause: `task "deploy" failed on host "web05": exit 1`, Started: t0, Duration: 600 * time.Millisecond, RolledBack: []string{"deploy"}}
	events = append(events, core.RollbackFinished{Task: "deploy", Time: at(520)}, core.RunFinished{Result: res})

	for _, quiet := range []bool{false, true} {
		var b bytes.Buffer
		v := NewApplyHuman(&b, p, ApplyOptions{Group: true, Quiet: quiet})
		for _, e := range events {
			v.Event(e)
		}
		name := "apply/grouped"
		if quiet {
			name += "_quiet"
		}
		golden(t, name, b.String())
	}
}

// TestGroupHoldsBoundedOutput: -group holds the first bytes of each host's
// output, up to its limit, and hashes the rest: hosts whose whole output
// is alike still fold into one block, which says how much it does not
// show; hosts whose output differs only past the limit do not fold.
func TestGroupHoldsBoundedOutput(t *testing.T) {
	p, hosts := oneTaskPlan("spew", "h", 3)
	g := newGrouper(p)
	if g.limit != heldMax {
		t.Errorf("limit for 3 pairs = %d, want %d", g.limit, heldMax)
	}
	g.limit = 1000
	line := bytes.Repeat([]byte("x"), 99)
	for i, h := range hosts {
		g.started(started("spew", h.Name, core.PhaseRun, 0))
		for range 500 { // 50,000 bytes, 50 times the limit
			g.output(core.Output{Task: "spew", Host: h.Name, Phase: core.PhaseRun, Stream: core.Stdout, Data: append(line, '\n')})
		}
		last := "same\n"
		if i == 2 {
			last = "different\n"
		}
		g.output(core.Output{Task: "spew", Host: h.Name, Phase: core.PhaseRun, Stream: core.Stderr, Data: []byte(last)})
		if u := g.units[unitKey{"spew", h.Name, core.PhaseRun}]; len(u.held[0])+len(u.held[1]) > g.limit {
			t.Errorf("%s: %d bytes held, limit %d", h.Name, len(u.held[0])+len(u.held[1]), g.limit)
		}
		g.finishedUnit(finished("spew", h.Name, core.PhaseRun, core.PhaseResult{Status: core.StatusOK}))
	}
	blocks := g.ready(false)
	if len(blocks) != 2 || len(blocks[0].hosts) != 2 || len(blocks[1].hosts) != 1 {
		t.Fatalf("blocks: %+v, want h1 and h2 together, h3 alone", blocks)
	}
	var b bytes.Buffer
	v := NewApplyHuman(&b, p, ApplyOptions{Group: true, Now: fixedClock(0)})
	v.writeGroups(&b, blocks[:1])
	if n := bytes.Count(b.Bytes(), line); n != 9 {
		t.Errorf("%d lines shown, want the 9 whole ones within 1000 bytes", n)
	}
	// stderr's line fits beside the 909 bytes of stdout held, and shows.
	for _, want := range []string{"! same\n", "[49591 more bytes of output, alike on these hosts, not held: -group holds the first 1000 of each host's]"} {
		if !bytes.Contains(b.Bytes(), []byte(want)) {
			t.Errorf("the block lacks %q:\n%s", want, b.String())
		}
	}
}

// TestGroupFoldsStreamsApart: hosts that printed the same stdout and the
// same stderr fold into one block however the two streams interleaved,
// which over SSH depends on which channel's packet came first; the block
// shows stdout's lines, then stderr's.
func TestGroupFoldsStreamsApart(t *testing.T) {
	p, hosts := oneTaskPlan("both", "h", 3)
	g := newGrouper(p)
	out := func(h string, s core.Stream, text string) {
		g.output(core.Output{Task: "both", Host: h, Phase: core.PhaseRun, Stream: s, Data: []byte(text)})
	}
	for i, h := range hosts {
		g.started(started("both", h.Name, core.PhaseRun, 0))
		switch i {
		case 0:
			out(h.Name, core.Stderr, "err\n")
			out(h.Name, core.Stdout, "out 1\nout 2\n")
		case 1:
			out(h.Name, core.Stdout, "out 1\n")
			out(h.Name, core.Stderr, "err\n")
			out(h.Name, core.Stdout, "out 2\n")
		case 2:
			out(h.Name, core.Stdout, "out 1\nout 2\n")
			out(h.Name, core.Stderr, "err\n")
		}
		g.finishedUnit(finished("both", h.Name, core.PhaseRun, core.PhaseResult{Status: core.StatusOK}))
	}
	blocks := g.ready(false)
	if len(blocks) != 1 || len(blocks[0].hosts) != 3 {
		t.Fatalf("blocks: %+v, want one of the three hosts", blocks)
	}
	var b bytes.Buffer
	v := NewApplyHuman(&b, p, ApplyOptions{Group: true, Now: fixedClock(0)})
	v.writeGroups(&b, blocks)
	if want := "    │ out 1\n    │ out 2\n    ! err\n"; !strings.Contains(b.String(), want) {
		t.Errorf("the block is not stdout's lines, then stderr's:\n%s", b.String())
	}
	// A different stderr still splits.
	g = newGrouper(p)
	for i, h := range hosts {
		g.started(started("both", h.Name, core.PhaseRun, 0))
		out(h.Name, core.Stdout, "out\n")
		if i == 1 {
			out(h.Name, core.Stderr, "warning\n")
		}
		g.finishedUnit(finished("both", h.Name, core.PhaseRun, core.PhaseResult{Status: core.StatusOK}))
	}
	if blocks := g.ready(false); len(blocks) != 2 {
		t.Errorf("blocks: %+v, want h1 and h3, then h2", blocks)
	}
}

// TestAppendHeldBounded: held output grows as append's would, but its
// capacity never passes the limit.
func TestAppendHeldBounded(t *testing.T) {
	const limit = 100000
	var held []byte
	line := bytes.Repeat([]byte("x"), 99)
	for len(held)+len(line) <= limit {
		held = appendHeld(held, line, limit)
	}
	if cap(held) > limit || len(held) != limit/len(line)*len(line) {
		t.Errorf("len %d, cap %d; want the lines within %d and no more room", len(held), cap(held), limit)
	}
}

package views

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"slices"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/internal/nodeset"
)

// grouper holds output for -group: each task's lines per host until every
// host of that task (in that phase) has finished, then hands the task over
// as blocks of hosts whose output and outcome are identical, as clush -b
// and dshbak -c fold them. It holds at most limit bytes of a pair's
// output, the first ones, packed in one buffer (a line a struct and a
// string cost 22 times the output, 3.8 GB for 170 MB): past them, a
// pair's output is only hashed, so hosts still fold on all of it, and the
// block says how much it does not show.
type grouper struct {
	limit int
	units map[unitKey]*heldUnit
	// expected is how many hosts a (task, phase) will finish on.
	expected map[phaseKey]int
	finished map[phaseKey]int
	// order is the (task, phase)s in the order they first started, so that
	// what is flushed at the end comes out in run order.
	order []phaseKey
	// hostOrder is each host's position in the plan, to list hosts in it.
	hostOrder map[string]int
	// line is scratch for one encoded line (output is one at a time).
	line []byte
}

type phaseKey struct {
	task  string
	phase core.Phase
}

// heldUnit is one pair's output so far and, once finished, its result.
// Each stream is held and hashed apart, as clush -b gathers them: how a
// host's stdout and stderr interleave depends on which of its SSH
// channel's packets came first, and must not split hosts that printed
// the same.
type heldUnit struct {
	host string
	// held is each stream's first lines (stdout's, then stderr's), each
	// its streamByte, its text and a newline; more counts the bytes past
	// the grouper's limit (for both streams together), which only sum
	// saw. sum hashes every line of a stream as held holds them.
	held   [2][]byte
	more   [2]int
	sum    [2]hash.Hash
	result *core.PhaseResult
	// partial holds the streams whose last Output ended inside a line.
	partial map[core.Stream]bool
}

// block is hosts whose task printed the same lines and ended the same way.
type block struct {
	task   string
	phase  core.Phase
	hosts  []string
	held   [2][]byte // stdout's lines, stderr's
	more   int
	limit  int // the grouper's, which held is within
	result core.PhaseResult
}

// Bounds of what a grouper holds of a pair's output: heldBudget shared
// by the plan's pairs, each between heldMin and heldMax.
const (
	heldBudget = 64 << 20
	heldMin    = 16 << 10
	heldMax    = 1 << 20
)

func newGrouper(p *core.Plan) *grouper {
	g := &grouper{units: map[unitKey]*heldUnit{}, expected: map[phaseKey]int{}, finished: map[phaseKey]int{}, hostOrder: map[string]int{}}
	for i, h := range p.Hosts {
		g.hostOrder[h.Name] = i
	}
	pairs := 0
	p.Walk(func(t *core.TaskNode) {
		g.expected[phaseKey{t.Name, core.PhaseRun}] = len(t.Hosts)
		pairs += len(t.Hosts)
	})
	g.limit = min(max(heldBudget/max(pairs, 1), heldMin), heldMax)
	return g
}

func (g *grouper) unit(k unitKey) *heldUnit {
	u := g.units[k]
	if u == nil {
		u = &heldUnit{host: k.host, sum: [2]hash.Hash{sha256.New(), sha256.New()}}
		g.units[k] = u
		pk := phaseKey{k.task, k.phase}
		if !slices.Contains(g.order, pk) {
			g.order = append(g.order, pk)
		}
	}
	return u
}

func (g *grouper) started(e core.UnitStarted) { g.unit(unitKey{e.Task, e.Host, e.Phase}) }

func (g *grouper) rollbackStarted(e core.RollbackStarted) {
	pk := phaseKey{e.Task, core.PhaseRollback}
	g.expected[pk] = len(e.Hosts)
	// Rollbacks of hosts dropped earlier (rollout.go) were shown already.
	g.finished[pk] = 0
}

func (g *grouper) output(e core.Output) {
	u := g.unit(unitKey{e.Task, e.Host, e.Phase})
	si := streamIndex(e.Stream)
	ls := slices.Collect(lines(e.Data))
	for i, l := range ls {
		g.line = append(g.line[:0], streamByte(e.Stream))
		// Pieces of a long line are marked as in the live output.
		if i == 0 && u.partial[e.Stream] {
			g.line = append(g.line, continuedMark...)
		}
		g.line = append(g.line, l...)
		if i == len(ls)-1 && e.Partial {
			g.line = append(g.line, continuesMark...)
		}
		g.line = append(g.line, '\n')
		u.sum[si].Write(g.line)
		if u.more[si] == 0 && len(u.held[0])+len(u.held[1])+len(g.line) <= g.limit {
			u.held[si] = appendHeld(u.held[si], g.line, g.limit)
		} else {
			u.more[si] += len(g.line)
		}
	}
	delete(u.partial, e.Stream)
	if e.Partial {
		if u.partial == nil {
			u.partial = map[core.Stream]bool{}
		}
		u.partial[e.Stream] = true
	}
}

func (g *grouper) finishedUnit(e core.UnitFinished) {
	r := e.Result
	g.unit(unitKey{e.Task, e.Host, e.Phase}).result = &r
	g.finished[phaseKey{e.Task, e.Phase}]++
}

// ready returns the blocks of every (task, phase) whose hosts have all
// finished, or, with all, of everything held; what it returns is dropped.
func (g *grouper) ready(all bool) []block {
	var out []block
	for _, pk := range slices.Clone(g.order) {
		if !all && (g.finished[pk] < g.expected[pk] || g.unfinished(pk)) {
			continue
		}
		out = append(out, g.take(pk)...)
		g.order = slices.DeleteFunc(g.order, func(k phaseKey) bool { return k == pk })
	}
	return out
}

// unfinished reports whether a pair of pk started and has not finished:
// the rollbacks of a dropped host (rollout.go) come with no count ahead.
func (g *grouper) unfinished(pk phaseKey) bool {
	for k, u := range g.units {
		if k.task == pk.task && k.phase == pk.phase && u.result == nil {
			return true
		}
	}
	return false
}

// take folds the held pairs of one (task, phase) into blocks, in the plan
// order of each block's first host.
func (g *grouper) take(pk phaseKey) []block {
	var keys []unitKey
	for k := range g.units {
		if k.task == pk.task && k.phase == pk.phase {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b unitKey) int { return g.hostOrder[a.host] - g.hostOrder[b.host] })
	var blocks []block
	index := map[string]int{}
	for _, k := range keys {
		u := g.units[k]
		delete(g.units, k)
		res := core.PhaseResult{Status: core.StatusInterrupted, ExitCode: -1, Command: -1, Err: "did not finish"}
		if u.result != nil {
			res = *u.result
		}
		sig := signature(u, res)
		if i, ok := index[sig]; ok {
			blocks[i].hosts = append(blocks[i].hosts, u.host)
			continue
		}
		index[sig] = len(blocks)
		blocks = append(blocks, block{task: pk.task, phase: pk.phase, hosts: []string{u.host}, held: u.held, more: u.more[0] + u.more[1], limit: g.limit, result: res})
	}
	return blocks
}

// appendHeld appends line to held, which never holds more than limit:
// its capacity grows as append's would, but never past limit, so that a
// pair's held output costs at most limit, not twice it.
func appendHeld(held, line []byte, limit int) []byte {
	if need := len(held) + len(line); need > cap(held) {
		grown := make([]byte, len(held), min(max(2*cap(held), need, 4<<10), max(limit, need)))
		copy(grown, held)
		held = grown
	}
	return append(held, line...)
}

// streamIndex is s's index in a heldUnit's arrays.
func streamIndex(s core.Stream) int {
	if s == core.Stderr {
		return 1
	}
	return 0
}

// streamByte is how held marks a line's stream.
func streamByte(s core.Stream) byte {
	if s == core.Stderr {
		return '2'
	}
	return '1'
}

// signature identifies what a block shares: the lines, their streams (by
// their hash) and the outcome, its error without what names the host
// (see causeOf: 40 hosts whose connections were refused are one block).
// Durations differ between hosts and do not split blocks.
func signature(u *heldUnit, r core.PhaseResult) string {
	return resultCause(r, u.host) + "\x00" + string(u.sum[0].Sum(nil)) + string(u.sum[1].Sum(nil))
}

// writeGroups renders blocks: a header naming the host set and the
// outcome, then the shared lines, stdout's, then stderr's ("!"). In quiet
// mode only failed blocks are shown. What it renders goes out every
// groupFlush bytes, and each block's held output is let go once rendered:
// 300 hosts' distinct outputs rendered at once, beside what they held,
// took 550 MB for 100 MB of output.
func (v *ApplyHuman) writeGroups(b *bytes.Buffer, blocks []block) {
	for i := range blocks {
		bl := blocks[i]
		blocks[i].held = [2][]byte{}
		if b.Len() >= groupFlush {
			v.flush(b)
			b.Reset()
		}
		ok := bl.result.Status == core.StatusOK
		if v.o.Quiet && ok {
			continue
		}
		task := bl.task
		if bl.phase == core.PhaseRollback {
			task += " (rollback)"
		}
		mark, code := "✓ ", ansiGreen
		if !ok {
			mark, code = "✗ ", ansiRed
		}
		// A block of several hosts says what they share; one host's says
		// its own error, address and all.
		what := bl.result.Describe()
		if len(bl.hosts) > 1 {
			what = resultCause(bl.result, bl.hosts[0])
		}
		fmt.Fprintf(b, "%s │ %s │ %s\n", paint(v.o.Color, ansiBold, FoldHosts(bl.hosts)), task,
			paint(v.o.Color, code, mark+v.o.Redact.String(what)))
		// stdout's lines, then stderr's ("!").
		for _, held := range bl.held {
			for l := range bytes.Lines(held) {
				bar := "│"
				if l[0] == streamByte(core.Stderr) {
					bar = paint(v.o.Color, ansiRed, "!")
				}
				text := string(bytes.TrimSuffix(l[1:], []byte("\n")))
				fmt.Fprintf(b, "    %s %s\n", bar, terminalSafe(v.o.Redact.String(text), v.o.Options))
			}
		}
		if bl.more > 0 {
			fmt.Fprintf(b, "    │ %s\n", paint(v.o.Color, ansiDim, fmt.Sprintf("[%d more bytes of output, alike on these hosts, not held: -group holds the first %d of each host's]", bl.more, bl.limit)))
		}
	}
}

// groupFlush is how much of -group's blocks is rendered before it is
// written out.
const groupFlush = 256 << 10

// FoldHosts writes a set of host names the way clush and pdsh do, with
// its size: web01, web02, web03, db1 -> "web[01-03],db1 (4)". The set is
// written by nodeset.Fold, so -limit reads it back as it is printed.
func FoldHosts(hosts []string) string {
	return fmt.Sprintf("%s (%d)", nodeset.Fold(hosts), len(hosts))
}

package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fanout/fanout/sdk"
)

// runNode runs a task or a group and records it on frame once it has
// finished, if any of it started. path locates n in the plan's tree (member
// indices from the roots), which is how the journal names frames.
func (r *run) runNode(n Node, frame *undoFrame, path []int) {
	switch n := n.(type) {
	case *TaskNode:
		if r.runTask(n) {
			frame.push(undoEntry{task: n}, func() {
				r.record(&JournalRecord{Type: RecordCompleted, Task: n.Name, Path: path})
			})
		}
	case *Group:
		inner := &undoFrame{}
		r.runGroup(n, inner, path)
		if inner.len() > 0 {
			frame.push(undoEntry{frame: inner}, func() {
				r.record(&JournalRecord{Type: RecordCompleted, Path: path})
			})
		}
	}
}

// runGroup runs the members in a sliding window of g.Threads: each member
// takes a slot before its goroutine starts and frees it when done, so the
// next member starts as soon as any running one finishes.
func (r *run) runGroup(g *Group, frame *undoFrame, path []int) {
	sem := newSemaphore(g.Threads)
	var wg sync.WaitGroup
	for i, m := range g.Members {
		if r.isStopping() {
			break
		}
		sem.acquire()
		if r.isStopping() {
			sem.release()
			break
		}
		wg.Go(func() {
			defer sem.release()
			r.runNode(m, frame, append(slices.Clip(path), i))
		})
	}
	wg.Wait()
}

// connectAhead, once t has started on its i-th host, connects the host
// MaxHosts further on. Without preflight each unit would otherwise pay its
// handshake behind the wave before it; this overlaps the handshake with
// that wave's work. Chaining each connect to a started host keeps them one
// window ahead, so a failure leaves at most MaxHosts hosts connected that
// never ran. The unit shares the result through r.connect, so a failed
// connect is reported at its turn as if it had connected itself. The run,
// not the task, waits for these connects (r.aheadWG, before the run
// finishes): a rollback must not wait behind a handshake with a host that
// will not run anything, which can take the whole connect timeout.
func (r *run) connectAhead(t *TaskNode, i int) {
	j := i + t.MaxHosts
	if r.plan.Preflight || r.connectsEarly() || j >= len(t.Hosts) {
		return
	}
	r.aheadWG.Go(func() {
		// Behind the started host's own handshake, not beside it: the
		// first wave would otherwise share the CPU with the second's
		// handshakes. After a stop, the next host's turn will not come, and the
		// started host may not connect either (its start was refused by
		// the journal); after a failure there, its turn may not come.
		if r.isStopping() {
			return
		}
		if _, err := r.connectPending(t.Hosts[i]); err != nil || r.isStopping() {
			return
		}
		// Nor beside the handshakes of hosts that started with it: the
		// first wave's slowest handshake delays everything after it.
		r.awaitStartedConnects(t)
		// And a few at a time: a burst of handshakes as a wave starts
		// delays the commands whose turn it is.
		r.ahead.acquire()
		defer r.ahead.release()
		if r.isStopping() {
			return
		}
		// Connecting ahead: the unit that needs the host gets its error
		// from r.conns when its turn comes.
		_, _ = r.connectPending(t.Hosts[j])
	})
}

// awaitStartedConnects waits for the connections of the last MaxHosts
// hosts t started (earlier ones are long connected) that are being made.
func (r *run) awaitStartedConnects(t *TaskNode) {
	r.mu.Lock()
	started := r.started[t]
	var pending []chan struct{}
	for _, h := range started[max(0, len(started)-t.MaxHosts):] {
		if c, ok := r.conns[h.Name]; ok {
			pending = append(pending, c.done)
		}
	}
	r.mu.Unlock()
	for _, done := range pending {
		select {
		case <-done:
		case <-r.ctx.Done():
			return
		}
	}
}

// runUnit runs one phase of t on h: its commands one after another, the
// first failure ending it; the run phase with its conditions, retries and
// check (attempt.go).
func (r *run) runUnit(ctx context.Context, t *TaskNode, h *Host, phase Phase) PhaseResult {
	start := time.Now()
	var res PhaseResult
	var tr sdk.Transport
	var err error
	if phase == PhaseRollback {
		// A plugin that died during the run cannot roll back what it ran:
		// a new one can.
		if err = r.revive(h.Transport); err != nil {
			err = fmt.Errorf("the plugin crashed and could not be started again: %w", err)
		}
	}
	if err == nil {
		if phase == PhaseRollback {
			tr, err = r.connectForRollback(h)
		} else {
			tr, err = r.connect(h, false)
		}
	}
	// Durable before the first command is sent: after a crash, the
	// journal must show every pair that may have run, and no more: a host
	// fanout died while connecting to ran nothing, and `fanout rollback`
	// leaves it alone. One that could not be connected gets its record
	// too, its end (unreachable, nothing ran) right after.
	// A task's conditions run first (conditionsPassed records their end).
	conditions := phase == PhaseRun && t.hasConditions()
	if !r.record(&JournalRecord{Type: RecordUnitStarted, Task: t.Name, Host: h.Name, Phase: phase, Conditions: conditions}) && phase == PhaseRun {
		return notStarted(start)
	}
	r.emit(UnitStarted{Task: t.Name, Host: h.Name, Phase: phase, Time: start, Unreachable: err != nil})
	switch {
	case err != nil:
		// Command stays -1: nothing ran, which the rollback relies on to
		// leave this host alone.
		res = PhaseResult{Status: StatusUnreachable, ExitCode: -1, Command: -1, Err: hostErrText(err, h.Name)}
		if crash, ok := errors.AsType[*PluginCrashError](err); ok {
			r.noteCrash(h.Transport, fmt.Sprintf("host %q was being connected", h.Name))
			res.Status, res.Err = StatusPluginCrashed, crash.Error()
		}
		if ctx.Err() != nil || errors.Is(err, context.Canceled) && r.isInterrupted() {
			res.Status = StatusInterrupted
		}
	case phase == PhaseRollback:
		res = r.runCommands(ctx, tr, t, h, phase, t.Commands(h.Name, phase))
	default:
		res = r.runPhase(ctx, tr, t, h) // attempt.go
	}
	res.Started = start
	res.Duration = time.Since(start)
	r.record(&JournalRecord{Type: RecordUnitFinished, Task: t.Name, Host: h.Name, Phase: phase, Result: journalResult(res)})
	r.emit(UnitFinished{Task: t.Name, Host: h.Name, Phase: phase, Result: res})
	return res
}

// notStarted is the result of a pair the run did not start because its
// journal refused to record it; the refusal stopped the run already.
func notStarted(start time.Time) PhaseResult {
	return PhaseResult{Status: StatusSkipped, ExitCode: -1, Command: -1, Err: "not started: cannot write the run journal", Started: start}
}

// runCommands runs cmds on h one after another, the first failure ending
// them; the task's timeout covers them all. A transport that declares
// Capabilities.CommandList runs them in one Exec (over SSH: one session,
// where one per command costs round trips), with the same outcome.
func (r *run) runCommands(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, cmds []string) PhaseResult {
	res := PhaseResult{Status: StatusOK, Command: -1}
	var deadline time.Time
	if t.Timeout > 0 {
		deadline = time.Now().Add(t.Timeout)
	}
	env := r.env(t, h, phase)
	// A task with sudo runs each command through sudo, one Exec each.
	if len(cmds) > 1 && r.capabilities(h).CommandList && t.SudoUser == "" {
		res = r.execCommands(ctx, tr, t, h, phase, 0, cmds, env, t.Timeout)
		if res.Status == StatusTimedOut {
			res.Timeout = t.Timeout
		}
		return res
	}
	for i, cmd := range cmds {
		var timeout time.Duration
		if !deadline.IsZero() {
			timeout = time.Until(deadline)
			if timeout <= 0 {
				res = PhaseResult{Status: StatusTimedOut, ExitCode: -1, Command: i}
				break
			}
		}
		res = r.exec(ctx, tr, t, h, phase, i, cmd, env, timeout)
		if res.Status != StatusOK {
			break
		}
	}
	if res.Status == StatusTimedOut {
		res.Timeout = t.Timeout
	}
	return res
}

// capabilities returns what h's transport declared it can do: none when it
// did not start.
func (r *run) capabilities(h *Host) sdk.Capabilities {
	_, desc, err := r.opts.Transports.get(r.ctx, h.Transport)
	if err != nil || desc == nil {
		return sdk.Capabilities{}
	}
	return desc.Capabilities
}

// exec runs one command through the transport, its output passed on as
// Output events, and classifies its end.
func (r *run) exec(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, idx int, cmd string, env map[string]string, timeout time.Duration) PhaseResult {
	return r.execCommands(ctx, tr, t, h, phase, idx, []string{cmd}, env, timeout)
}

// execCommands runs cmds, commands idx and on of a list, in one Exec (a
// list only where the transport declares Capabilities.CommandList), as
// exec runs one.
func (r *run) execCommands(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, idx int, cmds []string, env map[string]string, timeout time.Duration) PhaseResult {
	stdout := &lineWriter{r: r, task: t.Name, host: h.Name, phase: phase, stream: Stdout}
	stderr := &lineWriter{r: r, task: t.Name, host: h.Name, phase: phase, stream: Stderr}
	// A bounded tail of stderr says why a command failed, in the journal
	// too; it costs nothing until the command writes to stderr.
	tail := &tailWriter{}
	req := &sdk.ExecRequest{Host: h.Name, Env: env, Timeout: timeout}
	if len(cmds) == 1 {
		req.Command = cmds[0]
	} else {
		req.Commands = cmds
	}
	res := r.execRequest(ctx, tr, t, h, phase, idx, req, sdk.ExecOutput{Stdout: stdout, Stderr: io.MultiWriter(stderr, tail)})
	stdout.flush()
	stderr.flush()
	if res.Status == StatusFailed || res.Status == StatusTimedOut {
		res.StderrTail = tail.lines()
	}
	return res
}

// execTo runs one command through the transport, writing its output to
// out, and classifies its end.
func (r *run) execTo(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, idx int, cmd string, env map[string]string, timeout time.Duration, out sdk.ExecOutput) PhaseResult {
	return r.execRequest(ctx, tr, t, h, phase, idx, &sdk.ExecRequest{Host: h.Name, Command: cmd, Env: env, Timeout: timeout}, out)
}

// execRequest runs req, whose command (or first of Commands) is command
// idx of its list, through the transport, writing its output to out, and
// classifies its end; a task with sudo runs its one command through sudo
// (sudo.go). It sets req.ID.
func (r *run) execRequest(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, idx int, req *sdk.ExecRequest, out sdk.ExecOutput) PhaseResult {
	if t.SudoUser != "" && len(req.Commands) == 0 {
		return r.sudoExec(ctx, tr, t, h, phase, idx, req.Command, req.Env, req.Timeout, out)
	}
	return r.execRaw(ctx, tr, t, h, phase, idx, req, out)
}

// execOnce runs cmd as it is, with stdin (nil for none).
func (r *run) execOnce(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, idx int, cmd string, env map[string]string, timeout time.Duration, out sdk.ExecOutput, stdin []byte) PhaseResult {
	return r.execRaw(ctx, tr, t, h, phase, idx, &sdk.ExecRequest{Host: h.Name, Command: cmd, Env: env, Timeout: timeout, Stdin: stdin}, out)
}

// execRaw is execRequest without sudo.
func (r *run) execRaw(ctx context.Context, tr sdk.Transport, t *TaskNode, h *Host, phase Phase, idx int, req *sdk.ExecRequest, out sdk.ExecOutput) PhaseResult {
	id := strconv.FormatUint(r.execSeq.Add(1), 10)
	req.ID = id
	timeout := req.Timeout
	cctx := ctx
	if timeout > 0 {
		// The transport enforces the timeout and reports it; this deadline
		// only guards against a transport that never answers.
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout+timeoutGrace)
		defer cancel()
	}
	r.mu.Lock()
	r.inflight[id] = inflightExec{task: t.Name, host: h.Name, transport: h.Transport, phase: phase}
	if phase == PhaseRun {
		r.running[id] = tr
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.running, id)
		delete(r.inflight, id)
		r.mu.Unlock()
	}()
	resp, err := tr.Exec(cctx, req, out)

	res := PhaseResult{Command: idx}
	if resp != nil && len(req.Commands) > 0 {
		// A transport's index past the list would name no command.
		res.Command = idx + min(max(resp.Command, 0), len(req.Commands)-1)
	}
	crash, crashed := errors.AsType[*PluginCrashError](err)
	switch {
	case err != nil && ctx.Err() != nil && !crashed:
		res.Status, res.ExitCode, res.Err = StatusInterrupted, -1, "cancelled"
	case crashed:
		// First, even when the run was cancelled: the plugin died (or
		// was killed for not answering the cancellation), and the
		// rollbacks must go through a new one.
		// Noted while this command is still in flight, so that the crash
		// names it with the others.
		r.noteCrash(h.Transport, fmt.Sprintf("task %q ran on host %q", t.Name, h.Name))
		res.Status, res.ExitCode, res.Err = StatusPluginCrashed, -1, crash.Error()
	case err != nil && cctx.Err() != nil:
		res.Status, res.ExitCode, res.Err = StatusTimedOut, -1, fmt.Sprintf("the transport did not stop the command at its timeout (transport %q)", h.Transport)
	case err != nil:
		res.Status, res.ExitCode, res.Err = StatusUnreachable, -1, hostErrText(err, h.Name)
	case resp.TimedOut:
		res.Status, res.ExitCode, res.Signal = StatusTimedOut, resp.ExitCode, resp.Signal
	case resp.ExitCode == 0 && resp.Signal == "":
		res.Status = StatusOK
	default:
		res.Status, res.ExitCode, res.Signal = StatusFailed, resp.ExitCode, resp.Signal
		r.mu.Lock()
		if r.interrupted && phase == PhaseRun {
			res.Status = StatusInterrupted
		}
		r.mu.Unlock()
	}
	return res
}

// env is the task's environment plus the FANOUT_* variables, which win.
func (r *run) env(t *TaskNode, h *Host, phase Phase) map[string]string {
	taskEnv := t.HostEnv(h.Name)
	env := make(map[string]string, len(taskEnv)+4)
	for k, v := range taskEnv {
		env[k] = v
	}
	env["FANOUT_HOST"] = h.Name
	env["FANOUT_TASK"] = t.Name
	env["FANOUT_PHASE"] = string(phase)
	env["FANOUT_RUN_ID"] = r.opts.RunID
	return env
}

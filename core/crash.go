package core

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// PluginCrashError is the error that a transport from a Launcher returns
// from a call when its plugin process died under it (a panic, a kill),
// once the launcher has dealt with what the process left running. The
// core then reports the pair as StatusPluginCrashed and names the crash,
// with the pairs whose commands it was running, as the run's cause; before
// it rolls back anything through that transport, it starts the plugin
// again (Transports), since the dead one cannot run the rollbacks.
//
// A launcher returns it only once Orphans is settled: the commands the
// dead plugin started are gone (Orphans is nil), or it says why fanout
// cannot know. So the rollbacks that follow never run beside the commands
// they undo without the operator being told.
type PluginCrashError struct {
	// Err says how the plugin process ended: "transport plugin exited
	// unexpectedly (exit status 2): panic: ...".
	Err error
	// Orphans is nil when every process the plugin started is known to
	// have ended (killed by the launcher if need be); otherwise it says
	// why fanout cannot know, and they may still run.
	Orphans error
}

func (e *PluginCrashError) Error() string {
	if e.Orphans != nil {
		return fmt.Sprintf("%s; fanout cannot tell whether the commands it started have ended: %s", e.Err, e.Orphans)
	}
	return e.Err.Error()
}

// Unwrap returns how the plugin process ended.
func (e *PluginCrashError) Unwrap() error { return e.Err }

// inflightExec is a command being run through a transport, as a crash of
// its plugin names it.
type inflightExec struct {
	task, host, transport string
	phase                 Phase
}

// pluginCrash is one death of a transport's plugin during a run.
type pluginCrash struct {
	transport string
	// units names the pairs whose commands the plugin ran when it died,
	// as the cause says them: `task "x" ran on host "y"`.
	units []string

	revive  sync.Once // restarts the plugin, for the rollbacks
	revived bool      // guarded by run.mu: a later death is another crash
	err     error     // of the restart; written in revive
}

// noteCrash records that transport's plugin died, as the call that just
// failed with crash found, and returns the crash. The first call for a
// death lists the pairs whose commands were then in flight through it;
// the calls of the same death that return later share it. what names the
// failed call in case no command was in flight (a Connect).
func (r *run) noteCrash(transport, what string) *pluginCrash {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.crashes[transport]; c != nil && !c.revived {
		return c
	}
	c := &pluginCrash{transport: transport}
	ids := make([]string, 0, len(r.inflight))
	for id, e := range r.inflight {
		if e.transport == transport {
			ids = append(ids, id)
		}
	}
	// Exec ids are a sequence: the order the commands started in.
	sort.Slice(ids, func(i, j int) bool {
		if len(ids[i]) != len(ids[j]) {
			return len(ids[i]) < len(ids[j])
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		e := r.inflight[id]
		u := fmt.Sprintf("task %q ran on host %q", e.task, e.host)
		if e.phase == PhaseRollback {
			u = "the rollback of " + u
		}
		c.units = append(c.units, u)
	}
	if len(c.units) == 0 {
		c.units = []string{what}
	}
	r.crashes[transport] = c
	return c
}

// crashCauseUnits is how many of the pairs a crash interrupted its cause
// names.
const crashCauseUnits = 3

// crashCause is the run's cause when a pair failed because its plugin
// died: the crash first, with the pairs it interrupted (the first few),
// then how the process ended. The caller holds r.mu.
func (r *run) crashCause(t *TaskNode, u *UnitResult) string {
	transport := ""
	for _, h := range t.Hosts {
		if h.Name == u.Host {
			transport = h.Transport
		}
	}
	units := fmt.Sprintf("task %q ran on host %q", t.Name, u.Host)
	if c := r.crashes[transport]; c != nil {
		units = strings.Join(c.units[:min(len(c.units), crashCauseUnits)], ", ")
		if more := len(c.units) - crashCauseUnits; more > 0 {
			// The cause is one sentence: the recap lists every pair.
			units += fmt.Sprintf(" and %d more pairs", more)
		}
	}
	return fmt.Sprintf("plugin %q crashed while %s: %s", transport, units, u.Run.Err)
}

// revive makes sure the named transport's plugin runs before a rollback
// goes through it: when it died during the run, it is started again once
// (callers of the same death share that start and its error), and the
// hosts it had connected are connected anew through the new process.
func (r *run) revive(transport string) error {
	r.mu.Lock()
	c := r.crashes[transport]
	r.mu.Unlock()
	if c == nil {
		return nil
	}
	c.revive.Do(func() {
		r.mu.Lock()
		c.revived = true
		r.mu.Unlock()
		err := r.opts.Transports.restart(r.ctx, transport)
		r.mu.Lock()
		c.err = err
		for _, h := range r.plan.Hosts {
			if h.Transport == transport {
				delete(r.conns, h.Name)
			}
		}
		r.mu.Unlock()
		if err != nil {
			r.logger.Error("the crashed plugin could not be started again for the rollbacks", "transport", transport, "error", err)
		} else {
			r.logger.Warn("the crashed plugin was started again for the rollbacks", "transport", transport)
		}
	})
	return c.err
}

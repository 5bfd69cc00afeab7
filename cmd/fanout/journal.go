package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
)

// stateDir is the .fanout directory of the configuration at path (a .hcl
// file or a directory of them): journals live in its runs/ and the run
// lock beside them. It belongs to the configuration, not to the current
// directory, so that two operators running the same configuration from
// different places share one lock and one history.
func stateDir(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("locate %s: %w", path, err)
	}
	return filepath.Join(configDir(abs), ".fanout"), nil
}

// configDir is the directory of the configuration at p: p itself when it
// is a directory, else the directory of the file. Its .fanout state and
// its lock file live there.
func configDir(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p
	}
	return filepath.Dir(p)
}

// journalPath is where the journal of runID lives under state dir.
func journalPath(state, runID string) string {
	return filepath.Join(state, "runs", runID+".jsonl")
}

// journaled is a run's journal and the configuration's lock, held from
// before the run starts until it ends.
type journaled struct {
	journal *core.FileJournal
	lock    *runLock
	runID   string
	s       *streams
	// cfgPath is the configuration's path as given, for the commands
	// the messages suggest.
	cfgPath string
	// live holds the journal's flock while the run goes on (see
	// markLive); nil when it could not be taken.
	live *os.File
	// closed is set by close.
	closed bool
}

// startJournal takes the configuration's run lock and creates the run's
// journal with its header. It reports on stderr and returns false when
// either fails: nothing may run then, either because someone else is
// running the configuration, or because the run could not be recorded.
func startJournal(s *streams, cmd, cfgPath, runID string, pl *planned) (*journaled, bool) {
	state, err := stateDir(cfgPath)
	if err != nil {
		printf(s.Err, "fanout %s: %s; nothing was run.\n", cmd, err)
		return nil, false
	}
	lock, ok := takeLock(s, cmd, state, runID, cfgPath)
	if !ok {
		return nil, false
	}
	abs, _ := filepath.Abs(cfgPath)
	secrets := core.Secrets(pl.cfg, pl.plan)
	hdr, err := core.NewJournalHeader(pl.plan, runID, abs, version, secrets)
	if err == nil {
		hdr.Command = cmd
		var j *core.FileJournal
		if j, err = core.CreateJournal(journalPath(state, runID), hdr, secrets); err == nil {
			return &journaled{journal: j, lock: lock, runID: runID, s: s, cfgPath: cfgPath, live: markLive(j.Path())}, true
		}
	}
	releaseLock(s, cmd, lock)
	printf(s.Err, "fanout %s: cannot write the run journal in %s: %s; nothing was run.\n"+
		"fanout records every run there before it starts, so that it can be rolled back after a crash. Free some space or fix the directory's permissions.\n",
		cmd, filepath.Join(state, "runs"), err)
	return nil, false
}

// takeLock acquires the configuration's run lock, saying on stderr who
// holds it when it cannot, and noting a stale one it takes over. exec
// shares it with other execs (see acquireSharedLock).
func takeLock(s *streams, cmd, state, runID, cfgPath string) (*runLock, bool) {
	var (
		lock  *runLock
		stale *lockInfo
		err   error
	)
	if cmd == "exec" {
		lock, err = acquireSharedLock(state)
	} else {
		lock, stale, err = acquireLock(state, lockInfo{RunID: runID, Command: cmd})
	}
	if err != nil {
		var held *lockHeldError
		if errors.As(err, &held) {
			printf(s.Err, "fanout %s: %s.\nNothing was run. Wait for that run to end; two runs of one configuration at once would act on the same hosts.\n", cmd, err)
		} else {
			printf(s.Err, "fanout %s: cannot take the run lock: %s; nothing was run.\n", cmd, err)
		}
		return nil, false
	}
	if stale != nil {
		advice := fmt.Sprintf("If it was killed, \"%s\" rolls back what it started.", views.Suggest("rollback", stale.RunID, cfgPath))
		if cmd == "rollback" && stale.RunID == runID {
			advice = "This rollback finishes its job." // not advice to run what runs
		}
		printf(s.Err, "fanout %s: note: took over a stale lock: %s ended without releasing it. %s\n", cmd, stale, advice)
	}
	return lock, true
}

// finish says on stderr when the run's journal could not be written, since
// the journal then misses the rest of the run.
func (j *journaled) finish(s *streams, res *core.Result) {
	switch {
	case res.JournalError == "":
	case res.JournalEnded:
		printf(s.Err, "fanout: the run's journal %s could not be written: %s. Nothing started after that, what had started was handled as after a failure, and the journal records it all.\n",
			j.journal.Path(), res.JournalError)
	default:
		printf(s.Err, "fanout: the run's journal %s could not be written: %s. Nothing started after that, what had started was handled as after a failure, and the journal may show the run unfinished.\n",
			j.journal.Path(), res.JournalError)
		if len(res.RolledBack) > 0 {
			// `fanout rollback` reads the journal, which misses them.
			printf(s.Err, "fanout: these rollbacks ran, and the journal may not say so: %s. Check the hosts before running \"%s\", which would run them again.\n",
				strings.Join(res.RolledBack, ", "), views.Suggest("rollback", res.RunID, j.cfgPath))
		}
	}
}

// close closes the journal and releases the lock; calling it again does
// nothing.
func (j *journaled) close() {
	if j == nil || j.closed {
		return
	}
	j.closed = true
	closeJournal(j.s, j.journal)
	if j.live != nil {
		_ = j.live.Close() // read only; closing drops the flock
	}
	releaseLock(j.s, "", j.lock)
}

// closeJournal closes a run's journal, saying on stderr when that fails.
// Close after fsynced writes loses nothing; say it anyway.
func closeJournal(s *streams, j *core.FileJournal) {
	if err := j.Close(); err != nil {
		printf(s.Err, "fanout: close the run journal %s: %s\n", j.Path(), err)
	}
}

// releaseLock releases the run lock, saying on stderr when that fails:
// the next run of the configuration will then report this one as a stale
// holder. cmd names the command in the message, when not a run's.
func releaseLock(s *streams, cmd string, l *runLock) {
	if err := l.release(); err != nil {
		name := "fanout"
		if cmd != "" {
			name += " " + cmd
		}
		printf(s.Err, "%s: %s\n", name, err)
	}
}

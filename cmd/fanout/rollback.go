package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// runRollback rolls back a journaled run, typically one fanout did not
// live to finish: what it records as started is undone in the order a
// live rollback uses, through the transports and settings the run used,
// and the journal records it, so that a second rollback skips it.
func runRollback(args []string, s *streams) int {
	a, err := arguments.ParseRollback(args)
	if code, ok := parseArgs(err, s, "rollback"); !ok {
		return code
	}
	r := &rollbackCmd{s: s, a: a, o: views.Options{Color: s.Color && !a.NoColor, Escape: s.Terminal, Config: a.Path}}
	if code, ok := r.show(); !ok {
		return code
	}
	if r.pairs == 0 || a.DryRun {
		return exitOK
	}
	return r.start()
}

// rollbackCmd is the state of the steps of `fanout rollback`: show what it
// would do, take the operator's go-ahead and the locks, then run.
type rollbackCmd struct {
	s     *streams
	a     *arguments.Rollback
	o     views.Options
	state string         // the state directory
	rc    *core.Recovery // the run to roll back
	// pairs of a task and a host to roll back, on hosts hosts.
	pairs, hosts int
}

// show reads the run and shows it and its rollback plan. It returns the
// exit code and false when it cannot, or must not, be rolled back.
func (r *rollbackCmd) show() (code int, ok bool) {
	s, a := r.s, r.a
	var err error
	if r.state, err = stateDir(a.Path); err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitUsage, false
	}
	if r.rc, err = readRun(r.state, a.ID); err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return readRunExit(err), false
	}
	if running, _ := goesOn(liveHolder(r.state), r.rc); running {
		// Its journal has no end because it has not ended: it rolls back
		// what it must itself, and the lock would refuse this.
		printf(s.Err, "fanout rollback: run %s is running now; nothing was rolled back. It rolls back on failure itself (Ctrl-C stops it and rolls back); run this once it has ended, if its recap leaves something to roll back.\n", r.rc.Header.RunID)
		return exitFailed, false
	}
	views.RunHeader(s.Out, r.rc, r.o)
	if status, done := r.rc.Finished(); done && !a.Force {
		switch status {
		case core.RunSucceeded:
			printf(s.Err, "fanout rollback: run %s succeeded; there is nothing to undo. Add -force to roll back a successful run anyway.\n", r.rc.Header.RunID)
			return exitUsage, false
		case core.RunPartial:
			printf(s.Err, "fanout rollback: run %s was partial: the hosts it dropped were rolled back and the others succeeded; there is nothing to undo. "+
				"Add -force to roll back the hosts that succeeded.\n", r.rc.Header.RunID)
			return exitUsage, false
		}
	}
	if later := laterRuns(r.state, r.rc); len(later) > 0 && !a.Force {
		printf(s.Err, "fanout rollback: run %s is not the last run of this configuration: %s started after it. "+
			"Its rollback would undo this run's tasks over what those runs did since (Terraform refuses a stale plan for the same reason). "+
			"Check the hosts; add -force to roll it back anyway.\n", r.rc.Header.RunID, strings.Join(later, ", "))
		return exitUsage, false
	}
	steps, err := r.rc.RollbackSteps()
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed, false
	}
	r.pairs, r.hosts = views.RollbackPlan(s.Out, steps, r.o)
	return exitOK, true
}

// start takes the secrets, the operator's go-ahead, the state directory's
// lock and the run's journal, then runs the rollback. Its transports serve
// both the secrets and the rollback: a plugin whose schema says which of
// its settings are secret is started once, to tell that, and then runs
// the rollback's commands. Plugins are checked against the lock file of
// the run's configuration, as apply checked them.
func (r *rollbackCmd) start() int {
	s, id := r.s, r.rc.Header.RunID
	logger := newLogger(s)
	launcher := newConfigLauncher(logger, r.rc.Header.Config)
	// After ts.Close, which stops the plugins; a socket directory left
	// behind in the temporary directory costs nothing (as for apply, see
	// loader.buildPlan).
	defer func() { _ = launcher.Close() }()
	ts := core.NewTransports(coreLauncher{launcher}, logger)
	// A transport that does not close cleanly has done its part already:
	// the rollback's outcome is in the journal and the recap.
	defer func() { _ = ts.Close(context.Background()) }()
	secrets, ok := rollbackSecrets(s, r.a, r.rc, ts)
	if !ok {
		return exitUsage
	}
	if code, ok := confirmRollback(s, r.a, id); !ok {
		return code
	}
	lock, ok := takeLock(s, "rollback", r.state, id, r.a.Path)
	if !ok {
		return exitFailed
	}
	defer releaseLock(s, "rollback", lock)
	j, err := core.OpenJournal(r.rc.Path, secrets)
	if err != nil {
		printf(s.Err, "fanout rollback: %s; nothing was rolled back.\n", err)
		return exitFailed
	}
	defer closeJournal(s, j)
	return r.run(ts, logger, secrets, j)
}

// run configures the run's transports, in ts, and rolls back through
// them, recording in j, with the view of apply.
func (r *rollbackCmd) run(ts *core.Transports, logger hclog.Logger, secrets []core.Secret, j *core.FileJournal) int {
	s := r.s
	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	if err := ts.ConfigureFromJournal(ctx, r.rc, secrets); err != nil {
		printf(s.Err, "fanout rollback: %s; nothing was rolled back.\n", err)
		return exitFailed
	}
	plan, err := r.rc.Plan()
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	// Ctrl-C does not stop a rollback half-way (that is what it would
	// start); twice aborts, as for apply.
	interrupt := make(chan struct{})
	stopSignals, _ := watchSignals(interrupt, func() {
		printf(s.Err, "\nfanout rollback: aborting: the rollbacks running are stopped now, and the others are not run (the recap names them).\n")
		abort()
	})
	defer stopSignals()
	// Said at once: an operator who sees nothing happen presses again,
	// and that aborts.
	said := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(said)
		select {
		case <-interrupt:
			printf(s.Err, "\nfanout rollback: interrupt: the rollback goes on (stopping it half-way would leave hosts half undone). "+
				"Interrupt again to abort it; what it has not rolled back is then left for another %s.\n", views.Suggest("rollback", r.rc.Header.RunID, r.a.Path))
		case <-ended:
		}
	}()
	defer func() { close(ended); <-said }()
	printf(s.Out, "\n")
	// The commands run with the secrets given back; what they print is
	// hidden as apply hides it.
	o := r.o
	o.Redact = views.NewRedactor(core.SecretValues(secrets), plan.Labels()...)
	view := views.NewApply(arguments.ViewHuman, s.Out, plan, views.ApplyOptions{
		Options: o, Version: version, Command: "rollback", Rollbacks: r.pairs, Hosts: r.hosts,
	})
	res, err := core.RollbackJournal(ctx, r.rc, secrets, core.ApplyOptions{
		Transports: ts,
		Observer:   view,
		Journal:    j,
		Input:      newInput(s, view, o.Redact),
		Logger:     logger,
	})
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	return runExit(res)
}

// confirmRollback asks the operator to approve the rollback plan shown,
// as Terraform asks before an apply: rolling back production is as much a
// change as rolling out. -auto-approve skips the question; without a
// terminal to ask on, the rollback is refused rather than run unasked.
func confirmRollback(s *streams, a *arguments.Rollback, id string) (code int, ok bool) {
	if a.AutoApprove {
		return 0, true
	}
	if s.Confirm == nil {
		again := views.Suggest("rollback -auto-approve", id, a.Path)
		printf(s.Err, "fanout rollback: nothing was rolled back: approving the plan above needs a terminal, and standard input is not one.\n"+
			"Add -auto-approve to roll back without asking: %s\n", again)
		return exitUsage, false
	}
	// A signal at the question (Ctrl-C, a kill, a hang-up) is an answer:
	// not yes.
	ctx, stop := signal.NotifyContext(context.Background(), interruptSignals...)
	answer, err := s.Confirm(ctx, "Do you want to roll back run "+id+" as planned above?\n"+
		"  Only 'yes' will be accepted to approve.")
	interrupted := ctx.Err() != nil // read before stop, which cancels ctx
	stop()
	if interrupted {
		printf(s.Err, "\nfanout rollback: interrupted; nothing was rolled back.\n")
		return exitInterrupted, false
	}
	if err != nil || answer != "yes" {
		printf(s.Err, "Rollback cancelled; nothing was rolled back.\n")
		return exitFailed, false
	}
	return 0, true
}

// rollbackSecrets gives back the sensitive values the journal left out:
// from the configuration the run used, with this command's -var,
// -var-file and FANOUT_VAR_* as apply reads them. The plugins it starts to
// learn which transport settings are secret stay in ts for the rollback.
func rollbackSecrets(s *streams, a *arguments.Rollback, rc *core.Recovery, ts *core.Transports) ([]core.Secret, bool) {
	if len(rc.Header.Sensitive) == 0 {
		return nil, true
	}
	c := a.Common
	c.Path = rc.Header.Config
	l := newLoader(s, &c)
	var secrets []core.Secret
	// Kept, not printed: a configuration that cannot be loaded matters
	// only if what it would give is not given otherwise.
	l.collect = true
	cfg, loaded := l.load(&c)
	l.collect = false
	if loaded {
		var diags hcl.Diagnostics
		secrets, diags = ts.JournalSecrets(context.Background(), rc, cfg)
		l.report(l.diags.Extend(diags))
	} else {
		// The configuration changed or is gone since the run (the
		// journal's plan is what rolls back): its variables can still be
		// given, by name, as for apply.
		secrets = givenVariables(rc, &c, l.files)
	}
	if missing := rc.Missing(secrets); len(missing) > 0 {
		if !loaded {
			l.report(l.diags)
			printf(s.Err, "fanout rollback: the run's configuration %s cannot be loaded now (above), and the rollback commands use sensitive values the journal does not keep: %s; "+
				"set them as for apply (-var NAME=VALUE, -var-file FILE, FANOUT_VAR_NAME); a transport's sensitive setting needs the configuration back.\n",
				rc.Header.Config, strings.Join(missing, ", "))
			return nil, false
		}
		printf(s.Err, "fanout rollback: the rollback commands use sensitive values the journal does not keep: %s.\n"+
			"fanout reads them from the run's configuration %s; set them as for apply (-var, -var-file, FANOUT_VAR_NAME).\n",
			strings.Join(missing, ", "), rc.Header.Config)
		return nil, false
	}
	return secrets, true
}

// givenVariables are the secrets the journal names as variables
// ("var.token") that -var, -var-file or FANOUT_VAR_* give, read as apply
// reads them (readVariableInputs), a string's value as it is, for a
// rollback whose configuration cannot be loaded.
func givenVariables(rc *core.Recovery, c *arguments.Common, files map[string]*hcl.File) []core.Secret {
	in, _ := readVariableInputs(c, files) // a file that cannot be read leaves its values missing, which is said
	var out []core.Secret
	for _, name := range rc.Header.Sensitive {
		v, ok := strings.CutPrefix(name, "var.")
		if !ok {
			continue
		}
		// The environment sits under the flags, as for apply.
		iv, fromFile := in.values[v]
		if s, given := in.raw[v]; given {
			out = append(out, core.Secret{Name: name, Value: s})
		} else if fromFile && iv.Value.IsKnown() && !iv.Value.IsNull() && iv.Value.Type() == cty.String {
			out = append(out, core.Secret{Name: name, Value: iv.Value.AsString()})
		} else if s, given := in.env[v]; given && !fromFile {
			out = append(out, core.Secret{Name: name, Value: s})
		}
	}
	return out
}

// laterRuns lists, as "ID (status)", the runs of the state directory that
// started after rc and may have changed its hosts since: runs whose plan
// has a rollback (exec's ad hoc commands have none, nor do read-only
// runs). Journals that cannot be read are left out: `fanout runs` names
// them. Run IDs begin with their start time, so older journals are not
// read.
func laterRuns(state string, rc *core.Recovery) []string {
	dir := filepath.Join(state, "runs")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	self := rc.Header.RunID
	stamp, _, _ := strings.Cut(self, "-")
	var later []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".jsonl")
		if !ok || e.IsDir() || id == self || id < stamp {
			continue
		}
		other, err := core.ReadJournal(filepath.Join(dir, e.Name()))
		if err != nil || other.Header.Plan == nil || !other.Header.Started.After(rc.Header.Started) ||
			other.Header.Config != rc.Header.Config {
			// A directory's runs may be of several files.
			continue
		}
		if slices.ContainsFunc(other.Header.Plan.Tasks, hasRollback) && ranAnything(other) {
			later = append(later, fmt.Sprintf("%s (%s)", id, other.Status()))
		}
	}
	return later
}

// ranAnything reports whether a journaled run started a task on a host: a
// run that failed preflight changed nothing.
func ranAnything(rc *core.Recovery) bool {
	return slices.ContainsFunc(rc.Records, func(r *core.JournalRecord) bool {
		return r.Type == core.RecordUnitStarted && r.Phase == core.PhaseRun
	})
}

// hasRollback reports whether a journaled task has a rollback on any host.
func hasRollback(t *core.JournalTask) bool {
	if len(t.Rollback) > 0 {
		return true
	}
	for _, hv := range t.PerHost {
		if len(hv.Rollback) > 0 {
			return true
		}
	}
	return false
}

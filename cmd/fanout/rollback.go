package main

import (
	"context"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
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
	o := views.Options{Color: s.Color && !a.NoColor, Escape: s.Terminal}
	state, err := stateDir(a.Path)
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitUsage
	}
	rc, err := readRun(state, a.ID)
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	views.RunHeader(s.Out, rc, o)
	if status, done := rc.Finished(); done && status == core.RunSucceeded && !a.Force {
		printf(s.Err, "fanout rollback: run %s succeeded; there is nothing to undo. Add -force to roll back a successful run anyway.\n", rc.Header.RunID)
		return exitUsage
	}
	steps, err := rc.RollbackSteps()
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	pairs, hosts := views.RollbackPlan(s.Out, steps, o)
	if pairs == 0 || a.DryRun {
		return exitOK
	}

	secrets, ok := rollbackSecrets(s, a, rc)
	if !ok {
		return exitUsage
	}
	if code, ok := confirmRollback(s, a, rc.Header.RunID); !ok {
		return code
	}
	lock, ok := takeLock(s, "rollback", state, rc.Header.RunID)
	if !ok {
		return exitFailed
	}
	defer releaseLock(s, "rollback", lock)
	j, err := core.OpenJournal(rc.Path, secrets)
	if err != nil {
		printf(s.Err, "fanout rollback: %s; nothing was rolled back.\n", err)
		return exitFailed
	}
	defer closeJournal(s, j)

	logger := newLogger(s)
	launcher := newLauncher(logger)
	// After ts.Close, which stops the plugins; a socket directory left
	// behind in the temporary directory costs nothing (as for apply, see
	// loader.buildPlan).
	defer func() { _ = launcher.Close() }()
	ts := core.NewTransports(coreLauncher{launcher}, logger)
	// A transport that does not close cleanly has done its part already:
	// the rollback's outcome is in the journal and the recap.
	defer func() { _ = ts.Close(context.Background()) }()
	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	if err := ts.ConfigureFromJournal(ctx, rc, secrets); err != nil {
		printf(s.Err, "fanout rollback: %s; nothing was rolled back.\n", err)
		return exitFailed
	}
	plan, err := rc.Plan()
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	// Ctrl-C does not stop a rollback half-way (that is what it would
	// start); twice aborts, as for apply.
	interrupt := make(chan struct{})
	stopSignals := watchSignals(interrupt, abort)
	defer stopSignals()
	printf(s.Out, "\n")
	// The commands run with the secrets given back; what they print is
	// hidden as apply hides it.
	o.Redact = views.NewRedactor(core.SecretValues(secrets), plan.Labels()...)
	view := views.NewApply(arguments.ViewHuman, s.Out, plan, views.ApplyOptions{
		Options: o, Version: version, Command: "rollback", Rollbacks: pairs, Hosts: hosts,
	})
	res, err := core.RollbackJournal(ctx, rc, secrets, core.ApplyOptions{
		Transports: ts,
		Observer:   view,
		Journal:    j,
		Input:      newInput(s, view),
		Logger:     logger,
	})
	if err != nil {
		printf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	return runExit(res.Status)
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
		again := "fanout rollback -auto-approve " + id
		if a.Path != "." {
			again += " " + a.Path
		}
		printf(s.Err, "fanout rollback: nothing was rolled back: approving the plan above needs a terminal, and standard input is not one.\n"+
			"Add -auto-approve to roll back without asking: %s\n", again)
		return exitUsage, false
	}
	answer, err := s.Confirm("Do you want to roll back run " + id + " as planned above?\n" +
		"  Only 'yes' will be accepted to approve.")
	if err != nil || answer != "yes" {
		printf(s.Err, "Rollback cancelled; nothing was rolled back.\n")
		return exitFailed, false
	}
	return 0, true
}

// rollbackSecrets gives back the sensitive values the journal left out:
// from the configuration the run used, with this command's -var,
// -var-file and FANOUT_VAR_* as apply reads them.
func rollbackSecrets(s *streams, a *arguments.Rollback, rc *core.Recovery) ([]core.Secret, bool) {
	if len(rc.Header.Sensitive) == 0 {
		return nil, true
	}
	c := a.Common
	c.Path = rc.Header.Config
	l := newLoader(s, &c)
	var secrets []core.Secret
	needPlan := false
	for _, n := range rc.Header.Sensitive {
		needPlan = needPlan || strings.HasPrefix(n, "transport.")
	}
	if needPlan {
		pl, done, ok := l.buildPlan(&c, arguments.Selection{})
		defer done()
		if ok {
			secrets = core.Secrets(pl.cfg, pl.plan)
		}
	} else if cfg, ok := l.load(&c); ok {
		secrets = core.Secrets(cfg, nil)
	}
	if missing := rc.Missing(secrets); len(missing) > 0 {
		printf(s.Err, "fanout rollback: the rollback commands use sensitive values the journal does not keep: %s.\n"+
			"fanout reads them from the run's configuration %s; set them as for apply (-var, -var-file, FANOUT_VAR_NAME).\n",
			strings.Join(missing, ", "), rc.Header.Config)
		return nil, false
	}
	return secrets, true
}

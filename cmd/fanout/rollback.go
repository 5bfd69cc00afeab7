package main

import (
	"context"
	"fmt"
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
	o := views.Options{Color: s.Color && !a.NoColor}
	state, err := stateDir(a.Path)
	if err != nil {
		fmt.Fprintf(s.Err, "fanout rollback: %s\n", err)
		return exitUsage
	}
	rc, err := readRun(state, a.ID)
	if err != nil {
		fmt.Fprintf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	views.RunHeader(s.Out, rc, o)
	if done, status := rc.Finished(); done && status == core.RunSucceeded.String() && !a.Force {
		fmt.Fprintf(s.Err, "fanout rollback: run %s succeeded; there is nothing to undo. Add -force to roll back a successful run anyway.\n", rc.Header.RunID)
		return exitUsage
	}
	steps, err := rc.RollbackSteps()
	if err != nil {
		fmt.Fprintf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	if views.RollbackPlan(s.Out, steps, o) == 0 || a.DryRun {
		return exitOK
	}

	secrets, ok := rollbackSecrets(s, a, rc)
	if !ok {
		return exitUsage
	}
	lock, ok := takeLock(s, "rollback", state, rc.Header.RunID)
	if !ok {
		return exitFailed
	}
	defer lock.release()
	j, err := core.OpenJournal(rc.Path, secrets)
	if err != nil {
		fmt.Fprintf(s.Err, "fanout rollback: %s; nothing was rolled back.\n", err)
		return exitFailed
	}
	defer j.Close()

	logger := newLogger(s)
	ts := core.NewTransports(coreLauncher{newLauncher(logger)}, logger)
	defer ts.Close(context.Background())
	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	if err := ts.ConfigureFromJournal(ctx, rc, secrets); err != nil {
		fmt.Fprintf(s.Err, "fanout rollback: %s; nothing was rolled back.\n", err)
		return exitFailed
	}
	plan, err := rc.Plan(nil)
	if err != nil {
		fmt.Fprintf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	// Ctrl-C does not stop a rollback half-way (that is what it would
	// start); twice aborts, as for apply.
	interrupt := make(chan struct{})
	stopSignals := watchSignals(interrupt, abort)
	defer stopSignals()
	fmt.Fprintln(s.Out)
	view := views.NewApply(arguments.ViewHuman, s.Out, plan, views.ApplyOptions{Options: o, Version: version, Command: "rollback"})
	res, err := core.RollbackJournal(ctx, rc, secrets, core.ApplyOptions{
		Transports: ts,
		Observer:   view,
		Journal:    j,
		Input:      newInput(s, view),
		Logger:     logger,
	})
	if err != nil {
		fmt.Fprintf(s.Err, "fanout rollback: %s\n", err)
		return exitFailed
	}
	return runExit(res.Status)
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
			secrets = secretsFor(pl.cfg, pl.plan)
		}
	} else if cfg, ok := l.load(&c); ok {
		secrets = secretsFor(cfg, nil)
	}
	if missing := rc.Missing(secrets); len(missing) > 0 {
		fmt.Fprintf(s.Err, "fanout rollback: the rollback commands use sensitive values the journal does not keep: %s.\n"+
			"fanout reads them from the run's configuration %s; set them as for apply (-var, -var-file, FANOUT_VAR_NAME).\n",
			strings.Join(missing, ", "), rc.Header.Config)
		return nil, false
	}
	return secrets, true
}

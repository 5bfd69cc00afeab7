package main

import (
	"context"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
)

const planSynopsis = "Show what would run where: the tree of groups and tasks, each task's hosts,\n  exact commands, rollback, environment and limits. Nothing runs and no host\n  is contacted."

func runPlan(args []string, s *streams) int {
	a, err := arguments.ParsePlan(args)
	if code, ok := parseArgs(err, s, "plan", planSynopsis); !ok {
		return code
	}
	p, _, done, ok := buildPlan(s, &a.Common)
	defer done()
	if !ok {
		return exitUsage
	}
	views.PlanHuman(s.Out, a.Path, p)
	return exitOK
}

// buildPlan loads the configuration and plans it; done closes the
// transports the plan started and must always be called.
func buildPlan(s *streams, c *arguments.Common) (*core.Plan, *core.Transports, func(), bool) {
	cfg, l, ok := load(s, c)
	if !ok {
		return nil, nil, func() {}, false
	}
	logger := newLogger(s)
	ts := core.NewTransports(newLauncher(logger), logger)
	done := func() { _ = ts.Close(context.Background()) }
	p, diags := core.BuildPlan(context.Background(), cfg, core.PlanOptions{Targets: c.Targets, Transports: ts})
	l.diagnostics(diags)
	if diags.HasErrors() {
		return nil, nil, done, false
	}
	return p, ts, done, true
}

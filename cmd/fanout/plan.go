package main

import (
	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
)

func runPlan(args []string, s *streams) int {
	a, err := arguments.ParsePlan(args)
	if code, ok := parseArgs(err, s, "plan"); !ok {
		return code
	}
	l := newLoader(s, &a.Common)
	pl, done, ok := l.buildPlan(&a.Common, a.Selection)
	defer done()
	if !ok {
		return exitUsage
	}
	o := views.Options{Color: l.color, Redact: pl.redact}
	if a.ViewType == arguments.ViewJSON {
		views.PlanJSON(s.Out, a.Path, version, pl.plan, o)
		return exitOK
	}
	views.PlanHuman(s.Out, a.Path, pl.plan, o)
	return exitOK
}

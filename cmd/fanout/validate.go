package main

import (
	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
	"github.com/fanout/fanout/cmd/fanout/internal/views"
)

func runValidate(args []string, s *streams) int {
	a, err := arguments.ParseValidate(args)
	if code, ok := parseArgs(err, s, "validate"); !ok {
		return code
	}
	l := newLoader(s, &a.Common)
	// Validation checks what is written; it asks for nothing, and needs
	// no variable's value (as terraform validate): a CI lint step or an
	// editor has none to give.
	l.prompt, l.unset = nil, true
	l.collect = a.ViewType == arguments.ViewJSON
	_, done, ok := l.buildPlan(&a.Common, arguments.Selection{})
	defer done()
	if l.collect {
		views.DiagnosticsJSON(s.Out, l.files, l.diags)
	} else if ok {
		printf(s.Out, "The configuration %s is valid.\n", a.Path)
	}
	if !ok {
		return exitUsage
	}
	return exitOK
}

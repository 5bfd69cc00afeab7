package main

import (
	"fmt"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
)

const validateSynopsis = "Check a configuration: syntax, references, limits, and every transport's\n  settings against its plugin's schema. No host is contacted."

func runValidate(args []string, s *streams) int {
	a, err := arguments.ParseValidate(args)
	if code, ok := parseArgs(err, s, "validate", validateSynopsis); !ok {
		return code
	}
	_, _, done, ok := buildPlan(s, &a.Common)
	defer done()
	if !ok {
		return exitUsage
	}
	fmt.Fprintf(s.Out, "The configuration %s is valid.\n", a.Path)
	return exitOK
}

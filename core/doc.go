// Package core turns a configuration into a plan and runs it.
//
// A Plan is the tree of roots, groups and tasks, each task expanded to the
// hosts it runs on with its exact commands, environment, limits and
// rollback. Building one contacts no host and runs nothing; it starts the
// transport plugins the configuration uses only to learn their schemas and
// validate their settings.
//
// Apply runs a Plan: groups run their members in a sliding window of
// `threads`, tasks run on their hosts under `max_hosts`, and a failure stops
// new work, lets work in flight finish, and rolls back what started, newest
// first. A task may roll out in waves (rollout.go, wave.go): each wave ends,
// every host's run and health check done, before the next starts; a host
// that fails within its wave's failure budget is rolled back whole and
// dropped while the run goes on (budget.go); runs are retried and hosts
// left out by conditions (attempt.go).
// Every run is journaled (journal.go); a journal is read back to show the
// run, roll it back after a crash (recover.go), or lay it out in time for
// a picture of it (timeline.go).
// Progress is reported only through Observer; core writes nothing to
// the terminal, reads no flags or environment, and knows nothing of SSH:
// every command goes through an sdk.Transport in a plugin process.
package core

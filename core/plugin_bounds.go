package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A plugin that never answers must not hang fanout: every call to it is
// bounded. Exec is bounded by the task's timeout and Close by
// Transports.Close; these are the calls that do no remote work of a
// task's, or whose own settings bound it (ssh's connect_timeout), so
// their bounds are generous, far above what a working plugin takes.
const (
	describeLimit  = time.Minute
	configureLimit = 2 * time.Minute
	connectLimit   = 5 * time.Minute
	closeLimit     = 10 * time.Second
)

// bounded calls f with ctx bounded by limit and, when the bound rather
// than ctx ended it, says which plugin did not answer which call.
func bounded[T any](ctx context.Context, limit time.Duration, plugin, call string, f func(context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	v, err := f(cctx)
	if err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded) {
		err = &hungPluginError{plugin: plugin, call: call, limit: limit}
	}
	return v, err
}

// hungPluginError is a plugin call that did not return within its bound.
type hungPluginError struct {
	plugin, call string
	limit        time.Duration
}

func (e *hungPluginError) Error() string {
	return fmt.Sprintf("transport plugin %q did not answer %s within %s: the plugin hangs (FANOUT_LOG=debug shows its log; its author can reproduce it with sdktest)",
		e.plugin, e.call, e.limit)
}

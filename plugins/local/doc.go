// Package local is the transport that runs commands on this machine, through
// os/exec and "sh -c". It is fanout's embedded default: a configuration
// without hosts runs on the implicit host "localhost" through it, and it
// needs nothing set up.
//
// Like every transport it runs in a plugin process: fanout re-executes
// itself and calls sdk.Serve(local.New(logger), ...). Each command runs in a
// process group of its own, so that a timeout, a cancellation, Signal and
// Close reach everything the command started, not only its shell.
//
// A command must not outlive a plugin that crashes, since fanout rolls back
// what the crash interrupted. On Linux each command therefore runs under a
// small supervisor, the same binary re-executed (see SupervisorMain), which
// kills the command's process group when the plugin process dies. On other
// systems there is no supervisor, and a command whose plugin crashes runs
// to its end.
//
// It knows nothing of HCL or of the core; it speaks only sdk.Transport.
package local

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
// what the crash interrupted. On Linux the transport therefore starts one
// supervisor per plugin process, the same binary re-executed (see
// SupervisorMain), and registers each command's process group with it
// while the command's shell runs; when the plugin process dies, the
// supervisor kills every group still registered. A shell is also started
// with a parent-death signal, which covers it, though not a child it may
// already have forked, in the microseconds between its start and its
// registration. On other systems there is no supervisor, and a command
// whose plugin crashes runs to its end.
//
// It knows nothing of HCL or of the core; it speaks only sdk.Transport.
package local

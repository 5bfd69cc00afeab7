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
// It knows nothing of HCL or of the core; it speaks only sdk.Transport.
package local

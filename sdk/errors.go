package sdk

import "errors"

// Errors a Transport obtained from Client returns when the plugin process,
// rather than the command or the host, is the problem. Test with errors.Is.
var (
	// ErrPluginExited is returned by calls in progress or made after the
	// plugin process has exited, whether it crashed, was killed, or Kill
	// was called.
	ErrPluginExited = errors.New("transport plugin exited unexpectedly")

	// ErrPluginUnavailable is returned when the connection to a plugin
	// process that still runs is lost or cannot be used.
	ErrPluginUnavailable = errors.New("transport plugin connection lost")

	// ErrExecIncomplete is returned by Exec when the plugin ended the output
	// stream without reporting how the command ended: a bug in the plugin.
	ErrExecIncomplete = errors.New("transport plugin ended exec without an exit status")
)

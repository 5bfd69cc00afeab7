package client

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors a Transport obtained from a Client returns when the plugin
// process, rather than the command or the host, is the problem, and errors
// New returns when a plugin cannot be started. Test with errors.Is.
var (
	// ErrPluginExited is returned by calls in progress or made after the
	// plugin process has exited, whether it crashed, was killed, or Kill
	// was called. The error wrapping it says how the process ended and, for
	// a crash, the panic message the plugin printed.
	ErrPluginExited = errors.New("transport plugin exited unexpectedly")

	// ErrPluginUnavailable is returned when the connection to a plugin
	// process that still runs is lost or cannot be used.
	ErrPluginUnavailable = errors.New("transport plugin connection lost")

	// ErrExecIncomplete is returned by Exec when the plugin ended the output
	// stream without reporting how the command ended: a bug in the plugin.
	ErrExecIncomplete = errors.New("transport plugin ended exec without an exit status")

	// ErrHandshake is wrapped by New's error when the process started but
	// did not complete the go-plugin handshake: it exited first, wrote
	// something else to its standard output, or did not answer in time.
	ErrHandshake = errors.New("transport plugin handshake failed")

	// ErrNoMutualTLS is wrapped by New's error when the plugin completed
	// the handshake but cannot authenticate the channel with mutual TLS:
	// it sent no certificate of its own (a plugin built without go-plugin's
	// AutoMTLS) or one that does not parse. The plugin was stopped before
	// any call was made to it.
	ErrNoMutualTLS = errors.New("transport plugin does not support mutual TLS")
)

// VersionError is New's error (wrapped, with the path) when the plugin
// speaks no version of the transport protocol that this package speaks.
// The plugin was stopped.
type VersionError struct {
	// Path is the plugin's command.
	Path string
	// Plugin is the protocol version the plugin offered: the newest it
	// speaks, since it speaks none of Host.
	Plugin int
	// Host lists the protocol versions this package speaks.
	Host []int
}

func (e *VersionError) Error() string {
	host := make([]string, len(e.Host))
	for i, v := range e.Host {
		host[i] = strconv.Itoa(v)
	}
	return fmt.Sprintf("the plugin speaks transport protocol version %d, but this fanout speaks version %s: "+
		"use a build of the plugin made with a fanout sdk that speaks version %s, or a fanout that speaks version %d",
		e.Plugin, strings.Join(host, ", "), strings.Join(host, " or "), e.Plugin)
}

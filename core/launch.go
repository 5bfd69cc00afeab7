package core

import (
	"context"

	"github.com/fanout/fanout/sdk"
)

// LaunchError is an error of a Launcher that explains itself to the
// operator: when a transport cannot start, the plan's diagnostic on its
// transport block takes the error's Summary and Detail in place of the
// generic "not available" ones. Launchers that find and verify plugin
// binaries (internal/pluginhost) return such errors for a plugin that is
// not found, does not match its checksum or the lock file, or speaks
// another protocol version.
type LaunchError interface {
	error
	// Summary is a short phrase naming the problem, with no final period.
	Summary() string
	// Detail is whole sentences: what is wrong and how to fix it.
	Detail() string
}

// withCapabilities returns t as the core may use it given what Describe
// declared: a transport that does not declare the Signal capability is
// never sent a Signal (the operator's Ctrl-C then reaches its commands
// through cancellation, after the grace), as docs/plugins.md promises
// plugin authors.
func withCapabilities(t sdk.Transport, desc *sdk.DescribeResponse) sdk.Transport {
	if desc.Capabilities.Signal {
		return t
	}
	return unsignalled{t}
}

// hostValidator returns t as the plugin's HostValidator when Describe
// declared the capability (protocol 1.2): a plugin that did not is never
// asked, since a 1.1 plugin does not serve the call.
func hostValidator(t sdk.Transport, desc *sdk.DescribeResponse) (sdk.HostValidator, bool) {
	if !desc.Capabilities.ValidateHost {
		return nil, false
	}
	return as[sdk.HostValidator](t)
}

// releaser returns t as the plugin's Releaser when Describe declared the
// capability (protocol 1.3): a plugin that did not is never asked, and
// keeps its hosts' connections until Close.
func releaser(t sdk.Transport, desc *sdk.DescribeResponse) (sdk.Releaser, bool) {
	if desc == nil || !desc.Capabilities.Release {
		return nil, false
	}
	return as[sdk.Releaser](t)
}

// as returns t as a T, looking through the wrapper withCapabilities may
// have put around it, which hides every method but sdk.Transport's.
func as[T any](t sdk.Transport) (T, bool) {
	if u, ok := t.(unsignalled); ok {
		t = u.Transport
	}
	v, ok := t.(T)
	return v, ok
}

// unsignalled is a Transport whose Signal does nothing.
type unsignalled struct{ sdk.Transport }

// Signal does not reach the plugin, which did not declare it can signal.
func (unsignalled) Signal(context.Context, *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	return &sdk.SignalResponse{}, nil
}

// Package client is the host's end of fanout's transport protocol: New
// starts a transport plugin process through hashicorp/go-plugin, completes
// the handshake, and returns a Client whose Transport calls the plugin
// over gRPC as an sdk.Transport.
//
// fanout itself starts every plugin this way, built in or not; a plugin's
// own tests use it to run the built binary as fanout would (see
// sdk/sdktest). Plugin authors otherwise need only package sdk.
//
// New negotiates the protocol version and refuses a plugin that speaks
// none of this package's versions with a *VersionError naming both sides'.
// Calls to a plugin that died fail at once with an error wrapping
// ErrPluginExited that says how it ended.
package client

// Package sdk is fanout's public plugin contract: the Transport interface and
// its request and response types, the gRPC protocol that carries them
// between processes, Serve for plugin authors, and NewClient, through which
// the core launches a plugin process and uses it as a Transport.
//
// A transport always runs in its own process, reached through
// hashicorp/go-plugin over gRPC; the wire format is defined by
// internal/transportv1/transport.proto and mapped to these Go types in one
// place, convert.go. Package sdk/sdktest serves a Transport over real gRPC
// inside one process, for tests.
//
// # Writing a plugin
//
// A plugin is a program whose main calls Serve with its Transport; built as
// fanout-transport-NAME and put in ./.fanout/plugins, a directory of
// $FANOUT_PLUGIN_PATH, ~/.fanout/plugins or $PATH, it serves the
// configuration's transport "NAME" block. Describe declares the attributes
// the transport block and its hosts accept (Schema), which fanout checks
// before anything runs; Configure then receives them as a cty object value.
// Package sdktest runs the conformance suite against a transport from the
// plugin's own tests. examples/plugins/fanout-transport-echo in the fanout
// repository is a complete plugin, and docs/plugins.md describes the
// protocol, the discovery, pinning and debugging.
//
// # Versions
//
// ProtocolVersion is the version of the wire protocol; go-plugin negotiates
// it in the handshake, and NewClient refuses a plugin that speaks none of
// this package's versions with a *VersionError naming both sides'. A
// plugin's own version (DescribeResponse.Version) is unrelated to it.
//
// The package knows nothing of HCL, the core or any particular transport:
// schemas are declared as data, values are cty values.
package sdk

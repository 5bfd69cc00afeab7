// Package sdk is what a fanout transport plugin is written against: the
// Transport interface and its request and response types, Serve, which
// makes a program a plugin, and the helpers a Transport needs (Decode for
// its settings, SignalName and SignalNum for ExecResponse.Signal and
// SignalRequest.Signal, Diagnostics for problems with its settings).
//
// # Writing a plugin
//
// A plugin is a program whose main calls Serve; built as
// fanout-transport-NAME and put in ./.fanout/plugins, a directory of
// $FANOUT_PLUGIN_PATH, ~/.fanout/plugins or $PATH, it serves the
// configuration's transport "NAME" block. Describe declares the attributes
// the transport block and its hosts accept (Schema), which fanout checks
// before anything runs; Configure and Connect then receive them as cty
// object values with every declared attribute, null when not set, which
// Decode turns into a Go struct. Package sdk/sdktest runs the conformance
// suite against a transport from the plugin's own tests.
// examples/plugins/fanout-transport-echo in the fanout repository is a
// complete plugin, and docs/plugins.md describes the protocol, the
// discovery, pinning and debugging.
//
// # What is not here
//
// The wire protocol (go-plugin over gRPC, internal/transportv1's
// transport.proto) is hidden: fanout and Serve speak it, and a plugin
// built against this package keeps working as long as fanout speaks its
// protocol version. The host's end, which starts a plugin process and
// calls it, is package sdk/client. The package knows nothing of HCL, the
// core or any particular transport: schemas are declared as data, values
// are cty values.
package sdk

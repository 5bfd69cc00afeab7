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
// The package knows nothing of HCL, the core or any particular transport:
// schemas are declared as data, values are cty values.
package sdk

// Package sdktest helps test transports: Harness serves any sdk.Transport
// over real gRPC inside the test process, so a test exercises the same wire
// path as a plugin process, and Conformance checks that a transport keeps
// the sdk.Transport contract.
package sdktest

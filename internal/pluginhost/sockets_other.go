//go:build !unix

package pluginhost

// newRunDir makes no directory where go-plugin listens on loopback TCP
// rather than on unix sockets: mutual TLS is what keeps others out there.
func newRunDir(string) (string, error) { return "", nil }

package ssh

import (
	"testing"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk/sdktest"
)

// TestConformanceWithoutSFTP runs the transport contract, its file clauses
// included, on an OpenSSH server without the sftp subsystem: uploads and
// downloads go through the shell and keep the same promises (whole or not
// at all, modes, links, cancellation).
func TestConformanceWithoutSFTP(t *testing.T) {
	t.Parallel()
	f := sshtest.Start(t, sshtest.Options{NoSFTP: true})
	s := newTransport(t, f, setupOpts{})
	sdktest.Conformance(t, s.tr, s.host(f.Hosts[0], nil))
}

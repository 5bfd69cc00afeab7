package ssh

import "errors"

// Errors callers can test with errors.Is. The transport wraps them with the
// host and the details an operator needs ("host web1: no usable ssh
// credentials: ..."). Host key problems are *HostKeyError.
var (
	// ErrNoCredentials: neither the agent nor an identity file offered a
	// key to authenticate with; nothing was dialled.
	ErrNoCredentials = errors.New("no usable ssh credentials")

	// ErrAuthFailed: the server accepted none of the keys offered.
	ErrAuthFailed = errors.New("ssh authentication failed")

	// ErrUnreachable: the TCP connection (direct or through a jump host)
	// could not be made.
	ErrUnreachable = errors.New("cannot reach host")

	// ErrConnectTimeout: TCP, handshake and authentication together took
	// longer than connect_timeout.
	ErrConnectTimeout = errors.New("ssh connect timed out")

	// ErrConnectionLost: the host's connection broke (keepalive failed,
	// host went down) while a command was starting or running.
	ErrConnectionLost = errors.New("ssh connection lost")

	// ErrClosed: the transport was closed.
	ErrClosed = errors.New("ssh transport closed")
)

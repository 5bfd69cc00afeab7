package core

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

package pluginhost

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fanout/fanout/sdk/client"
)

// PluginNotFoundError is the error of a third-party transport whose plugin
// binary is in none of the directories searched.
type PluginNotFoundError struct {
	// Name is the transport's name; the binary is PluginPrefix+Name.
	Name string
	// SearchPath and SystemPath are the directories searched, in order.
	SearchPath, SystemPath []string
	// NotExecutable are files of the binary's name found there that may
	// not be executed: the likeliest fix is their mode, not an install.
	NotExecutable []string
}

// Summary and Detail explain the error in a diagnostic (core.LaunchError).
func (e *PluginNotFoundError) Summary() string {
	return fmt.Sprintf("Transport plugin %q not found", e.Name)
}

// Detail lists the directories searched and says how to install a plugin.
func (e *PluginNotFoundError) Detail() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q is not a built-in transport, so fanout looks for a plugin binary named %s%s, in this order:\n", e.Name, PluginPrefix, e.Name)
	for _, dir := range e.SearchPath {
		fmt.Fprintf(&b, "  - %s\n", dir)
	}
	if len(e.SystemPath) == 0 {
		b.WriteString("  - $PATH, which is empty\n")
	}
	for _, dir := range e.SystemPath {
		fmt.Fprintf(&b, "  - %s (from $PATH)\n", dir)
	}
	if len(e.NotExecutable) > 0 {
		fmt.Fprintf(&b, "None holds an executable %s%s, but %s is there and may not be executed: chmod +x %s.", PluginPrefix, e.Name,
			strings.Join(e.NotExecutable, " and "), e.NotExecutable[0])
		return b.String()
	}
	fmt.Fprintf(&b, "None holds an executable %s%s. Install the plugin in one of them (or in a directory named by $FANOUT_PLUGIN_PATH), or check the transport's name.", PluginPrefix, e.Name)
	return b.String()
}

func (e *PluginNotFoundError) Error() string {
	places := append([]string{}, e.SearchPath...)
	if len(e.SystemPath) > 0 {
		places = append(places, "$PATH ("+strings.Join(e.SystemPath, ", ")+")")
	} else {
		places = append(places, "$PATH (empty)")
	}
	return fmt.Sprintf("no plugin binary %s%s in %s", PluginPrefix, e.Name, strings.Join(places, ", "))
}

// ChecksumMismatchError is the error of a third-party plugin binary whose
// SHA-256 is not the one the configuration expects; it was not started.
type ChecksumMismatchError struct {
	Name, Path string
	// Want is the expected checksum and Got the binary's, in lower-case
	// hexadecimal; Got is empty when the binary could not be read.
	Want, Got string
	// LockFile is the lock file Want comes from; empty when it comes from
	// the transport block's sha256.
	LockFile string
}

// Summary and Detail explain the error in a diagnostic (core.LaunchError).
func (e *ChecksumMismatchError) Summary() string {
	return fmt.Sprintf("Plugin of transport %q does not match its checksum", e.Name)
}

// Detail names both checksums and where the expected one comes from.
func (e *ChecksumMismatchError) Detail() string {
	return fmt.Sprintf("fanout refused to start %s: %s.", e.Path, e)
}

func (e *ChecksumMismatchError) Error() string {
	got := e.Got
	if got == "" {
		got = "unknown (the file could not be read)"
	}
	if e.LockFile != "" {
		return fmt.Sprintf("plugin binary %s does not match the lock file %s: the binary's sha256 is %s, the lock file records %s; "+
			"if the new binary is trusted, run \"fanout plugins lock\" to record it", e.Path, e.LockFile, got, e.Want)
	}
	return fmt.Sprintf("plugin binary %s does not match the sha256 of its transport block: the binary's sha256 is %s, the block's is %s",
		e.Path, got, e.Want)
}

// LockError is the error of a third-party transport that the lock file
// does not record, or records with another checksum than the one its
// transport block pins.
type LockError struct {
	Name, Path, LockFile string
	// Pinned is the transport block's sha256 and Locked the lock file's,
	// when both are set and differ; both empty when the lock file does
	// not record the transport.
	Pinned, Locked string
}

// Summary and Detail explain the error in a diagnostic (core.LaunchError).
func (e *LockError) Summary() string {
	return fmt.Sprintf("Transport %q does not match the lock file", e.Name)
}

// Detail says how to make the lock file and the configuration agree.
func (e *LockError) Detail() string {
	return fmt.Sprintf("fanout refused to start %s: %s.", e.Path, e)
}

func (e *LockError) Error() string {
	if e.Pinned == "" {
		return fmt.Sprintf("the lock file %s does not record transport %q: run \"fanout plugins lock\" to record the checksum of %s",
			e.LockFile, e.Name, e.Path)
	}
	return fmt.Sprintf("the transport block pins sha256 %s, but the lock file %s records %s: "+
		"make them agree (\"fanout plugins lock\" records the binary's checksum once it matches the block)",
		e.Pinned, e.LockFile, e.Locked)
}

// protocolError is the error of a plugin that speaks another version of
// the transport protocol, explained for the operator.
type protocolError struct {
	name string
	err  error // wraps a *client.VersionError
}

func (e *protocolError) Error() string { return e.err.Error() }
func (e *protocolError) Unwrap() error { return e.err }

// Summary and Detail explain the error in a diagnostic (core.LaunchError).
func (e *protocolError) Summary() string {
	return fmt.Sprintf("Transport plugin %q speaks another protocol version", e.name)
}

// Detail names both sides' versions and what to upgrade.
func (e *protocolError) Detail() string {
	return fmt.Sprintf("fanout could not start the %q transport: %s.", e.name, e.err)
}

// mutualTLSError is the error of a plugin refused because it cannot
// authenticate its channel to fanout, explained for the operator.
type mutualTLSError struct {
	name string
	err  error // wraps client.ErrNoMutualTLS
}

func (e *mutualTLSError) Error() string { return e.err.Error() }
func (e *mutualTLSError) Unwrap() error { return e.err }

// Summary and Detail explain the error in a diagnostic (core.LaunchError).
func (e *mutualTLSError) Summary() string {
	return fmt.Sprintf("Transport plugin %q cannot authenticate its channel", e.name)
}

// Detail says why the plugin was refused and what would make it acceptable.
func (e *mutualTLSError) Detail() string {
	return fmt.Sprintf("fanout refused the %q transport: %s.", e.name, e.err)
}

// explain gives client.New's errors that an operator acts on a summary of
// their own.
func explain(name string, err error) error {
	var ve *client.VersionError
	switch {
	case errors.As(err, &ve):
		return &protocolError{name: name, err: err}
	case errors.Is(err, client.ErrNoMutualTLS):
		return &mutualTLSError{name: name, err: err}
	}
	return err
}

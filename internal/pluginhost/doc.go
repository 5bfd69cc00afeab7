// Package pluginhost finds, verifies and starts fanout's transport
// plugins: the built-ins, served by the fanout binary re-executed, and
// third-party binaries named fanout-transport-NAME found on a search path;
// it checks the latter against the sha256 their transport block pins and
// against the configuration's lock file (.fanout.lock.hcl), which it reads
// and writes.
//
// Every plugin starts through Launcher.Start, which starts the process
// with sdk/client in a process group of its own, over a channel of mutual
// TLS, with its socket in a directory of the launcher's that only the
// operator can enter (removed by Launcher.Close; those of runs that died
// are removed by the next). The core consumes what
// this package starts only as sdk.Transport values, through core.Launcher,
// which cmd/fanout adapts a Launcher to; its errors explain themselves to
// the operator through the Summary and Detail methods core.LaunchError
// asks for.
//
// The package reads no environment and no flags: the CLI passes the
// search path ($FANOUT_PLUGIN_PATH, $PATH) and the binary to re-execute.
package pluginhost

// Package sshtest runs a fleet of real SSH servers for tests: N sshd
// processes on loopback addresses 127.0.0.x, each a "host" with its own
// generated ed25519 host key, its own port and its own log file; a real
// ssh-agent holding a generated client key that every host authorizes; and a
// known_hosts file that lists the fleet.
//
// Everything lives in a temporary directory of the test and is torn down by
// t.Cleanup: every process the fleet started, and every process started on a
// host (sshd children, remote commands), is killed and, where it is ours,
// waited for. sshd's own processes are found as descendants of the listener
// the fleet started, sessions' processes by an environment token that sshd
// sets in every session (SetEnv), so nothing outside the fleet is touched.
//
// Hosts run OpenSSH's sshd by default, or Debian's dropbear
// (Options.Server), the same way: for tests of what differs between SSH
// servers. The client key is ed25519 or RSA (Options.ClientKeyType), and
// sshd takes extra configuration lines (Options.SSHDConfig), for servers
// with hardening settings.
//
// The package needs /usr/sbin/sshd and /usr/bin/ssh-agent (Debian's
// openssh-server and openssh-client), and for dropbear hosts
// /usr/sbin/dropbear and dropbearconvert (dropbear-bin), unshare and root.
// When what a fleet needs is missing, Start fails the test, unless
// FANOUT_SKIP_SSHD=1 is set, in which case it skips it. It addresses only
// 127.0.0.0/8.
//
// It does not emulate anything: what a test sees is what OpenSSH does.
package sshtest

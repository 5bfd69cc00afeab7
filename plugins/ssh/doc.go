// Package ssh is fanout's default transport: it runs commands on hosts over
// SSH with golang.org/x/crypto/ssh, as an sdk.Transport served out of
// process.
//
// What it does, per host and for the whole run:
//
//   - one SSH connection per host, dialled once (concurrent Connects share
//     the dial), kept alive with keepalive@openssh.com, carrying at most
//     max_sessions commands at once as sessions; at most max_connects dials
//     are in flight across all hosts;
//   - authentication with the keys of the ssh-agent (agent_socket,
//     IdentityAgent or SSH_AUTH_SOCK) and identity files (identity_file,
//     IdentityFile, or OpenSSH's default ~/.ssh/id_*), in ssh's order
//     (the agent's copies of the files' keys first; IdentitiesOnly leaves
//     out the agent's other keys), a key's certificate (FILE-cert.pub or
//     CertificateFile) before it; an encrypted one whose key is not in
//     the agent is unlocked with its passphrase, which Connect asks the
//     core for as a Prompt (the plugin never reads a terminal; fanout asks
//     once per key, before any task);
//   - host keys checked against known_hosts files with
//     x/crypto/ssh/knownhosts (the known_hosts setting's, then ssh's:
//     UserKnownHostsFile and GlobalKnownHostsFile, or their defaults):
//     "strict" refuses unknown keys, "accept-new" records them (once,
//     under a file lock); a changed key is always refused. There is no way
//     to turn checking off;
//   - ~/.ssh/config, then /etc/ssh/ssh_config (HostName, User, Port,
//     IdentityFile, CertificateFile, IdentitiesOnly, IdentityAgent,
//     ProxyJump, ProxyCommand (see proxyConn), UserKnownHostsFile,
//     GlobalKnownHostsFile, StrictHostKeyChecking, HostKeyAlias,
//     ConnectTimeout, ServerAliveInterval, ServerAliveCountMax,
//     ForwardAgent, and the algorithm lists of
//     algorithms.go; Host and Match blocks: see sshconfig.go), with HCL
//     settings taking precedence; ProxyJump hosts are dialled once and
//     shared by every host behind them;
//   - each command runs under /bin/sh with an empty stdin, or the bytes of
//     ExecRequest.Stdin (at most 1 MiB, sent in the script the shell reads,
//     never on a command line or in a file), its environment exported in
//     front of it, and a small watcher that kills its process group if the
//     session goes away while it runs (see exec.go); with raw, as it is,
//     run by the login shell or a device's own command line, without
//     them (see raw.go).
//
// It does not read a terminal, and does not support password or
// keyboard-interactive authentication. The agent is forwarded to commands
// only when forward_agent or ForwardAgent asks.
package ssh

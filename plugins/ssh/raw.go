package ssh

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/sdk"
)

// execRaw runs req on a raw host (raw = true): each command is the exec
// request itself, run by the login shell, or by the device's own command
// line where there is no shell (a switch, a router, an appliance), as
// `ssh HOST CMD`, pdsh and Ansible's raw module run it. What watchScript
// gives is given up there, and said in docs/security.md:
//
//   - the command is the login shell's, not /bin/sh's;
//   - env: the FANOUT_* variables go as SSH "env" requests, without a
//     reply (no round trip), which a server takes only when its AcceptEnv
//     names them; a task's own env is refused, rather than silently lost;
//   - stdin (a sudo password) is the channel's, then end of file, as ssh
//     gives a command its stdin;
//   - a command list runs one session per command, stopping at the first
//     that fails, with the task's timeout over all of them;
//   - signals, the timeout's TERM and KILL among them, are SSH "signal"
//     requests: OpenSSH (7.9 and later) sends them to the session's
//     process group, but refuses them for root logins on some builds
//     (Debian 12's 9.2), and dropbear signals the shell alone. A refused
//     signal ends terminate's wait at once: the connection is closed, as
//     ssh's own end does when interrupted, and the command may go on
//     running, as it does when the connection drops (nothing on the host
//     watches for that), which a line on its stderr says.
func (c *hostConn) execRaw(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput, ex *execution) (*sdk.ExecResponse, error) {
	env, err := rawEnv(req.Env)
	if err != nil {
		return nil, err
	}
	commands := req.Commands
	if len(commands) == 0 {
		commands = []string{req.Command}
	}
	var deadline time.Time
	if req.Timeout > 0 {
		deadline = time.Now().Add(req.Timeout)
	}
	var resp *sdk.ExecResponse
	for i, command := range commands {
		r := sessionRun{
			command:    command,
			input:      req.Stdin,
			closeInput: true,
			signals:    rawSignal,
			env:        env,
		}
		if !deadline.IsZero() {
			if r.timeout = time.Until(deadline); r.timeout <= 0 {
				return &sdk.ExecResponse{ExitCode: -1, TimedOut: true, Command: i}, nil
			}
		}
		resp, err = c.run(ctx, ex, out, r)
		if resp != nil && len(req.Commands) > 0 {
			resp.Command = i
		}
		if err != nil || resp == nil || resp.ExitCode != 0 || resp.Signal != "" || resp.TimedOut {
			break
		}
	}
	return resp, err
}

// rawEnv returns the payloads of a raw command's "env" requests: the
// FANOUT_* variables, by name. Any other is an error: a raw host has no
// shell of fanout's to export it, and its server would most likely
// refuse it.
func rawEnv(env map[string]string) ([][]byte, error) {
	var reqs [][]byte
	var refused []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !strings.HasPrefix(k, "FANOUT_") {
			refused = append(refused, k)
			continue
		}
		reqs = append(reqs, ssh.Marshal(struct{ Name, Value string }{k, env[k]}))
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("raw = true: its commands run as they are, with no shell of fanout's to set env %s; set them in the command (VAR=value cmd), or remove raw", strings.Join(refused, ", "))
	}
	return reqs, nil
}

// rawSignal returns the delivery of a signal to a raw command: an SSH
// "signal" request (RFC 4254 section 6.9). A server that refuses it says
// so, which ends terminate's waiting at once (session.unsignalled).
func rawSignal(sess *session) func(ssh.Signal) {
	return func(sig ssh.Signal) {
		ok, err := sess.ch.SendRequest("signal", true, ssh.Marshal(struct{ Signal string }{string(sig)}))
		if err == nil && !ok {
			sess.unsignalledOnce.Do(func() { close(sess.unsignalled) })
		}
	}
}

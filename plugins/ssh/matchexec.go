package ssh

import (
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// `Match exec COMMAND` in ssh_config, as ssh runs it (readconf.c): its
// tokens replaced, COMMAND is run by the user's shell ($SHELL, else
// /bin/sh) with stdin and stdout on /dev/null, and the criterion holds
// when it exits 0. As in ssh, it is not run once an earlier criterion of
// its line has failed. Unlike ssh, fanout resolves many hosts: a command
// (after its tokens) is run once per run and its answer kept, at most
// matchExecParallel at a time, and one still running after
// matchExecTimeout does not match (ssh would wait for ever).

// matchExecParallel bounds the Match exec commands running at once.
const matchExecParallel = 8

// matchExecTimeout bounds one Match exec command.
const matchExecTimeout = 30 * time.Second

// matchExecs are the answers of the Match exec commands run so far.
type matchExecs struct {
	// shell runs the commands; "": $SHELL, else /bin/sh.
	shell string

	mu    sync.Mutex
	byCmd map[string]*matchExecResult
	slots chan struct{}
}

type matchExecResult struct {
	once sync.Once
	ok   bool
}

// run returns whether command exits 0, running it once.
func (m *matchExecs) run(command string) (ok, ran bool) {
	m.mu.Lock()
	if m.byCmd == nil {
		m.byCmd = map[string]*matchExecResult{}
		m.slots = make(chan struct{}, matchExecParallel)
	}
	r := m.byCmd[command]
	if r == nil {
		r = &matchExecResult{}
		m.byCmd[command] = r
	}
	slots := m.slots
	m.mu.Unlock()
	r.once.Do(func() {
		ran = true
		slots <- struct{}{}
		defer func() { <-slots }()
		shell := cmp.Or(m.shell, os.Getenv("SHELL"), "/bin/sh")
		ctx, cancel := context.WithTimeout(context.Background(), matchExecTimeout)
		defer cancel()
		// Stdin, stdout and stderr are /dev/null: the plugin's own are its
		// channel to fanout.
		r.ok = exec.CommandContext(ctx, shell, "-c", command).Run() == nil
	})
	return r.ok, ran
}

// expandMatchExec replaces the tokens of a Match exec command as ssh
// does: %h the host name so far, %n the name given, %p the port so far,
// %r the login user so far, %u the local user, %d its home, %i its uid,
// %l and %L this machine's name and its first label, %k HostKeyAlias so
// far, else %h, %C the hash of %l%h%p%r, %% a %.
func (e *evaluation) expandMatchExec(command string) string {
	host := e.host()
	port := cmp.Or(e.o.port, "22")
	user := cmp.Or(e.o.user, e.localUser)
	return percentExpand(command, func(c byte) (string, bool) {
		switch c {
		case 'h':
			return host, true
		case 'n':
			return e.alias, true
		case 'p':
			return port, true
		case 'r':
			return user, true
		case 'u':
			return e.localUser, true
		case 'd':
			return e.c.home, true
		}
		return localToken(c, host, port, user, e.o.hostKeyAlias)
	})
}

// localToken is the value of the ssh_config tokens of this machine and
// the connection's identity: %i the local uid, %l and %L this machine's
// name and its first label, %k the HostKeyAlias, else the host name, %C
// the hash of %l%h%p%r.
func localToken(c byte, host, port, user, keyAlias string) (string, bool) {
	switch c {
	case 'i':
		return strconv.Itoa(os.Getuid()), true
	case 'l':
		local, _ := os.Hostname()
		return local, true
	case 'L':
		local, _ := os.Hostname()
		short, _, _ := strings.Cut(local, ".")
		return short, true
	case 'k':
		return cmp.Or(keyAlias, host), true
	case 'C':
		local, _ := os.Hostname()
		sum := sha1.Sum([]byte(local + host + port + user))
		return hex.EncodeToString(sum[:]), true
	}
	return "", false
}

package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/fanout/fanout/internal/shellquote"
	"github.com/fanout/fanout/sdk"
)

// Grace periods when stopping a command: after TERM, how long it may take
// to exit before KILL; after KILL and the watcher's kill, how long before
// the session is closed regardless.
const (
	termGrace = 2 * time.Second
	killGrace = 2 * time.Second
)

// outputGrace is how long Exec waits, once the command has exited, for
// the end of its output, which processes it left in the background may
// hold: past it, Exec returns and their further output is lost, rather
// than have a daemon started by a task hold the task for ever. The local
// transport waits as long.
const outputGrace = time.Second

// wrapperStart bounds how long a session may take to start fanout's
// wrapper (its first mark, see progress.ran): a login shell's startup file
// that execs another shell (`exec zsh` in a .bashrc) reads the script as
// its own input and waits for more, which never comes: the Exec hung until
// its timeout, or for ever. A variable, for tests.
var wrapperStart = time.Minute

// How a command is run on the host.
//
// The login shell (sshd runs `$SHELL -c STRING`) only executes
//
//	exec /bin/sh -c 'eval "$1"' sh WATCH
//
// so the command always runs under /bin/sh, whatever the login shell, and
// the string the login shell parses is three single-quoted words, the same
// for every command: nothing of the command, its environment or its
// arguments is on a command line, where every user of the host sees it in
// ps(1).
//
// The command comes on the session's stdin instead, as the first lines
// WATCH reads there: a line "fanout", SCRIPT (see script), each of its
// lines sent after a "|", then a line "." that ends it. A startup file of
// the login shell that reads stdin (`read` in a .bashrc) takes the first
// line: WATCH then runs nothing and exits 126, where running the rest
// would have lost an export. SCRIPT first prints a mark on stdout (see
// progress.ran), after whatever the login shell printed (a greeting):
// without it something else ran in WATCH's place (a ForceCommand, an
// authorized_keys command=, a restricted or nologin shell), and Exec
// fails, whatever that exited. SCRIPT then exports the environment
// (`export K='v'` for every variable) and evals the command in that same
// /bin/sh (the command sees $0 = sh and no arguments, so that the shell's
// own errors read "sh: 1: ...", as over ssh, not "fanout: 1: ...", which an
// operator took for fanout's): exec'ing a
// second /bin/sh -c for it cost the host 1.4 ms of CPU per command, more
// than a third of what running `true` over SSH costs it. WATCH runs
// nothing unless it read the whole of SCRIPT. Session.Setenv is not used:
// OpenSSH refuses every name outside AcceptEnv (Debian accepts LANG and
// LC_* only), so FANOUT_* would not arrive, and trying costs a round trip
// per variable. The stdin lines follow the exec request without waiting
// for its reply (see session.start); OpenSSH still holds them a round
// trip, which a command list pays once for all its commands.
//
// A command list (ExecRequest.Commands) is one SCRIPT too, run by
// listScript in the same shell: one session, one exec request and one
// watcher for the whole list, where a session per command cost two round
// trips and a shell more for each.
//
// Stdin (ExecRequest.Stdin, a sudo password) is in SCRIPT too, never on a
// command line, in the environment or in a file: a line `d='FORMAT'`,
// FORMAT being a printf format that prints the bytes exactly (see
// printfFormat), and each command runs as the end of a pipeline
// `printf "$d" | (COMMAND)`, printf being the shell's builtin (SCRIPT
// checks that it is, or runs nothing), so that no process is exec'd with
// the bytes in its arguments. The rest of the session's stdin cannot be
// the command's: it is the watcher's control line, which must stay open
// while the command runs, and the shell cannot cut it at a byte count
// without an external program that reads exactly that many bytes and no
// more, which POSIX promises of none fast enough (`head -c` is not POSIX,
// and FreeBSD's reads ahead through stdio; `dd bs=1` makes a system call
// per byte). A command with stdin therefore runs as a
// command list of one (see listScript), in a subshell of the session's
// shell: its exit status comes from a marker as a list's does. The bytes
// are held whole by the host's shell (as SCRIPT is) and read by it a byte
// at a time (as sh reads any line from a pipe), which is why Exec refuses
// more than maxStdin of them.
//
// A process group of its own. Stopping a command means signalling its
// process group: the shell, the command and every child, `cmd &` ones too.
// OpenSSH makes each session's process a session leader, so it has its
// group; dropbear does not (the command shares the group of the server's
// process for the connection, and of every other session on it). So WATCH
// first asks whether a process group $$ exists (`kill -0 -$$`, a builtin:
// only the shell itself can have made one, so it is the leader), and only
// when it does not, or the shell's kill cannot say, reads its process
// group from /proc/$$/stat (dash reads that line a byte at a time: 0.17 ms
// of the host's CPU per command, which OpenSSH hosts no longer pay) and,
// when it is not the group's leader, re-executes itself under setsid(1),
// which makes the same process (no fork: the server still waits for this
// pid and sees its exit status and signal) the leader of a new session and
// group. Where there is
// no /proc (BSDs, whose servers are OpenSSH) nothing changes; where the
// process leads no group and there is no setsid, only the shell is ever
// signalled, never a group that is not the command's.
//
// Signals and killing. SSH's "signal" request is not used: OpenSSH
// delivers it with killpg() on the session's group, but Debian 12's 9.2
// refuses it for root logins ("session signalling requires privilege
// separation"), servers before 7.9 ignore it, dropbear sends it to the
// shell alone (whose children survive), and nothing is delivered when the
// connection breaks. So WATCH keeps a watcher beside the command, and the
// rest of the session's stdin (the SSH channel, otherwise unused) is its
// control line:
//
//   - WATCH moves stdin to fd 3, reads SCRIPT from it and gives the
//     command /dev/null: the command's stdin is empty, as the contract
//     wants, unless the request has Stdin, which SCRIPT holds (see
//     above);
//   - the watcher runs in the background in the command's process group,
//     started from a subshell that ends at once (`( { ... } & )`), so that
//     it is not a job of the shell that runs the command: a command's
//     `wait`, which waits for all of that shell's jobs, would otherwise
//     wait for the watcher, which ends only once the session has
//     (`sleep 1 & wait` hung until its timeout). The extra fork costs
//     the host 0.14 ms per command;
//   - it ignores the catchable signals it sends the group itself (all of
//     signals but KILL: one it did not ignore, SEGV say, would end it,
//     and a command that survives it could no longer be stopped), and
//     reads fd 3 line by line; each line is a signal name (from the fixed
//     list of signals, never user text) that it sends to the process
//     group;
//   - end of file on fd 3 while the command still runs means the session
//     or the connection went away without the command ending: the watcher
//     sends TERM to the process group, waits 2 s, then KILL;
//   - so does end of file after the watcher delivered INT, TERM, HUP,
//     QUIT or KILL: the command was stopped, and what it left behind goes
//     too (background jobs of sh ignore INT: `sleep 36 & wait` interrupted
//     by Ctrl-C left its sleep running);
//   - end of file after the command ended by itself (the server closes
//     stdin when the command exits, or the session when its output ends)
//     ends the watcher quietly, leaving alone any daemon the command meant
//     to start.
//
// WATCH is run by the test servers' /bin/sh (dash) and, without a
// server, by dash, bash and busybox's ash (TestWatchScriptShells).
//
// The login shell. sshd runs the exec request under the user's login shell
// (`SHELL -c REQUEST`), which need not be a POSIX one: the request is one
// `exec /bin/sh` with WATCH in single quotes, so WATCH holds no two
// backslashes in a row (fish reads them within single quotes as one) and no
// bare newline (tcsh refuses one within quotes: FreeBSD's root had tcsh).
// The newline SCRIPT's lines are joined with is written n='\<newline>',
// which tcsh reads as a newline and the others as a backslash and a
// newline; ${n#"${n%?}"} keeps the last character either way. Each login
// shell Debian has is run so in TestRemoteCommandLoginShells.
//
// A timeout, a cancelled ctx or Close send TERM, then KILL after
// termGrace, then close the session after killGrace. The command keeps its
// own exit status and signal: the session's process is the shell that
// runs it.
const watchScript = `p=0; if ! kill -0 -$$ 2>/dev/null && read -r _ _ _ _ g _ 2>/dev/null </proc/$$/stat && [ "$g" != $$ ]; then ` +
	`command -v setsid >/dev/null 2>&1 && exec setsid /bin/sh -c 'eval "$1"' sh "$1"; p=$$; fi; ` +
	`exec 3<&0 </dev/null; f=; n='\
'; n=${n#"${n%?}"}; IFS= read -r l <&3; [ "$l" = fanout ] || exit 126; ` +
	`while IFS= read -r l <&3; do case $l in "|"*) f="$f${l#?}$n";; *) break;; esac; done; [ "$l" = . ] || exit 126; ` +
	`( { trap '' HUP INT QUIT TERM USR1 USR2 ALRM PIPE ABRT FPE ILL SEGV; t=; ` +
	`while read -r s <&3; do kill -s "$s" $p; case $s in INT|TERM|HUP|QUIT|KILL) t=1;; esac; done; ` +
	`if [ -n "$t" ] || kill -0 $$; then kill -s TERM $p; sleep 2; kill -s KILL $p; fi; ` +
	`} >/dev/null 2>&1 & ); exec 3<&-; shift; unset p g l n; eval "$f"`

// remoteCommand is the string sent in the SSH "exec" request: the same for
// every command, which comes on stdin (see input).
var remoteCommand = `exec /bin/sh -c 'eval "$1"' sh ` + shellquote.Quote(watchScript)

// script is what WATCH evals for req: the environment's exports, then the
// command, or listScript running the command list (or the command with
// stdin: see watchScript) with markers that carry nonce.
func script(req *sdk.ExecRequest, nonce string) string {
	var b strings.Builder
	b.WriteString(ranMarker(nonce))
	b.WriteByte('\n')
	for _, k := range slices.Sorted(maps.Keys(req.Env)) {
		b.WriteString("export ")
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(shellquote.Quote(req.Env[k]))
		b.WriteByte('\n')
	}
	// f holds this script; the command must not see it, nor the list.
	b.WriteString("unset f\n")
	commands := req.Commands
	if req.Stdin != nil {
		b.WriteString(builtinPrintf)
		b.WriteString("d=")
		b.WriteString(shellquote.Quote(printfFormat(req.Stdin)))
		b.WriteByte('\n')
		if len(commands) == 0 {
			commands = []string{req.Command}
		}
	} else if len(commands) == 0 {
		b.WriteString("eval ")
		b.WriteString(shellquote.Quote(req.Command))
		return b.String()
	}
	b.WriteString("set --")
	for _, c := range commands {
		b.WriteByte(' ')
		b.WriteString(shellquote.Quote(c))
	}
	b.WriteByte('\n')
	b.WriteString(listScript(nonce, req.Stdin != nil))
	return b.String()
}

// builtinPrintf makes SCRIPT run nothing, exiting 126, unless printf is a
// builtin of the host's /bin/sh (it is in dash, bash, busybox ash, ksh and
// zsh; not in mksh, say): one that is not would be exec'd with the
// command's stdin in its arguments. With no PATH to search, only a
// builtin runs.
const builtinPrintf = `PATH=/dev/null printf '' 2>/dev/null || { echo "fanout: /bin/sh on this host has no builtin printf, which passing stdin to a command needs" >&2; exit 126; }
`

// maxStdin is the most ExecRequest.Stdin Exec takes: the host's shell
// holds it whole, up to four times its size once encoded, and reads it a
// byte at a time (0.3 s a MiB of text, 1.2 s of binary bytes, on the
// test machine). fanout sends a sudo password, far below it.
const maxStdin = 1 << 20

// printfFormat returns a format with no conversion, for the shell's
// printf, that prints b exactly: printable ASCII as it is, every other
// byte (and ', \ and %) as a three-digit octal escape. The format is then
// one line of printable ASCII whatever b holds (NUL, newlines, bytes that
// are not text in the host's locale), and a word between single quotes.
func printfFormat(b []byte) string {
	var f strings.Builder
	f.Grow(len(b))
	for _, c := range b {
		switch {
		case c < ' ' || c > '~' || c == '\'' || c == '\\' || c == '%':
			f.WriteByte('\\')
			f.WriteByte('0' + c>>6)
			f.WriteByte('0' + c>>3&7)
			f.WriteByte('0' + c&7)
		default:
			f.WriteByte(c)
		}
	}
	return f.String()
}

// listScript returns the script that runs the command list in "$@" as a
// list of `sh -c` would run: one after another, each in a shell of its
// own (a subshell: `cd`, `exit` or a variable in one do not reach the
// next), stopping at the first that does not exit 0. After a failing one
// the session's shell exits with its status, or, when the subshell was
// killed by a signal (status 128+N), kills itself with that signal, so
// that the server reports it as the command's, under the host's own name
// for it. That shell's stderr is /dev/null but in the commands: what it
// says of a subshell killed by a signal ("Terminated") the shell of a
// lone command would not say.
//
// Without stdin, the last command, or the one that fails, decides how
// the session's shell ends: the last is eval'd in that shell itself, as a
// lone command is. With stdin (feed), every command reads its own copy of
// the bytes in $d (see watchScript), as each `sh -c` of the list would
// read the same stdin, so every one, the last too, runs in a subshell at
// the end of a pipeline from the builtin printf.
//
// Markers on stdout, which Exec removes from the output (see progress),
// say how far it went: "s I" as command I starts (I > 0), "e I S" when
// command I (not the last, unless feed) exits by itself with status S,
// printed by its EXIT trap: a status of 128+N then still reads as an exit
// status, not a signal. Each begins with \037fanout:NONCE:, NONCE being
// random for each Exec, so no output can be taken for one.
func listScript(nonce string, feed bool) string {
	if feed {
		return strings.ReplaceAll(listFeedScript, "NONCE", nonce)
	}
	return strings.ReplaceAll(listPlainScript, "NONCE", nonce)
}

// listPlainScript and listFeedScript are listScript's without and with
// stdin, but for NONCE: made once, not for each Exec.
var (
	listPlainScript = strings.NewReplacer("LAST", "1", "FEED", "").Replace(listLoop + listTail)
	listFeedScript  = strings.NewReplacer("LAST", "0", "FEED", `printf "$d" | `).Replace(listLoop)
)

// listLoop and listTail are listScript's, FEED, LAST and NONCE replaced.
const (
	listLoop = `i=0; exec 4>&2 2>/dev/null
while [ $# -gt LAST ]; do
if [ $i -gt 0 ]; then printf '\037fanout:NONCE:s %d\n' $i; fi
FEED(exec 2>&4 4>&-; trap "printf '\\037fanout:NONCE:e %d %d\\n' $i \$?" EXIT; c=$1; shift $#; unset i d; eval "unset c; $c")
s=$?
if [ $s -ne 0 ]; then if [ $s -gt 128 ]; then kill -$((s-128)) $$ 2>/dev/null; fi; exit $s; fi
i=$((i+1)); shift
done`
	listTail = `
printf '\037fanout:NONCE:s %d\n' $i
exec 2>&4 4>&-; c=$1; shift; unset i s; eval "unset c; $c"`
)

// input is what Exec writes on the session's stdin before anything else:
// a line "fanout", script's lines, each after a "|", then "." (see
// watchScript).
func input(script string) []byte {
	var b bytes.Buffer
	b.WriteString("fanout\n")
	for line := range strings.SplitSeq(script, "\n") {
		b.WriteByte('|')
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteString(".\n")
	return b.Bytes()
}

// validEnvName reports whether name can be exported by sh.
func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// signals are the signals Signal delivers, by the name sdk.SignalName
// gives them: RFC 4254's list (section 6.10). It is a choice of signals,
// not a table of names (sdk.SignalNum and sdk.SignalName are that): the
// watcher forwards a signal with the remote shell's `kill -s NAME`, which
// would take any name it knows, but
//
//   - the watcher shares the command's process group, so it receives what
//     it sends: it ignores each of these (KILL aside, which ends the
//     command anyway), while STOP would stop it with the command, leaving
//     nothing to deliver CONT, TERM or KILL, and any signal it does not
//     ignore would end it, and with it the clean-up it does when the
//     connection drops;
//   - the names must mean the same on the host, whose system may not be
//     the plugin's: these are POSIX's.
var signals = map[string]ssh.Signal{
	"ABRT": ssh.SIGABRT, "ALRM": ssh.SIGALRM, "FPE": ssh.SIGFPE, "HUP": ssh.SIGHUP,
	"ILL": ssh.SIGILL, "INT": ssh.SIGINT, "KILL": ssh.SIGKILL, "PIPE": ssh.SIGPIPE,
	"QUIT": ssh.SIGQUIT, "SEGV": ssh.SIGSEGV, "TERM": ssh.SIGTERM, "USR1": ssh.SIGUSR1,
	"USR2": ssh.SIGUSR2,
}

// parseSignal returns the signal name names, if Signal delivers it. name
// is read as the local transport reads it: "TERM", "SIGTERM" and "term"
// are the same signal, named by sdk.SignalNum and sdk.SignalName where the
// system has signal names.
func parseSignal(name string) (ssh.Signal, bool) {
	n := strings.TrimPrefix(strings.ToUpper(name), "SIG")
	if num, ok := sdk.SignalNum(n); ok {
		n = sdk.SignalName(num)
	}
	sig, ok := signals[n]
	return sig, ok
}

// execution is an Exec in progress, found by Signal through its ID.
type execution struct {
	// abort is closed by Close: stop the command now.
	abort     chan struct{}
	abortOnce sync.Once

	mu sync.Mutex // guards the fields below
	// send delivers a signal to the running command: a line on the
	// watcher's control line (the session's stdin), or a raw session's
	// SSH signal request; set while a command runs.
	send  func(ssh.Signal)
	early ssh.Signal // a terminating signal that came before the start
}

func newExecution() *execution { return &execution{abort: make(chan struct{})} }

func (e *execution) stop() { e.abortOnce.Do(func() { close(e.abort) }) }

// signal delivers sig to the command (Signal's, or terminate's own TERM
// and KILL), or remembers a terminating one that came before the command
// could get it (its input still waiting for the server's window, or
// between two commands of a raw list): it is delivered as it can be, or
// no command starts. Other signals then do nothing.
func (e *execution) signal(sig ssh.Signal) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.send == nil {
		switch sig {
		case ssh.SIGTERM, ssh.SIGINT, ssh.SIGHUP, ssh.SIGQUIT, ssh.SIGKILL:
			e.early = sig
		}
		return
	}
	e.send(sig)
}

// pendingSignal returns a terminating signal that came before the start.
func (e *execution) pendingSignal() ssh.Signal {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.early
}

// start records how signals reach the running command and delivers a
// terminating signal that came before it, if any. e.mu serialises the
// deliveries (the watcher's lines).
func (e *execution) start(send func(ssh.Signal)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.send = send
	if e.early != "" {
		send(e.early)
	}
}

// finish marks the command over; Signal then only remembers a terminating
// signal, for a raw list's next command.
func (e *execution) finish() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.send = nil
}

// watcherSignal returns the delivery of a signal to the watcher of sess:
// its name, a line on the control line (see watchScript). An error means
// the session is over: nothing to signal.
func watcherSignal(sess *session) func(ssh.Signal) {
	return func(sig ssh.Signal) { _, _ = io.WriteString(sess.ch, string(sig)+"\n") }
}

// exec runs req on the connection: it waits for a session slot, runs the
// command, streams its output and returns how it ended.
func (c *hostConn) exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput, ex *execution) (*sdk.ExecResponse, error) {
	if c.raw {
		return c.execRaw(ctx, req, out, ex)
	}
	p, nonce := newProgress()
	p.plain = len(req.Commands) == 0 && req.Stdin == nil
	resp, err := c.run(ctx, ex, out, sessionRun{
		command: remoteCommand,
		input:   input(script(req, nonce)),
		timeout: req.Timeout,
		signals: watcherSignal,
		markers: p,
	})
	return listed(resp, p), err
}

// sessionRun is what run runs in one session.
type sessionRun struct {
	command string   // the exec request's
	env     [][]byte // "env" requests' payloads, sent before it, without a reply
	input   []byte   // written on stdin after the request
	// closeInput ends stdin once input is written; without it, stdin
	// stays open for signals (the watcher's control line).
	closeInput bool
	timeout    time.Duration
	// signals returns how the session's command gets a signal.
	signals func(*session) func(ssh.Signal)
	// markers, when not nil, reads the script's markers out of stdout
	// (see progress).
	markers *progress
}

// run runs r in a session of its own, once a session slot is free, and
// returns how its command ended.
func (c *hostConn) run(ctx context.Context, ex *execution, out sdk.ExecOutput, r sessionRun) (*sdk.ExecResponse, error) {
	out = out.OrDiscard()
	if err := c.acquire(ctx, ex.abort); err != nil {
		return nil, err
	}
	if sig := ex.pendingSignal(); sig != "" {
		c.release()
		return &sdk.ExecResponse{ExitCode: -1, Signal: string(sig)}, nil
	}
	sess, err := c.newSession(ctx, ex.abort)
	if err != nil {
		return nil, err
	}
	// Deferred in this order, the slot is released after the session has
	// ended (the server's channel close has arrived) and its output has
	// been delivered, and signals stop going to it after that, once
	// nothing can set them going there (start's written).
	defer ex.finish()
	defer c.endSession(sess)
	sess.progress = r.markers
	// As ssh -A asks, without a reply: the server handles the session's
	// requests in order, so the command finds the agent.
	if c.forwardAgent {
		if _, err := sess.ch.SendRequest("auth-agent-req@openssh.com", false, nil); err != nil {
			if c.endedBy(err) {
				return nil, c.lost()
			}
			return nil, fmt.Errorf("forward the agent to %s: %w", c.addr, err)
		}
	}
	for _, e := range r.env {
		if _, err := sess.ch.SendRequest("env", false, e); err != nil {
			if c.endedBy(err) {
				return nil, c.lost()
			}
			return nil, fmt.Errorf("send env to %s: %w", c.addr, err)
		}
	}
	// Signals go to the command once its input is written: for the
	// watcher, whose control line is the rest of stdin (see
	// watchScript), only then can they.
	written := func() {
		ex.start(r.signals(sess))
		if r.closeInput {
			_ = sess.ch.CloseWrite()
		}
	}
	if err := sess.start(r.command, r.input, out, written); err != nil {
		if c.endedBy(err) {
			return nil, c.lost()
		}
		return nil, fmt.Errorf("start command on %s: %w", c.addr, err)
	}

	var timeout <-chan time.Time
	if r.timeout > 0 {
		timer := time.NewTimer(r.timeout)
		defer timer.Stop()
		timeout = timer.C
	}
	var (
		timedOut bool
		cause    error
		cutOff   string // why the command may still run (see terminate)
		// ran is closed at the wrapper's mark; startDeadline fires when
		// it has not come within wrapperStart, and notStarted says so.
		ran           <-chan struct{}
		startDeadline <-chan time.Time
		notStarted    bool
	)
	if r.markers != nil {
		ran = r.markers.started()
		timer := time.NewTimer(wrapperStart)
		defer timer.Stop()
		startDeadline = timer.C
	}
	for {
		select {
		case <-ran:
			ran, startDeadline = nil, nil
			continue
		case <-startDeadline:
			// Nothing of fanout's runs there to signal: what reads the
			// session's input ends with it.
			notStarted = true
			_ = sess.ch.Close()
		case <-sess.exited:
		case <-sess.closed:
		case <-sess.refused:
			return nil, fmt.Errorf("start command on %s: the server refused the exec request", c.addr)
		case <-timeout:
			timedOut = true
			cutOff = c.terminate(ex, sess)
		case <-ctx.Done():
			cause = ctx.Err()
			cutOff = c.terminate(ex, sess)
		case <-ex.abort:
			cause = ErrClosed
			cutOff = c.terminate(ex, sess)
		case <-sess.failed:
			// Nobody reads the output any more: the command must not go on
			// unwatched.
			cause = fmt.Errorf("write output: %w", sess.writeFailure())
			cutOff = c.terminate(ex, sess)
		}
		break
	}
	c.awaitOutput(ctx, ex, sess)
	// The output, and with it a command list's markers, is all in.
	sess.end()
	if notStarted {
		return nil, c.wrapperNotRun(fmt.Sprintf("had not started it after %s", wrapperStart))
	}
	if cutOff != "" {
		// Where the operator reads the command's end, and the journal
		// keeps its last lines: nothing else would say it may still run.
		_, _ = fmt.Fprintf(out.Stderr, "fanout: %s: its connection was closed, and the command may still run there\n", cutOff)
	}

	resp, err := c.exitResponse(sess)
	if cause == nil && !timedOut && err == nil && r.markers != nil && !r.markers.ran {
		return nil, c.wrapperNotRun(ended(resp) + " before it started")
	}
	if cause == nil && err == nil {
		if werr := sess.writeFailure(); werr != nil {
			return resp, fmt.Errorf("output of the command on %s: write: %w", c.addr, werr)
		}
	}
	if timedOut || cause != nil {
		// Stopped by us: how it ended is known or does not matter.
		if resp == nil {
			resp = &sdk.ExecResponse{ExitCode: -1}
		}
		resp.TimedOut = timedOut
		if cause != nil {
			return resp, fmt.Errorf("command stopped: %w", cause)
		}
		if c.cutOff() {
			// The connection was ours to close (see terminate).
			err = nil
		}
	}
	return resp, err
}

// listed completes resp, how a command list's session ended, with which
// command ended it and, when that one exited by itself, its own status
// (the shell's may be a signal it raised for a status above 128: see
// listScript). It returns resp as it is for a lone command.
func listed(resp *sdk.ExecResponse, p *progress) *sdk.ExecResponse {
	if resp == nil || p == nil {
		return resp
	}
	resp.Command = p.current
	if p.exited == p.current {
		resp.ExitCode, resp.Signal = p.status, ""
	}
	return resp
}

// awaitOutput waits, once the command has ended, for the end of its
// output: the server's close of the channel, which follows the exit status
// at once unless a child the command left in the background holds its
// stdout or stderr (`sleep 30 & echo x`). That child may run for ever, so
// the wait is bounded by outputGrace, as in the local transport; the
// session is then closed (endSession), and the server closes its end of
// the child's output, which the child keeps running without. A cancelled
// ctx, Close or a failed output write end the wait early.
func (c *hostConn) awaitOutput(ctx context.Context, ex *execution, sess *session) {
	select {
	case <-sess.closed:
		return
	default:
	}
	timer := time.NewTimer(outputGrace)
	defer timer.Stop()
	select {
	case <-sess.closed:
	case <-timer.C:
		c.logger.Debug("the command has exited, something it left running holds its output: closing its session", "after", outputGrace)
	case <-ctx.Done():
	case <-ex.abort:
	case <-sess.failed:
	}
}

// terminate stops a running command: TERM, then after termGrace KILL,
// then after killGrace the session is closed, which also makes a watcher
// still there clean up. It returns once the command has ended or its
// session has been closed: "", or, when the connection had to be closed
// with the command maybe still running, why.
func (c *hostConn) terminate(ex *execution, sess *session) string {
	ex.signal(ssh.SIGTERM)
	if sess.waitExit(termGrace) {
		return ""
	}
	ex.signal(ssh.SIGKILL)
	if sess.waitExit(killGrace) {
		return ""
	}
	c.logger.Warn("command did not end after KILL; closing its session")
	_ = sess.ch.Close()
	// A server keeps the session of a command still running: OpenSSH
	// until it exits. Past a grace (none when the server refused the
	// signals: a raw command that nothing on the host watches), the
	// connection is closed, as ssh's own end does when interrupted; the
	// command may go on running there.
	grace, why := killGrace, fmt.Sprintf("the command did not stop after TERM and KILL on %s", c.name)
	select {
	case <-sess.unsignalled:
		grace, why = 0, fmt.Sprintf("%s refused the signal (raw = true sends SSH signal requests, which OpenSSH refuses for root logins)", c.name)
	default:
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-sess.closed:
		return ""
	case <-timer.C:
		c.logger.Warn("the server keeps the session of a command that did not stop: closing the connection; the command may still run on the host")
		c.fail(errUnstoppable)
		<-sess.closed
		return why
	}
}

// cutOff reports whether terminate closed the connection.
func (c *hostConn) cutOff() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err == errUnstoppable
}

// errUnstoppable is why a connection was closed to stop waiting for a
// command that would not stop (see terminate).
var errUnstoppable = errors.New("closed by fanout: a command there did not stop when signalled, and may still run")

// exitResponse returns how the command of sess ended, or an error when
// that is unknown: a session that ended without an exit status because
// the connection did, or a server that did not send one.
func (c *hostConn) exitResponse(sess *session) (*sdk.ExecResponse, error) {
	status, signal, ok := sess.result()
	switch {
	case ok && signal != "":
		return &sdk.ExecResponse{ExitCode: -1, Signal: signal}, nil
	case ok:
		return &sdk.ExecResponse{ExitCode: status}, nil
	case c.endedSoon():
		return nil, c.lost()
	default:
		return nil, fmt.Errorf("the command on %s ended without reporting an exit status", c.addr)
	}
}

// wrapperNotRun is the error of a session without the mark fanout's
// script prints before it runs anything (see progress.ran), how saying
// what the session did instead: the host ran something else, and never
// the command. Its exit status is not the command's: reading exit 1 as a
// false only_if skipped a task where it should have failed, and a forced
// command's exit 0 passed for a success.
func (c *hostConn) wrapperNotRun(how string) error {
	return fmt.Errorf("fanout's command wrapper did not run on %s (the session %s; its output, if any, is above): "+
		"the host ran something else, and not the command. sshd's ForceCommand, an authorized_keys command=, "+
		"a restricted (rbash) or nologin login shell, or a shell startup file that reads its input or execs another shell do this; "+
		"raw = true sends commands as they are, as ssh does", c.addr, how)
}

// ended says how a session ended, as resp has it: "exited 1", "was killed
// by SIGTERM".
func ended(resp *sdk.ExecResponse) string {
	if resp.Signal != "" {
		return "was killed by SIG" + resp.Signal
	}
	return fmt.Sprintf("exited %d", resp.ExitCode)
}

// endedBy reports whether err, from a request on the connection, means
// the connection ended: x/crypto/ssh fails a request in flight with io.EOF
// the moment the transport closes, before the watcher may have recorded
// why, so an EOF waits for that as a missing exit status does.
func (c *hostConn) endedBy(err error) bool {
	if errors.Is(err, io.EOF) {
		return c.endedSoon()
	}
	return !c.alive()
}

// endedSoon reports whether the connection ends within a moment: a session
// that ended without an exit status usually means the connection broke,
// and the watcher may not have seen it yet.
func (c *hostConn) endedSoon() bool {
	select {
	case <-c.gone:
		return true
	case <-time.After(500 * time.Millisecond):
		return false
	}
}

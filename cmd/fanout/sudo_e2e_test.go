package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/sshtest"
)

// sudoUser is a user whose sudoers rule requires its password, made for
// the test and removed after it.
type sudoUser struct {
	name, password string
	uid, gid       uint32
	// dir is the user's working directory: the configuration, the journal
	// and a copy of the fanout binary it can run.
	dir string
	// log is sudo's own log of the user's commands and refused passwords.
	log string
}

// needRootSudo skips the test unless it runs as root, as CI does, with
// sudo and the other tools named installed: the sudo tests run commands
// as other users, and make users and sudoers rules.
func needRootSudo(t *testing.T, tools ...string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("runs commands as other users through sudo: run as root (as CI does)")
	}
	for _, tool := range append([]string{"sudo"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: `make test-deps` installs it", tool)
		}
	}
}

// newSudoUser creates the user, its password and its sudoers rule
// (`NAME ALL=(ALL) ALL`, which asks for the password), all removed at the
// end of the test. It skips unless the test runs as root with sudo
// installed.
func newSudoUser(t *testing.T) *sudoUser {
	t.Helper()
	needRootSudo(t)
	u := &sudoUser{name: "fanoutsudo" + strconv.Itoa(os.Getpid()%100000), password: "pw-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("useradd", "--no-create-home", "--shell", "/bin/sh", u.name)
	t.Cleanup(func() { _ = exec.Command("userdel", u.name).Run() })
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(u.name + ":" + u.password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v\n%s", err, out)
	}
	lu, err := user.Lookup(u.name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseUint(lu.Uid, 10, 32)
	gid, _ := strconv.ParseUint(lu.Gid, 10, 32)
	u.uid, u.gid = uint32(uid), uint32(gid)

	dir, err := os.MkdirTemp("", "fanout-sudo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	u.dir = filepath.Join(dir, "work")
	u.log = filepath.Join(dir, "sudo.log")
	if err := os.Mkdir(u.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(fanoutBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(u.dir, "fanout"), bin, 0o755); err != nil {
		t.Fatal(err)
	}

	rule := fmt.Sprintf("Defaults:%s logfile=%s, !lecture\n%s ALL=(ALL) ALL\n", u.name, u.log, u.name)
	sudoers := "/etc/sudoers.d/" + u.name
	if err := os.WriteFile(sudoers, []byte(rule), 0o440); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(sudoers) })
	return u
}

// config writes the configuration and gives the user the directory.
func (u *sudoUser) config(t *testing.T, hcl string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(u.dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(u.dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(u.uid), int(u.gid))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// command returns fanout run as the user in its directory.
func (u *sudoUser) command(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(u.dir, "fanout"), args...)
	cmd.Dir = u.dir
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + u.dir, "NO_COLOR=1", "TERM=dumb"}, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid}}
	return cmd
}

// outputOf runs cmd and returns its stdout then its stderr, together, and
// how it exited.
func outputOf(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String() + stderr.String(), err
}

// sudoLog returns sudo's log of the user's commands.
func (u *sudoUser) sudoLog(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(u.log)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// journals returns every journal the user's runs wrote, together.
func (u *sudoUser) journals(t *testing.T) string {
	t.Helper()
	var all bytes.Buffer
	_ = filepath.WalkDir(filepath.Join(u.dir, ".fanout"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			all.Write(b)
		}
		return nil
	})
	if all.Len() == 0 {
		t.Fatal("the run wrote no journal")
	}
	return all.String()
}

// wantPasswordKept checks that the user's password, which sudo took, is
// not in shown (what fanout showed) nor in a journal, and that sudo
// refused no password.
func (u *sudoUser) wantPasswordKept(t *testing.T, shown string) {
	t.Helper()
	if strings.Contains(shown, u.password) {
		t.Errorf("the password is in the output:\n%s", shown)
	}
	if strings.Contains(u.journals(t), u.password) {
		t.Error("the password is in a journal")
	}
	if log := u.sudoLog(t); strings.Contains(log, "incorrect password") {
		t.Errorf("sudo saw an incorrect password:\n%s", log)
	}
}

// wantWrongPasswordTriedOnce checks a run of the task "as_root", which
// touches ran-HOST in u.dir, given the wrong password for the hosts'
// sudo: fanout failed, one host reports sudo's refusal, the others say
// the password was not offered to them, sudo's log holds one refusal,
// nothing ran, and the wrong password is neither in all (the run's
// output) nor in the journal.
func (u *sudoUser) wantWrongPasswordTriedOnce(t *testing.T, all string, err error, wrong string, hosts []string) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("fanout succeeded with a wrong sudo password (%v):\n%s", err, all)
	}
	refused, notOffered := 0, 0
	for _, h := range hosts {
		refused += strings.Count(all, "as_root on "+h+": sudo: incorrect password")
		// In the failures list. (Live lines and the "Stopping:" line,
		// which names whichever host failed first, vary.)
		notOffered += strings.Count(all, "as_root on "+h+": sudo asks for a password on this host; not offered, since host")
		if _, err := os.Stat(filepath.Join(u.dir, "ran-"+h)); err == nil {
			t.Errorf("the command ran on %s", h)
		}
	}
	if refused != 1 {
		t.Errorf("%d hosts report the incorrect password, want 1:\n%s", refused, all)
	}
	if notOffered != len(hosts)-1 {
		t.Errorf("%d hosts say the password was not offered, want %d:\n%s", notOffered, len(hosts)-1, all)
	}
	if log := u.sudoLog(t); strings.Count(log, "incorrect password attempt") != 1 {
		t.Errorf("sudo's log shows %d refusals, want 1 (one host tried):\n%s",
			strings.Count(log, "incorrect password attempt"), log)
	}
	if strings.Contains(all, wrong) || strings.Contains(u.journals(t), wrong) {
		t.Error("the password is in the output or the journal")
	}
	// sudo refused before the command ran: nothing to roll back, and no
	// host to check by hand.
	for _, h := range hosts {
		if _, err := os.Stat(filepath.Join(u.dir, "undone-"+h)); err == nil {
			t.Errorf("a rollback ran on %s, where nothing ran", h)
		}
	}
	if strings.Contains(all, "Rollback FAILED") {
		t.Errorf("a rollback failed where nothing ran:\n%s", all)
	}
}

// wantNobodyToAsk checks a run of the tasks "first" and "as_root", which
// touch first-HOST and ran-HOST in u.dir, with no terminal and no
// sudo_password: fanout failed naming the hosts whose sudo asked, and
// nothing ran on any host.
func (u *sudoUser) wantNobodyToAsk(t *testing.T, all string, err error, hosts []string) {
	t.Helper()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("fanout succeeded with nobody to give sudo's password (%v):\n%s", err, all)
	}
	if want := fmt.Sprintf("sudo asks for a password on %d hosts (%s)", len(hosts), strings.Join(hosts, ", ")); !strings.Contains(all, want) {
		t.Errorf("the failure does not name the hosts that asked:\n%s", all)
	}
	for _, h := range hosts {
		for _, f := range []string{"first-", "ran-"} {
			if _, err := os.Stat(filepath.Join(u.dir, f+h)); err == nil {
				t.Errorf("%s%s: something ran before the password was known", f, h)
			}
		}
	}
}

const sudoHosts = `
host "h1" {
  address   = "127.0.0.1"
  transport = "local"
}
host "h2" {
  address   = "127.0.0.1"
  transport = "local"
}
host "h3" {
  address   = "127.0.0.1"
  transport = "local"
}
`

// sudoPrompt is what fanout shows on the terminal to ask the sudo password.
const sudoPrompt = "sudo password"

// answerOnPTY starts cmd on a terminal and types each answer once its
// question shows, waiting up to limit for each question and twice that for
// cmd to exit. It returns what the terminal showed and how cmd exited.
func answerOnPTY(t *testing.T, cmd *exec.Cmd, limit time.Duration, answers ...[2]string) (string, error) {
	t.Helper()
	tty, out, copied, exited := startOnPTY(t, cmd)
	defer func() { _ = tty.Close() }()
	for _, qa := range answers {
		waitPTYShows(t, cmd, exited, out, qa[0], limit, "no %q:\n%s", qa[0], out)
		if _, err := tty.Write([]byte(qa[1] + "\r")); err != nil {
			t.Fatal(err)
		}
	}
	err := waitPTYExit(t, cmd, exited, 2*limit, "fanout did not finish:\n%s", out)
	closePTY(tty, copied)
	return out.String(), err
}

// typePasswordOnce runs cmd, fanout as the user, on a terminal and types
// the user's password when asked; it fails the test unless cmd succeeds
// having asked for the password once, whatever the number of hosts. It
// returns what the terminal showed.
func (u *sudoUser) typePasswordOnce(t *testing.T, cmd *exec.Cmd, limit time.Duration) string {
	t.Helper()
	out, err := answerOnPTY(t, cmd, limit, [2]string{sudoPrompt, u.password})
	if err != nil {
		t.Fatalf("fanout: %v\n%s", err, out)
	}
	if n := strings.Count(out, sudoPrompt); n != 1 {
		t.Errorf("asked %d times, want once:\n%s", n, out)
	}
	return out
}

// TestSudoPasswordAskedOnce runs fanout as a user whose sudo asks for its
// password, on a terminal: the password is asked once for 3 hosts, the
// commands run as root with the task's env, and the password is in no
// process's command line while they run, nor in the output or the journal.
func TestSudoPasswordAskedOnce(t *testing.T) {
	u := newSudoUser(t)
	u.config(t, sudoHosts+`
task "as_root" {
  sudo = true
  env  = { GREETING = "hello" }
  run  = "id -u > out-$FANOUT_HOST; echo \"$GREETING from $FANOUT_HOST\"; ps -eo args > ps-$FANOUT_HOST; cat"
}
`)
	out := u.typePasswordOnce(t, u.command(nil, "apply", "main.hcl"), 30*time.Second)
	u.wantPasswordKept(t, out)
	for _, h := range []string{"h1", "h2", "h3"} {
		b, err := os.ReadFile(filepath.Join(u.dir, "out-"+h))
		if err != nil {
			t.Fatalf("host %s ran nothing: %v\n%s", h, err, out)
		}
		if got := strings.TrimSpace(string(b)); got != "0" {
			t.Errorf("host %s ran as uid %s, want 0 (root)", h, got)
		}
		if !strings.Contains(out, "hello from "+h) {
			t.Errorf("no output with the task's env from %s:\n%s", h, out)
		}
		ps, err := os.ReadFile(filepath.Join(u.dir, "ps-"+h))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ps), "ps -eo args") {
			t.Fatalf("ps on %s did not list the running command:\n%s", h, ps)
		}
		if strings.Contains(string(ps), u.password) {
			t.Errorf("the password is on a command line while %s's command runs:\n%s", h, ps)
		}
	}
}

// TestSudoWrongPasswordTriedOnce gives a wrong password through the
// sensitive variable: one host refuses it, the others are never offered
// it (sudo's log holds one refusal), and the run fails saying why.
func TestSudoWrongPasswordTriedOnce(t *testing.T) {
	u := newSudoUser(t)
	u.config(t, sudoHosts+`
variable "sudo_pw" {
  sensitive = true
}
fanout { sudo_password = var.sudo_pw }
task "as_root" {
  sudo     = true
  run      = "touch ran-$FANOUT_HOST"
  rollback = "touch undone-$FANOUT_HOST"
}
`)
	const wrong = "not-the-password"
	all, err := outputOf(u.command([]string{"FANOUT_VAR_sudo_pw=" + wrong}, "apply", "main.hcl"))
	u.wantWrongPasswordTriedOnce(t, all, err, wrong, []string{"h1", "h2", "h3"})
	// The failures list: one line per host.
	if n := strings.Count(all, "✗ as_root on h"); n != 3 {
		t.Errorf("%d hosts failed, want 3:\n%s", n, all)
	}
}

// TestSudoPasswordNobodyToAsk: with no terminal and no sudo_password, a
// run whose hosts' sudo asks for a password fails before anything runs,
// naming the hosts that asked.
func TestSudoPasswordNobodyToAsk(t *testing.T) {
	u := newSudoUser(t)
	u.config(t, sudoHosts+`
task "first" {
  run = "touch first-$FANOUT_HOST"
}
task "as_root" {
  sudo = true
  run  = "touch ran-$FANOUT_HOST"
}
`)
	all, err := outputOf(u.command(nil, "apply", "main.hcl"))
	u.wantNobodyToAsk(t, all, err, []string{"h1", "h2", "h3"})
}

// TestSudoPasswordNeedsStdin: a sudo password for hosts whose transport
// cannot send one (its plugin does not declare stdin) is refused when
// planned, on the task's sudo.
func TestSudoPasswordNeedsStdin(t *testing.T) {
	e := newPluginEnv(t, `
variable "pw" {
  sensitive = true
  default   = "hunter22"
}
fanout { sudo_password = var.pw }
transport "nostdin" {}
host "web" {
  address   = "127.0.0.1"
  transport = "nostdin"
}
task "as_root" {
  sudo_user = "app"
  run       = "true"
}
`)
	installPlugin(t, "nostdin", filepath.Join(e.dir, ".fanout", "plugins"))
	stdout, stderr, code := e.run(t, "plan", "main.hcl")
	if code == 0 {
		t.Fatalf("plan succeeded:\n%s", stdout)
	}
	for _, want := range []string{`Transport "nostdin" cannot send a sudo password`, `sudo_user = "app"`, "stdin capability"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout+stderr, "hunter22") {
		t.Error("the password is shown")
	}
}

// TestSudoUserRunsAndRollsBack: run, only_if and rollback of a task with
// sudo_user run as that user (root needs no password), and the plan says
// so.
func TestSudoUserRunsAndRollsBack(t *testing.T) {
	needRootSudo(t)
	dir, _ := workdir(t, `
task "as_nobody" {
  sudo_user = "nobody"
  only_if   = "test \"$(id -un)\" = nobody"
  run       = "echo \"run as $(id -un) on $FANOUT_HOST\""
  rollback  = "echo \"rollback as $(id -un)\""
}
task "as_root" {
  sudo = true
  run  = "echo \"then as $(id -un)\"; false"
}
`)
	r := fanout(t, dir, "plan", "main.hcl")
	for _, want := range []string{`task "as_nobody"  (on 1 host, as nobody via sudo)`, `task "as_root"  (on 1 host, as root via sudo)`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	r = fanout(t, dir, "apply", "main.hcl")
	if r.code == 0 {
		t.Fatalf("apply succeeded:\n%s", r.stdout)
	}
	for _, want := range []string{"run as nobody on localhost", "then as root", "rollback as nobody"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
}

// TestSudoWithoutStdinTransport: over a transport that cannot send a
// password (the nostdin test plugin), a task with sudo is a plan-time
// warning that only passwordless sudo works there; and when the hosts'
// sudo asks for a password, apply on a terminal fails before anything
// runs, naming the hosts, and asks for no password it could not send.
func TestSudoWithoutStdinTransport(t *testing.T) {
	u := newSudoUser(t)
	installPlugin(t, "nostdin", filepath.Join(u.dir, ".fanout", "plugins"))
	u.config(t, `
transport "nostdin" {}
host "h1" {
  transport = "nostdin"
}
host "h2" {
  transport = "nostdin"
}
task "first" {
  run = "touch first-$FANOUT_HOST"
}
task "as_root" {
  sudo = true
  run  = "touch ran-$FANOUT_HOST"
}
`)
	var stdout, stderr bytes.Buffer
	plan := u.command(nil, "plan", "main.hcl")
	plan.Stdout, plan.Stderr = &stdout, &stderr
	if err := plan.Run(); err != nil {
		t.Fatalf("plan: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{`Only passwordless sudo works over transport "nostdin"`, "sudo = true", "NOPASSWD"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("plan's warning lacks %q:\n%s", want, stderr.String())
		}
	}

	out, err := answerOnPTY(t, u.command(nil, "apply", "main.hcl"), 30*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("apply succeeded (%v):\n%s", err, out)
	}
	if !strings.Contains(out, "sudo asks for a password on 2 hosts (h1, h2), and their transport cannot send it") {
		t.Errorf("the failure does not name the hosts and why:\n%s", out)
	}
	if strings.Contains(out, "sudo password (asked once") {
		t.Errorf("asked for a password it cannot send:\n%s", out)
	}
	for _, h := range []string{"h1", "h2"} {
		for _, f := range []string{"first-", "ran-"} {
			if _, err := os.Stat(filepath.Join(u.dir, f+h)); err == nil {
				t.Errorf("%s%s: something ran", f, h)
			}
		}
	}
}

// TestSudoRollbackAsksPasswordOnce: `fanout rollback RUN` of a run whose
// task ran through sudo, by a user whose sudo asks for its password, on a
// terminal: after the approval, the password is asked once for 3 hosts,
// the rollbacks run as root, and the password is nowhere in the output or
// the journals.
func TestSudoRollbackAsksPasswordOnce(t *testing.T) {
	u := newSudoUser(t)
	u.config(t, sudoHosts+`
task "as_root" {
  sudo     = true
  run      = "true"
  rollback = "id -u > rb-$FANOUT_HOST; echo \"undone on $FANOUT_HOST\""
}
`)
	// run starts fanout as the user on a terminal and types each answer
	// once its question shows.
	run := func(answers [][2]string, args ...string) string {
		t.Helper()
		out, err := answerOnPTY(t, u.command(nil, args...), 30*time.Second, answers...)
		if err != nil {
			t.Fatalf("fanout %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	applied := run([][2]string{{sudoPrompt, u.password}}, "apply", "main.hcl")
	id := runID(t, applied)

	out := run([][2]string{{"Enter a value:", "yes"}, {sudoPrompt, u.password}}, "rollback", "-force", id)
	if n := strings.Count(out, sudoPrompt); n != 1 {
		t.Errorf("asked %d times for 3 hosts, want once:\n%s", n, out)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		wantInOutput(t, out, out, []string{"undone on " + h})
		b, err := os.ReadFile(filepath.Join(u.dir, "rb-"+h))
		if err != nil {
			t.Fatalf("host %s rolled nothing back: %v\n%s", h, err, out)
		}
		if got := strings.TrimSpace(string(b)); got != "0" {
			t.Errorf("host %s rolled back as uid %s, want 0 (root)", h, got)
		}
	}
	u.wantPasswordKept(t, applied+out)
}

// TestSudoRollbackPasswordFromVariable: `fanout rollback RUN` of a run
// that took sudo's password from fanout { sudo_password = var.x } takes
// it from the variable again, with no terminal (-auto-approve), as it
// takes any sensitive value; without the variable it refuses before
// rolling anything back, naming it.
func TestSudoRollbackPasswordFromVariable(t *testing.T) {
	u := newSudoUser(t)
	u.config(t, sudoHosts+`
variable "sudo_pw" {
  sensitive = true
}
fanout {
  sudo_password = var.sudo_pw
  on_failure    = "stop"
}
task "as_root" {
  sudo     = true
  run      = "true"
  rollback = "id -u > rb-$FANOUT_HOST"
}
task "fails" {
  run = "exit 3"
}
`)
	env := []string{"FANOUT_VAR_sudo_pw=" + u.password}
	applied, err := outputOf(u.command(env, "apply", "main.hcl"))
	if err == nil {
		t.Fatalf("apply succeeded:\n%s", applied)
	}
	id := runID(t, applied)

	out, err := outputOf(u.command(nil, "rollback", "-auto-approve", id))
	if err == nil || !strings.Contains(out, "var.sudo_pw") || !strings.Contains(out, "nothing was rolled back") && !strings.Contains(out, "set them as for apply") {
		t.Errorf("rollback without the variable: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(u.dir, "rb-h1")); err == nil {
		t.Fatal("rolled back without the password's variable")
	}

	out, err = outputOf(u.command(env, "rollback", "-auto-approve", id))
	if err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		b, err := os.ReadFile(filepath.Join(u.dir, "rb-"+h))
		if err != nil || strings.TrimSpace(string(b)) != "0" {
			t.Errorf("host %s rolled back as %q (%v), want uid 0 (root)\n%s", h, b, err, out)
		}
	}
	u.wantPasswordKept(t, applied+out)
}

// TestSudoStopReachesRootCommands: a sudo task stopped by its timeout
// leaves nothing running as root: not the command sudo ran, nor what it
// started (the user cannot signal root's processes, and sudo passes a
// signal on to its own child only), nor a command that ignores TERM.
// Over the local transport and over a real sshd, whose stops differ (a
// process group kill, the watcher).
func TestSudoStopReachesRootCommands(t *testing.T) {
	for _, transport := range []string{"local", "ssh"} {
		t.Run(transport, func(t *testing.T) {
			u := newSudoUser(t)
			hosts, run := sudoHosts, func(env []string, args ...string) *exec.Cmd { return u.command(env, args...) }
			if transport == "ssh" {
				var f *sshtest.Fleet
				f, hosts = sshSudoFleet(t, u)
				run = func(env []string, args ...string) *exec.Cmd { return u.sshCommand(f, env, args...) }
			}
			// Durations no other process on the machine sleeps.
			mark := fmt.Sprintf("%d.%d", 40+os.Getpid()%50, time.Now().UnixNano()%1000)
			u.config(t, hosts+fmt.Sprintf(`
variable "sudo_pw" {
  sensitive = true
}
fanout { sudo_password = var.sudo_pw }
task "restart" {
  sudo    = true
  timeout = "2s"
  run     = "sleep %[1]s1 & trap '' TERM; sleep %[1]s2; echo done"
}
`, mark))
			start := time.Now()
			all, err := outputOf(run([]string{"FANOUT_VAR_sudo_pw=" + u.password}, "apply", "main.hcl"))
			if err == nil || !strings.Contains(all, "timed out") {
				t.Fatalf("apply: %v, want the timeout\n%s", err, all)
			}
			// The root side's TERM, then its KILL 2 s later, within the
			// transport's own graces.
			var left []byte
			for time.Since(start) < 20*time.Second {
				left, _ = exec.Command("pgrep", "-a", "-f", "sleep "+mark).Output()
				if len(left) == 0 {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(left) > 0 {
				_ = exec.Command("pkill", "-KILL", "-f", "sleep "+mark).Run()
				t.Fatalf("still running after the run ended:\n%s\n%s", left, all)
			}
			if strings.Contains(all, "done") {
				t.Errorf("the first command went on after its timeout:\n%s", all)
			}
		})
	}
}

// TestSudoAskedPasswordHiddenEverywhere: the sudo password typed at the
// terminal is hidden wherever it would show, not only in the output of
// the commands sudo ran: here a later task without sudo prints it, on
// stdout and stderr, and fails; neither the output (live, the failures,
// the recap) nor the journal (the failure's stderr tail) shows it.
func TestSudoAskedPasswordHiddenEverywhere(t *testing.T) {
	u := newSudoUser(t)
	if err := os.WriteFile(filepath.Join(u.dir, "pwfile"), []byte("the password is "+u.password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.config(t, `
task "as_root" {
  sudo = true
  run  = "true"
}
task "after" {
  run = "cat pwfile; cat pwfile >&2; exit 3"
}
`)
	out, err := answerOnPTY(t, u.command(nil, "apply", "main.hcl"), 30*time.Second, [2]string{sudoPrompt, u.password})
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("apply succeeded (%v):\n%s", err, out)
	}
	if strings.Contains(out, u.password) {
		t.Errorf("the password is in the output:\n%s", out)
	}
	if !strings.Contains(out, "the password is (sensitive)") {
		t.Errorf("the output does not show the password's line, hidden:\n%s", out)
	}
	j := u.journals(t)
	if strings.Contains(j, u.password) {
		t.Errorf("the password is in the journal:\n%s", j)
	}
	if !strings.Contains(j, "the password is (sensitive)") {
		t.Errorf("the journal lacks the failure's stderr, hidden:\n%s", j)
	}
}

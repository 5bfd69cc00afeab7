package main

// These tests run third-party transport plugins as an operator would: the
// example plugin and the test plugins under testdata/plugins are built as
// separate binaries, installed where discovery looks, and driven by the
// real fanout binary (fanoutBin, built by TestMain). Leftover processes are
// looked for in the process table: every process a test starts carries an
// environment marker, inherited by fanout's plugins and their commands.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fanout/fanout/internal/pluginhost"
	"github.com/fanout/fanout/sdk/procstat"
	"github.com/fanout/fanout/sdk/sdktest"
)

// pluginSources are the plugins the tests build, by transport name.
var pluginSources = map[string]string{
	"echo":    "../../examples/plugins/fanout-transport-echo",
	"crashy":  "./testdata/plugins/crashy",
	"v2":      "./testdata/plugins/v2",
	"garbage": "./testdata/plugins/garbage",
	"nomtls":  "./testdata/plugins/nomtls",
	"nostdin": "./testdata/plugins/nostdin",
	"rude":    "./testdata/plugins/rude",
}

var (
	builtMu sync.Mutex
	built   = map[string]string{} // transport name -> binary, guarded by builtMu
)

// pluginBinary builds the named plugin once per test process, next to
// fanoutBin (which TestMain removes), and returns its path.
func pluginBinary(t *testing.T, name string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	out := filepath.Join(filepath.Dir(fanoutBin), "plugins", "fanout-transport-"+name)
	cmd := exec.Command("go", "build", "-o", out, pluginSources[name])
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pluginSources[name], err, b)
	}
	built[name] = out
	return out
}

// installPlugin copies the named plugin into dir as fanout-transport-NAME,
// so that each test's plugin processes have paths of their own.
func installPlugin(t *testing.T, name, dir string) string {
	t.Helper()
	src, err := os.ReadFile(pluginBinary(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "fanout-transport-"+name)
	if err := os.WriteFile(dst, src, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// pluginEnv is a test's environment for fanout: a home of its own, so the
// user's ~/.fanout/plugins plays no part, and the marker that finds its
// processes.
type pluginEnv struct {
	dir    string // working directory, holding main.hcl
	home   string
	marker string
	extra  []string
}

func newPluginEnv(t *testing.T, hcl string) *pluginEnv {
	t.Helper()
	e := &pluginEnv{dir: t.TempDir(), home: t.TempDir()}
	e.marker = fmt.Sprintf("FANOUT_E2E_MARK=%s-%d", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
	e.write(t, "main.hcl", hcl)
	return e
}

func (e *pluginEnv) write(t *testing.T, name, content string) {
	t.Helper()
	content = strings.ReplaceAll(content, "DIR", e.dir)
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *pluginEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(fanoutBin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "HOME="+e.home, "FANOUT_PLUGIN_PATH=", e.marker,
		// Under -race, a process sleeps a second at exit unless told not to.
		"GORACE=atexit_sleep_ms=0")
	cmd.Env = append(cmd.Env, e.extra...)
	return cmd
}

// run runs fanout to its end and returns what it printed and its exit code.
func (e *pluginEnv) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := e.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running fanout: %v", err)
	}
	return out.String(), errb.String(), code
}

// leftovers returns the live processes (zombies aside) that carry the
// test's marker: fanout itself, its plugins, and the commands they ran.
func (e *pluginEnv) leftovers() []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, []byte(e.marker+"\x00")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			if s, err := procstat.Read(pid); err == nil && s.Ended() {
				continue
			}
		}
		cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		out = append(out, filepath.Base(d)+": "+strings.ReplaceAll(string(bytes.TrimRight(cmdline, "\x00")), "\x00", " "))
	}
	return out
}

// assertNoLeftovers fails the test if any of its processes outlives
// fanout for more than a few seconds, and kills them.
func (e *pluginEnv) assertNoLeftovers(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return // no /proc to look in
	}
	deadline := time.Now().Add(5 * time.Second)
	left := e.leftovers()
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		left = e.leftovers()
	}
	for _, p := range left {
		t.Errorf("process left behind: %s", p)
		if pid, err := strconv.Atoi(strings.SplitN(p, ":", 2)[0]); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// tamper changes the plugin binary bin, as an attacker or a bad copy
// would: appended bytes change its checksum and keep it runnable.
func tamper(t *testing.T, bin string) {
	t.Helper()
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("tampered"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitForFile waits until path exists, as a task's command creates it.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	sdktest.Eventually(t, e2eWait, path+" to be created", func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}

const echoHCL = `transport "echo" {
  greeting = "hi"
  token    = "s3cret"
}

host "box" {
  transport = "echo"
  dir       = "DIR"
}

task "hello" {
  run = "echo \"$ECHO_GREETING from $(pwd)\" && touch DIR/ran"
}
`

func TestPluginDiscovery(t *testing.T) {
	tests := []struct {
		name    string
		install func(t *testing.T, e *pluginEnv)
	}{
		{"working dir .fanout plugins", func(t *testing.T, e *pluginEnv) {
			installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
		}},
		{"FANOUT_PLUGIN_PATH", func(t *testing.T, e *pluginEnv) {
			dir := t.TempDir()
			installPlugin(t, "echo", dir)
			e.extra = append(e.extra, "FANOUT_PLUGIN_PATH="+t.TempDir()+string(filepath.ListSeparator)+dir)
		}},
		{"home .fanout plugins", func(t *testing.T, e *pluginEnv) {
			installPlugin(t, "echo", filepath.Join(e.home, ".fanout", "plugins"))
		}},
		{"PATH", func(t *testing.T, e *pluginEnv) {
			dir := t.TempDir()
			installPlugin(t, "echo", dir)
			e.extra = append(e.extra, "PATH="+dir+string(filepath.ListSeparator)+os.Getenv("PATH"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPluginEnv(t, echoHCL)
			tt.install(t, e)
			stdout, stderr, code := e.run(t, "apply", "main.hcl")
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if want := "hi from " + e.dir; !strings.Contains(stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, stdout)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("the sensitive token was shown:\n%s\n%s", stdout, stderr)
			}
			e.assertNoLeftovers(t)
		})
	}
}

// TestPluginSensitiveSettingRedacted: a plugin's sensitive setting is
// hidden in a command's output too, as a sensitive variable is, when the
// command prints it.
func TestPluginSensitiveSettingRedacted(t *testing.T) {
	hcl := strings.Replace(echoHCL, `run = "echo \"$ECHO_GREETING from $(pwd)\" && touch DIR/ran"`, `run = "echo token=s3$(printf cret)"`, 1)
	e := newPluginEnv(t, hcl)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	stdout, stderr, code := e.run(t, "apply", "main.hcl")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "s3cret") {
		t.Errorf("the sensitive token was shown:\n%s\n%s", stdout, stderr)
	}
	if !strings.Contains(stdout, "token=(sensitive)") {
		t.Errorf("the token's line is not redacted:\n%s", stdout)
	}
}

func TestPluginNotFound(t *testing.T) {
	e := newPluginEnv(t, echoHCL)
	extra := t.TempDir()
	e.extra = append(e.extra, "FANOUT_PLUGIN_PATH="+extra, "PATH=/nonexistent-a"+string(filepath.ListSeparator)+"/nonexistent-b")
	for _, cmd := range []string{"validate", "plan", "apply"} {
		t.Run(cmd, func(t *testing.T) {
			_, stderr, code := e.run(t, cmd, "main.hcl")
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, want := range []string{
				`Transport plugin "echo" not found`, "main.hcl line 1", "fanout-transport-echo",
				"  - .fanout/plugins\n", "  - " + extra + "\n", "  - " + filepath.Join(e.home, ".fanout", "plugins") + "\n",
				"  - /nonexistent-a (from $PATH)\n", "  - /nonexistent-b (from $PATH)\n",
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(e.dir, "ran")); err == nil {
				t.Error("the task ran")
			}
		})
	}
}

func TestPluginSchemaErrors(t *testing.T) {
	e := newPluginEnv(t, `transport "echo" {
  token   = "s3cret"
  greting = "hi"
}

host "box" {
  transport = "echo"
  dri       = "DIR"
}

task "hello" {
  run = "touch DIR/ran"
}
`)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	for _, cmd := range []string{"validate", "plan", "apply"} {
		t.Run(cmd, func(t *testing.T) {
			_, stderr, code := e.run(t, cmd, "main.hcl")
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, want := range []string{
				"Missing required argument", `The argument "greeting" is required`,
				"Unsupported argument", "main.hcl line 3", `Did you mean "greeting"?`,
				"main.hcl line 8", `Did you mean "dir"?`,
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(e.dir, "ran")); err == nil {
				t.Error("the task ran despite the errors")
			}
			e.assertNoLeftovers(t)
		})
	}
}

func TestPluginChecksum(t *testing.T) {
	wrong := strings.Repeat("0123456789abcdef", 4)
	e := newPluginEnv(t, strings.Replace(echoHCL, "transport \"echo\" {\n", "transport \"echo\" {\n  sha256 = \""+wrong+"\"\n", 1))
	bin := installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	sum, err := pluginhost.SHA256File(bin)
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := e.run(t, "apply", "main.hcl")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"does not match its checksum", "main.hcl line 1", sum, wrong} {
		if !strings.Contains(strings.ReplaceAll(stderr, "\n", " "), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "ran")); err == nil {
		t.Error("the task ran through a plugin that does not match its checksum")
	}

	e.write(t, "main.hcl", strings.Replace(echoHCL, "transport \"echo\" {\n", "transport \"echo\" {\n  sha256 = \""+strings.ToUpper(sum)+"\"\n", 1))
	if stdout, stderr, code := e.run(t, "apply", "main.hcl"); code != 0 {
		t.Fatalf("with the right sha256: exit %d\n%s\n%s", code, stdout, stderr)
	}
	e.assertNoLeftovers(t)
}

func TestPluginLock(t *testing.T) {
	e := newPluginEnv(t, echoHCL)
	bin := installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	sum, err := pluginhost.SHA256File(bin)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := e.run(t, "plugins", "lock", "main.hcl")
	if code != 0 {
		t.Fatalf("plugins lock: exit %d\n%s\n%s", code, stdout, stderr)
	}
	lockFile := filepath.Join(e.dir, ".fanout.lock.hcl")
	b, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := "transport \"echo\" {\n  version = \"0.1.0\"\n  sha256  = \"" + sum + "\"\n}\n"; !strings.Contains(string(b), want) {
		t.Errorf("lock file lacks\n%s\ngot:\n%s", want, b)
	}
	if stdout, stderr, code := e.run(t, "apply", "main.hcl"); code != 0 {
		t.Fatalf("apply with a matching lock file: exit %d\n%s\n%s", code, stdout, stderr)
	}

	tamper(t, bin) // the binary changes under the lock
	newSum, err := pluginhost.SHA256File(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"apply", "main.hcl"}, {"plugins", "main.hcl"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stderr, code := e.run(t, args...)
			if code == 0 {
				t.Errorf("exit 0 with a binary that does not match the lock file")
			}
			out := strings.ReplaceAll(stderr, "\n", " ")
			if args[0] == "plugins" {
				out, _, _ = e.run(t, args...)
				out = strings.ReplaceAll(out, "\n", " ")
			}
			wantInOutput(t, out, out, []string{sum, newSum, ".fanout.lock.hcl"})
		})
	}

	// Locking again records the new binary.
	if stdout, stderr, code := e.run(t, "plugins", "lock", "main.hcl"); code != 0 || !strings.Contains(stdout, "(was "+sum+")") {
		t.Fatalf("plugins lock again: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if stdout, stderr, code := e.run(t, "apply", "main.hcl"); code != 0 {
		t.Fatalf("apply after locking again: exit %d\n%s\n%s", code, stdout, stderr)
	}
	e.assertNoLeftovers(t)
}

func TestPluginCrashMidRun(t *testing.T) {
	e := newPluginEnv(t, `transport "crashy" {}

host "box" {
  transport = "crashy"
}

host "here" {
  transport = "local"
}

task "l1" {
  on       = ["here"]
  run      = "echo l1 && touch DIR/l1.ran"
  rollback = "touch DIR/l1.rolledback"
}

task "first" {
  on       = ["box"]
  run      = "echo first"
  rollback = "echo undo first"
}

task "second" {
  on       = ["box"]
  run      = "echo second crashy:panic"
  rollback = "echo undo second"
}

task "third" {
  on  = ["here"]
  run = "touch DIR/third.ran"
}
`)
	installPlugin(t, "crashy", filepath.Join(e.dir, ".fanout", "plugins"))
	stdout, stderr, code := e.run(t, "apply", "main.hcl")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		// The crash is the cause, named with the task it interrupted,
		// and how the plugin ended.
		`plugin "crashy" crashed while task "second" ran on host "box": ` +
			"transport plugin exited unexpectedly (exit status 2): panic: crashy: echo second crashy:panic",
		// Then the rollback cascade, whole: the dead plugin cannot run
		// its tasks' rollbacks, a new one does.
		"Rolled back, in order: second, first, l1.",
		"undo second",
		"undo first",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\nstdout:\n%s\nstderr:\n%s", want, stdout, stderr)
		}
	}
	for _, unwanted := range []string{"unreachable", "Rollback FAILED"} {
		if strings.Contains(stdout, unwanted) {
			t.Errorf("output says %q:\nstdout:\n%s\nstderr:\n%s", unwanted, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "l1.rolledback")); err != nil {
		t.Error("the local task was not rolled back")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "third.ran")); err == nil {
		t.Error("a task after the crash ran")
	}
	e.assertNoLeftovers(t)
}

func TestPluginRefusedAtHandshake(t *testing.T) {
	tests := []struct {
		plugin string
		want   []string
	}{
		{"v2", []string{
			`Transport plugin "v2" speaks another protocol version`,
			"the plugin speaks transport protocol version 2, but this fanout speaks version 1",
		}},
		{"garbage", []string{
			`wrote "starting the garbage transport" to its standard output`,
		}},
		{"nomtls", []string{
			`Transport plugin "nomtls" cannot authenticate its channel`,
			"does not support mutual TLS", "no server certificate", "PLUGIN_CLIENT_CERT",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.plugin, func(t *testing.T) {
			e := newPluginEnv(t, fmt.Sprintf(`transport %[1]q {}

host "box" {
  transport = %[1]q
}

task "t" {
  run = "touch DIR/ran"
}
`, tt.plugin))
			installPlugin(t, tt.plugin, filepath.Join(e.dir, ".fanout", "plugins"))
			_, stderr, code := e.run(t, "apply", "main.hcl")
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			flat := strings.Join(strings.Fields(stderr), " ")
			for _, want := range append(tt.want, "main.hcl line 1") {
				if !strings.Contains(flat, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(e.dir, "ran")); err == nil {
				t.Error("the task ran")
			}
			e.assertNoLeftovers(t)
		})
	}
}

// startApply starts fanout apply on a task that sleeps, and returns once
// the task has started; done is closed once fanout has exited.
func startApply(t *testing.T, e *pluginEnv) (cmd *exec.Cmd, out *sdktest.Output, done <-chan struct{}) {
	t.Helper()
	b := startBG(t, e.command("apply", "main.hcl"))
	waitForFile(t, filepath.Join(e.dir, "started"))
	return b.cmd, b.out, b.exited
}

const sleepHCL = `transport "echo" {
  greeting = "hi"
}

host "box" {
  transport = "echo"
}

task "slow" {
  run      = "touch DIR/started && sleep 30"
  rollback = "touch DIR/rolledback"
}
`

func TestPluginInterruptLeavesNothing(t *testing.T) {
	e := newPluginEnv(t, sleepHCL)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	cmd, out, done := startApply(t, e)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("fanout did not stop after Ctrl-C:\n%s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "rolledback")); err != nil {
		t.Errorf("the interrupted task was not rolled back:\n%s", out)
	}
	e.assertNoLeftovers(t)
}

func TestPluginOutlivesNoKilledFanout(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux only")
	}
	e := newPluginEnv(t, sleepHCL)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	cmd, _, done := startApply(t, e)
	// SIGKILL: fanout cleans nothing up; the kernel tells its plugins.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	e.assertNoLeftovers(t)
}

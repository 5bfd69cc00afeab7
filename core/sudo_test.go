package core

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// TestMarkerFilter: sudo's prompt marker never reaches the output, even
// split across writes, and each one is counted; text that only starts
// like it is passed on whole.
func TestMarkerFilter(t *testing.T) {
	const marker = "[fanout-sudo-0123]"
	tests := []struct {
		name   string
		writes []string
		want   string
		count  int
	}{
		{"none", []string{"hello\n", "world\n"}, "hello\nworld\n", 0},
		{"whole", []string{marker + "err\n"}, "err\n", 1},
		{"split", []string{"a[fanout-su", "do-0123]b"}, "ab", 1},
		{"byte by byte", strings.Split(marker+"x"+marker, ""), "x", 2},
		{"prefix only", []string{"x[fanout-su", "ch"}, "x[fanout-such", 0},
		{"prefix at the end", []string{"x[fanout"}, "x[fanout", 0},
		{"refused", []string{marker, "Sorry, try again.\n", marker}, "Sorry, try again.\n", 2},
	}
	t.Run("no marker", func(t *testing.T) {
		var out bytes.Buffer
		f := &markerFilter{w: &out}
		_, _ = f.Write([]byte("as it is"))
		f.flush()
		if out.String() != "as it is" {
			t.Errorf("got %q", out.String())
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			f := &markerFilter{w: &out, marker: []byte(marker)}
			for _, w := range tt.writes {
				if n, err := f.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			f.flush()
			if out.String() != tt.want || f.count() != tt.count {
				t.Errorf("got %q and %d markers, want %q and %d", out.String(), f.count(), tt.want, tt.count)
			}
		})
	}
}

// TestSudoCommand runs the command line sudoCommand builds through a real
// sh, with sudo replaced by a script that prints its arguments: the
// command arrives as one word whatever its quotes, the password is not on
// it, and only the env's names are.
func TestSudoCommand(t *testing.T) {
	s := newSudoState(ApplyOptions{SudoPassword: "hunter22"})
	cmd := `echo 'it''s' "$HOME" && printf %s\\n "a b"`
	// A value no random marker can contain.
	env := map[string]string{"RELEASE": "rel-v42", "FANOUT_HOST": "web1"}
	line := s.command("app", cmd, env, true)
	if strings.Contains(line, "hunter22") || strings.Contains(line, "rel-v42") {
		t.Fatalf("a secret or an env value is on the command line: %s", line)
	}
	out, err := exec.Command("sh", "-c", `sudo() { for a in "$@"; do printf '<%s>\n' "$a"; done; }; `+line).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"<-S>", "<-k>", "<-p>", "<" + s.marker + ">", "<--preserve-env=FANOUT_HOST,RELEASE>",
		"<-u>", "<app>", "<-->", "<sh>", "<-c>", "<" + sudoStopper + ">", "<sh>", "<" + cmd + ">"}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("sudo got\n%s\nwant\n%s", out, want)
	}
	if got := s.command("root", "true", nil, false); got != "sudo -n -u 'root' -- sh -c "+quotedStopper+" sh 'true'" {
		t.Errorf("without stdin: %s", got)
	}
}

// fakeSudo is the fake transport with a sudo in front of its commands
// that asks for password on every host, as sudo -S and -n do.
type fakeSudo struct {
	*fakeTransport
	password string
	noStdin  bool

	mu     sync.Mutex
	wrong  int      // passwords refused
	lines  []string // every command line and env value it was given
	inners []string // host: command run through sudo
}

func (f *fakeSudo) Describe(ctx context.Context, req *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{Name: "fake", Capabilities: sdk.Capabilities{Signal: true, Exec: true, Stdin: !f.noStdin}}, nil
}

func (f *fakeSudo) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	f.mu.Lock()
	f.lines = append(f.lines, req.Command)
	for _, v := range req.Env {
		f.lines = append(f.lines, v)
	}
	f.mu.Unlock()
	if !strings.HasPrefix(req.Command, "sudo ") {
		return f.fakeTransport.Exec(ctx, req, out)
	}
	_, quoted, _ := strings.Cut(req.Command, " -- sh -c "+quotedStopper+" sh ")
	inner := strings.Trim(quoted, "'")
	if inner == "true" {
		inner = "ok"
	}
	if strings.HasPrefix(req.Command, "sudo -n ") {
		if _, err := fmt.Fprintln(out.Stderr, "sudo: a password is required"); err != nil {
			return nil, err
		}
		return &sdk.ExecResponse{ExitCode: 1}, nil
	}
	_, rest, _ := strings.Cut(req.Command, " -p '")
	marker, _, _ := strings.Cut(rest, "'")
	if _, err := fmt.Fprint(out.Stderr, marker); err != nil {
		return nil, err
	}
	if len(req.Stdin) == 0 {
		if _, err := fmt.Fprintln(out.Stderr, "sudo: no password was provided"); err != nil {
			return nil, err
		}
		return &sdk.ExecResponse{ExitCode: 1}, nil
	}
	if string(req.Stdin) != f.password+"\n" {
		f.mu.Lock()
		f.wrong++
		f.mu.Unlock()
		if _, err := fmt.Fprint(out.Stderr, "Sorry, try again.\n"+marker); err != nil {
			return nil, err
		}
		return &sdk.ExecResponse{ExitCode: 1}, nil
	}
	f.mu.Lock()
	f.inners = append(f.inners, req.Host+": "+inner)
	f.mu.Unlock()
	r := *req
	r.Command, r.Stdin = inner, nil
	return f.fakeTransport.Exec(ctx, &r, out)
}

func runSudoFake(t *testing.T, f *fakeSudo, opts ApplyOptions, hosts ...string) (*Result, []Event) {
	t.Helper()
	return runSudoPlan(t, f, opts, sudoPlan(hosts...))
}

// sudoPlan is one task, through sudo as root, on hosts.
func sudoPlan(hosts ...string) *Plan {
	task := testTask("t", testHosts(hosts...), "echo hi", "echo undo")
	task.SudoUser = "root"
	return testPlan(config.OnFailureStop, task)
}

func runSudoPlan(t *testing.T, f *fakeSudo, opts ApplyOptions, p *Plan) (*Result, []Event) {
	t.Helper()
	ts := NewTransports(launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
		return f, func() {}, nil
	}), nil)
	closeTransports(t, ts)
	rec := &recorder{}
	opts.Transports, opts.Observer, opts.RunID = ts, rec, "test-run"
	return Apply(context.Background(), p, opts), rec.events
}

func outputOf(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		if o, ok := e.(Output); ok {
			b.Write(o.Data)
		}
	}
	return b.String()
}

func TestSudoPasswordAskedOncePerRun(t *testing.T) {
	f := &fakeSudo{fakeTransport: newFake(), password: "hunter22"}
	in := &countingInput{answer: "hunter22"}
	res, events := runSudoFake(t, f, ApplyOptions{Input: in}, "a", "b", "c")
	if res.Status != RunSucceeded {
		t.Fatalf("run %s: %s", res.Status, res.Cause)
	}
	if n := in.asked.Load(); n != 1 {
		t.Errorf("asked %d times for 3 hosts, want once", n)
	}
	// One host, any, tries the password first, with true ("ok" here).
	var echoes []string
	tries := 0
	for _, c := range f.inners {
		if strings.HasSuffix(c, ": ok") {
			tries++
		} else {
			echoes = append(echoes, c)
		}
	}
	slices.Sort(echoes)
	if want := []string{"a: echo hi", "b: echo hi", "c: echo hi"}; !slices.Equal(echoes, want) || tries != 1 || f.wrong != 0 {
		t.Errorf("ran %q through sudo with %d wrong passwords, want %q, one try of the password and none wrong", f.inners, f.wrong, want)
	}
	for _, l := range f.lines {
		if strings.Contains(l, "hunter22") {
			t.Errorf("the password is on a command line or in the env: %s", l)
		}
	}
	if out := outputOf(events); strings.Contains(out, "[fanout-sudo-") || strings.Count(out, "hi\n") != 3 {
		t.Errorf("output %q: want hi from 3 hosts and no prompt marker", out)
	}
}

func TestSudoWrongPasswordOneHost(t *testing.T) {
	f := &fakeSudo{fakeTransport: newFake(), password: "hunter22"}
	res, _ := runSudoFake(t, f, ApplyOptions{SudoPassword: "wrong-one"}, "a", "b", "c")
	if f.wrong != 1 || len(f.inners) != 0 {
		t.Errorf("%d hosts refused the password and %q ran, want 1 and nothing", f.wrong, f.inners)
	}
	var incorrect, notOffered int
	for _, u := range res.Units {
		switch {
		case u.Run.Err == "sudo: incorrect password":
			incorrect++
		case strings.Contains(u.Run.Err, "not offered, since host"):
			notOffered++
		default:
			t.Errorf("host %s: %s %q", u.Host, u.Run.Status, u.Run.Err)
		}
	}
	if incorrect != 1 || notOffered != 2 {
		t.Errorf("%d incorrect, %d not offered; want 1 and 2", incorrect, notOffered)
	}
}

func TestSudoPasswordNobodyToAsk(t *testing.T) {
	f := &fakeSudo{fakeTransport: newFake(), password: "hunter22"}
	res, _ := runSudoFake(t, f, ApplyOptions{}, "a", "b")
	if res.Status != RunFailed || len(res.Preflight) != 2 || !strings.Contains(res.Cause, "on 2 hosts (a, b)") {
		t.Errorf("run %s, preflight %v, cause %q: want failed in preflight naming a and b", res.Status, res.Preflight, res.Cause)
	}
	if len(f.inners) != 0 {
		t.Errorf("ran %q", f.inners)
	}
}

// TestSudoPreflightBoundsItsConnects: without the plan's preflight,
// sudo's own preflight connects each host it probes; like every connect of
// a whole fleet (connectAll), at most maxConnecting at once, not a Connect
// per host of a 2,000-host plan in flight together.
func TestSudoPreflightBoundsItsConnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSudo{fakeTransport: newFake(), password: "hunter22"}
		f.connectDelay[""] = 50 * time.Millisecond
		var names []string
		for i := range maxConnecting + 36 {
			names = append(names, fmt.Sprintf("h%03d", i))
		}
		p := sudoPlan(names...)
		p.Preflight = false
		res, _ := runSudoPlan(t, f, ApplyOptions{}, p)
		if res.Status != RunFailed || len(res.Preflight) != len(names) {
			t.Fatalf("run %s, %d hosts failed preflight: want failed, naming all %d", res.Status, len(res.Preflight), len(names))
		}
		if peak := f.peakConnects(); peak > maxConnecting {
			t.Errorf("%d Connects in flight at once, want at most %d", peak, maxConnecting)
		}
	})
}

// TestSudoPasswordWithoutStdin: on hosts whose transport cannot send a
// password, with one given or asked, a sudo that asks for it fails the
// run before anything runs, naming the hosts and why.
func TestSudoPasswordWithoutStdin(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts ApplyOptions
	}{
		{"password given", ApplyOptions{SudoPassword: "hunter22"}},
		{"on a terminal", ApplyOptions{Input: &countingInput{answer: "hunter22"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSudo{fakeTransport: newFake(), password: "hunter22", noStdin: true}
			res, _ := runSudoFake(t, f, tt.opts, "a", "b")
			if res.Status != RunFailed || len(res.Preflight) != 2 ||
				!strings.Contains(res.Cause, "sudo asks for a password on 2 hosts (a, b), and their transport cannot send it") {
				t.Errorf("run %s, preflight %v, cause %q: want failed before anything ran, naming a and b", res.Status, res.Preflight, res.Cause)
			}
			for _, he := range res.Preflight {
				if !strings.Contains(he.Err, "cannot send one") {
					t.Errorf("host %s: %q, want the transport cannot send a password", he.Host, he.Err)
				}
			}
			for _, l := range f.lines {
				if strings.Contains(l, "echo") {
					t.Errorf("ran %q", l)
				}
			}
			if in, ok := tt.opts.Input.(*countingInput); ok && in.asked.Load() != 0 {
				t.Errorf("asked for a password %d times, that cannot be sent", in.asked.Load())
			}
		})
	}
}

// TestSudoPasswordHiddenInOutput: a command that prints the password,
// asked on the terminal and so in no redactor, shows it hidden.
func TestSudoPasswordHiddenInOutput(t *testing.T) {
	f := &fakeSudo{fakeTransport: newFake(), password: "hunter22"}
	ts := NewTransports(launcherFunc(func(ctx context.Context, name string) (sdk.Transport, func(), error) {
		return f, func() {}, nil
	}), nil)
	closeTransports(t, ts)
	task := testTask("t", testHosts("a"), "echo the password is hunter22")
	task.SudoUser = "root"
	rec := &recorder{}
	res := Apply(context.Background(), testPlan(config.OnFailureStop, task),
		ApplyOptions{Transports: ts, Observer: rec, RunID: "test-run", Input: &countingInput{answer: "hunter22"}})
	if res.Status != RunSucceeded {
		t.Fatalf("run %s: %s", res.Status, res.Cause)
	}
	if out := outputOf(rec.events); out != "the password is (sensitive)\n" {
		t.Errorf("output %q", out)
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLongLinesMarked: a 150 KB line cannot travel in one event; -json
// marks each piece but the last "partial", so a program can join them
// back, and the text output says where it split the line.
func TestLongLinesMarked(t *testing.T) {
	const size = 150 << 10
	dir, _ := workdir(t, `
task "long" {
  run = "head -c 153600 /dev/zero | tr '\\0' x; echo; echo next"
}
`)
	r := fanout(t, dir, "apply", "-json", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var lines []string
	var partial []bool
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Type, Line string
			Partial    bool
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%v: %.200s", err, sc.Text())
		}
		if ev.Type == "output" {
			lines, partial = append(lines, ev.Line), append(partial, ev.Partial)
		}
	}
	if len(lines) < 3 {
		t.Fatalf("%d output events, want the long line in pieces and next", len(lines))
	}
	// Every piece but the last of the long line is partial; "next" is not.
	want := make([]bool, len(lines))
	for i := range len(lines) - 2 {
		want[i] = true
	}
	if diff := cmp.Diff(want, partial); diff != "" {
		t.Errorf("partial flags (-want +got):\n%s", diff)
	}
	if joined := strings.Join(lines[:len(lines)-1], ""); joined != strings.Repeat("x", size) || lines[len(lines)-1] != "next" {
		t.Errorf("joined pieces: %d bytes, last %q; want %d x and next", len(joined), lines[len(lines)-1], size)
	}

	h := fanout(t, dir, "apply", "main.hcl")
	var pieces []string
	for l := range strings.Lines(h.stdout) {
		f := strings.SplitN(strings.TrimSuffix(l, "\n"), " │ ", 3)
		if len(f) == 3 && strings.TrimSpace(f[1]) == "long" && f[2] != "started" && !strings.HasPrefix(f[2], "✓") {
			pieces = append(pieces, f[2])
		}
	}
	if len(pieces) != len(lines) {
		t.Fatalf("text output has %d pieces, JSON %d", len(pieces), len(lines))
	}
	for i, p := range pieces[:len(pieces)-1] {
		first, last := i == 0, i == len(pieces)-2
		if strings.HasPrefix(p, "[continued] ") == first || !strings.HasSuffix(p, " [line continues]") == !last {
			t.Errorf("piece %d of %d is marked wrongly: %.30s…%s", i+1, len(pieces)-1, p, p[max(len(p)-30, 0):])
		}
	}
	// -group holds the pieces and marks them the same way.
	g := fanout(t, dir, "apply", "-group", "main.hcl")
	if n := len(lines) - 2; strings.Count(g.stdout, " [line continues]\n") != n || strings.Count(g.stdout, "[continued] ") != n {
		t.Errorf("-group marks %d ends and %d starts, want %d each", strings.Count(g.stdout, " [line continues]\n"), strings.Count(g.stdout, "[continued] "), n)
	}
}

// controlOutput is a task whose output would clear the screen, rewrite a
// line with carriage returns and ring the bell, if shown raw.
const controlOutput = `
task "ctl" {
  run = "printf 'clear\\033[2Jme\\n'; printf 'progress 1\\rprogress 2\\n'; printf 'bell\\007\\n'"
}
`

// TestTerminalShowsControlCharactersEscaped: on a terminal, a command's
// escape sequences and control characters are shown escaped, and a line
// rewritten with "\r" shows its final state; output that is not a
// terminal, and -json, keep the bytes.
func TestTerminalShowsControlCharactersEscaped(t *testing.T) {
	dir, _ := workdir(t, controlOutput)
	cmd := exec.Command(fanoutBin, "apply", "main.hcl")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=xterm")
	tty, out, copied, exited := startOnPTY(t, cmd)
	err := waitPTYExit(t, cmd, exited, 30*time.Second, "fanout did not end:\n%q", out)
	closePTY(tty, copied)
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		t.Fatalf("exit %d:\n%q", ee.ExitCode(), out.String())
	}
	got := out.String()
	for _, want := range []string{"│ clear^[[2Jme\r\n", "│ progress 2\r\n", "│ bell^G\r\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the terminal lacks %q:\n%q", want, got)
		}
	}
	for _, raw := range []string{"\x1b[2J", "progress 1", "\a"} {
		if strings.Contains(got, raw) {
			t.Errorf("the terminal got %q raw:\n%q", raw, got)
		}
	}

	// Not a terminal: bytes as the command wrote them.
	r := fanout(t, dir, "apply", "main.hcl")
	for _, want := range []string{"│ clear\x1b[2Jme\n", "│ progress 1\rprogress 2\n", "│ bell\a\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("piped output lacks %q:\n%q", want, r.stdout)
		}
	}
	j := fanout(t, dir, "apply", "-json", "main.hcl")
	for _, want := range []string{`"line":"clear\u001b[2Jme"`, `"line":"progress 1\rprogress 2"`, `"line":"bell\u0007"`} {
		if !strings.Contains(j.stdout, want) {
			t.Errorf("-json lacks %s:\n%s", want, j.stdout)
		}
	}
}

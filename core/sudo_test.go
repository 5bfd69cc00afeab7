package core

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
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
	env := map[string]string{"RELEASE": "42", "FANOUT_HOST": "web1"}
	line := s.command("app", cmd, env, true)
	if strings.Contains(line, "hunter22") || strings.Contains(line, "42") {
		t.Fatalf("a secret or an env value is on the command line: %s", line)
	}
	out, err := exec.Command("sh", "-c", `sudo() { for a in "$@"; do printf '<%s>\n' "$a"; done; }; `+line).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"<-S>", "<-k>", "<-p>", "<" + s.marker + ">", "<--preserve-env=FANOUT_HOST,RELEASE>",
		"<-u>", "<app>", "<-->", "<sh>", "<-c>", "<" + cmd + ">"}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("sudo got\n%s\nwant\n%s", out, want)
	}
	if got := s.command("root", "true", nil, false); got != "sudo -n -u 'root' -- sh -c 'true'" {
		t.Errorf("without stdin: %s", got)
	}
}

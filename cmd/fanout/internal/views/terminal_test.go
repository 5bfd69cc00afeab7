package views

import "testing"

func TestAppendTerminalSafe(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain text, tabs\tand UTF-8: héllo │ ✓", "plain text, tabs\tand UTF-8: héllo │ ✓"},
		{"\x1b[2Jcleared", "^[[2Jcleared"},
		{"\x1b[1A\x1b[Kup", "^[[1A^[[Kup"},
		{"bell\a and backspace\b", "bell^G and backspace^H"},
		{"del\x7f", "del^?"},
		{"c1 \u009b2J", "c1 <U+009B>2J"},
		{"10%\r50%\r100%", "100%"},
		{"done\r", "done"},
		{"done\r\r", "done"},
		{"\rlead", "lead"},
		{"bad \xff byte", "bad \xff byte"},
		{"8-bit CSI \x9b2J", "8-bit CSI <0x9B>2J"},
	} {
		if got := string(appendTerminalSafe(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendTerminalSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

package views

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Marks around the pieces of a line longer than the run passes on at once
// (core.Output.Partial): human output says where it split a line.
const (
	continuesMark = " [line continues]"
	continuedMark = "[continued] "
)

// appendTerminalSafe appends line as a terminal should show it, so that
// a command's output cannot move the cursor, clear the screen or rewrite
// fanout's own text (the "host │ task │" prefix, the status line, the
// recap): a line rewritten with carriage returns (a progress bar) shows
// its final state, the text after the last "\r"; other control characters
// are escaped as ssh's -e and cat -v show them: ESC as ^[ (so "\x1b[2J"
// reads ^[[2J), BEL as ^G, DEL as ^?, and the C1 controls, which some
// terminals obey as ESC sequences, as <U+009B> (or <0x9B>, a byte of them
// that is not UTF-8). Tabs and printable text, UTF-8 included, pass
// unchanged.
func appendTerminalSafe(dst, line []byte) []byte {
	line = bytes.TrimRight(line, "\r")
	if i := bytes.LastIndexByte(line, '\r'); i >= 0 {
		line = line[i+1:]
	}
	return appendEscaped(dst, line)
}

// appendEscaped appends line with its control characters escaped as
// appendTerminalSafe escapes them, a carriage return too (^M).
func appendEscaped(dst, line []byte) []byte {
	for len(line) > 0 {
		// Printable ASCII is most of any output: copy it in runs.
		i := 0
		for i < len(line) && (line[i] == '\t' || (line[i] >= 0x20 && line[i] < 0x7f)) {
			i++
		}
		dst = append(dst, line[:i]...)
		if line = line[i:]; len(line) == 0 {
			break
		}
		c := line[0]
		switch {
		case c < 0x20:
			dst = append(dst, '^', c+0x40)
			line = line[1:]
			continue
		case c == 0x7f:
			dst = append(dst, '^', '?')
			line = line[1:]
			continue
		}
		r, n := utf8.DecodeRune(line)
		switch {
		case r >= 0x80 && r <= 0x9f:
			dst = fmt.Appendf(dst, "<U+%04X>", r)
		case r == utf8.RuneError && n == 1 && c <= 0x9f:
			dst = fmt.Appendf(dst, "<0x%02X>", c)
		default:
			dst = append(dst, line[:n]...)
		}
		line = line[n:]
	}
	return dst
}

// terminalSafe is appendTerminalSafe for a string, when o asks for it.
func terminalSafe(s string, o Options) string {
	if !o.Escape {
		return s
	}
	return string(appendTerminalSafe(nil, []byte(s)))
}

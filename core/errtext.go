package core

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxErrText is the most of a plugin's error or diagnostic text fanout
// keeps: the text is shown in the live line, the stop, the failures and
// the cause, and journaled, so a plugin returning megabytes made a run's
// output and journal grow by tens of them.
const maxErrText = 2048

// CleanText is cleanText, for the commands that show a plugin's text
// themselves (fanout plugins).
func CleanText(s string) string { return cleanText(s) }

// errText is err's message as fanout shows and journals it (cleanText).
func errText(err error) string { return cleanText(err.Error()) }

// hostErrText is errText for an error of host's, without the "host NAME: "
// a transport may begin it with: fanout shows it under the host's name
// already (the sdk.Transport contract says it need not be repeated), and
// "a │ t │ ✗ unreachable: host a: ..." said it twice.
func hostErrText(err error, host string) string {
	return strings.TrimPrefix(errText(err), "host "+host+": ")
}

// cleanText makes a plugin's text fit for a terminal and a one-line
// record: line breaks become "; ", other control characters show as ^X
// (C1 ones as \u0080..\u009f), so that escape sequences a plugin passes on
// from a host (or makes itself) never reach the operator's terminal raw,
// nor a line a view prefixes break into unprefixed ones; and it is cut to
// maxErrText bytes, saying how much more there was.
func cleanText(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if len(s) <= maxErrText && !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if b.Len() >= maxErrText {
			fmt.Fprintf(&b, " … [%d bytes more]", len(s)-i)
			break
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			fmt.Fprintf(&b, "%02x", s[i])
		case r == '\n':
			b.WriteString("; ")
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			b.WriteByte('^')
			b.WriteByte(byte(r) ^ 0x40)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needsCleaning reports whether s holds anything cleanText changes.
func needsCleaning(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return true
		}
		i += n
	}
	return false
}

// cleanDetail is cleanText for a diagnostic's detail written on several
// lines on purpose (a launcher's list of directories searched): each line
// is cleaned, and the whole kept to a few times maxErrText.
func cleanDetail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = cleanText(l)
	}
	out := strings.Join(lines, "\n")
	if len(out) > 4*maxErrText {
		out = out[:4*maxErrText] + fmt.Sprintf(" … [%d bytes more]", len(out)-4*maxErrText)
	}
	return out
}

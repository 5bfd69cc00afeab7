package views

import (
	"time"
	"unicode/utf8"

	"github.com/fanout/fanout/core"
)

// appendOutputEvent appends an output event's line of JSON, byte for byte
// what encoding/json writes for jsonOutput (HTML not escaped): an
// event's lines are written as one write of their encodings, where an
// Encode each cost reflection and a write system call a line, which made
// -json a command's output's bottleneck (9M lines: 30 CPU-s against 1).
func appendOutputEvent[T ~string | ~[]byte](b []byte, at time.Time, e core.Output, line T, partial bool) []byte {
	b = append(b, `{"type":"output","@timestamp":"`...)
	b = at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","task":`...)
	b = appendJSONString(b, e.Task)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, e.Host)
	b = append(b, `,"phase":`...)
	b = appendJSONString(b, string(e.Phase))
	b = append(b, `,"stream":`...)
	b = appendJSONString(b, string(e.Stream))
	b = append(b, `,"line":`...)
	b = appendJSONString(b, line)
	if partial {
		b = append(b, `,"partial":true`...)
	}
	return append(b, "}\n"...)
}

// appendJSONString appends s quoted as encoding/json quotes a string with
// HTML escaping off: ", \ and control characters escaped (\n, \r, \t,
// \b, \f by name), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeRune is utf8.DecodeRune for a string or bytes.
func decodeRune[T ~string | ~[]byte](s T) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.DecodeRuneInString(string(s))
}

// Package shellquote writes strings as words of a POSIX shell's command
// line: the remote wrapper's script, the commands fanout suggests.
package shellquote

import "strings"

// Quote returns s single-quoted, as one word for a POSIX shell whatever it
// holds.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Word returns s as one word for a POSIX shell: as it is when it holds
// nothing the shell reads specially, else quoted.
func Word(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-") == "" {
		return s
	}
	return Quote(s)
}

package views

import (
	"hash/fnv"
	"strings"
	"unicode/utf8"

	"github.com/fanout/fanout/internal/shellquote"
)

// Options are the rendering choices every view shares.
type Options struct {
	// Color enables ANSI colours. The CLI sets it only when the stream is a
	// terminal and neither NO_COLOR nor -no-color asks otherwise.
	Color bool
	// Redact hides sensitive values in everything the view writes; nil
	// shows values as they are.
	Redact *Redactor
	// Escape shows command output as a terminal should (see
	// appendTerminalSafe): control characters escaped, a line rewritten
	// with carriage returns in its final state. The CLI sets it when the
	// stream is a terminal; elsewhere output keeps its bytes.
	Escape bool
	// Config is the configuration's path as the command line gave it,
	// which the commands the views suggest (fanout rollback ID) name
	// unless it is the current directory, their default.
	Config string
}

// Suggest returns the command line of fanout's command cmd (such as
// "rollback" or "runs show") for run id of the configuration at config:
// the path is left out when it is the current directory, and quoted for
// a POSIX shell when it needs to be.
func Suggest(cmd, id, config string) string {
	s := "fanout " + cmd + " " + id
	if config == "" || config == "." || config == "./" {
		return s
	}
	return s + " " + shellquote.Word(config)
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
	// ansiClearLine returns to the start of the line and erases it: how the
	// progress line gets out of the way of output scrolling above it.
	ansiClearLine = "\r\x1b[K"
)

// hostPalette are the colours hosts are told apart by. Red is left out, as
// it means failure everywhere else; bright variants double the set.
var hostPalette = []string{
	"\x1b[36m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m",
	"\x1b[96m", "\x1b[92m", "\x1b[93m", "\x1b[94m", "\x1b[95m",
}

// hostColor returns the colour of a host, the same in every run, since
// operators learn to read "web3 is the magenta one".
func hostColor(host string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(host))
	return hostPalette[h.Sum32()%uint32(len(hostPalette))]
}

// paint wraps s in an ANSI style when colour is on.
func paint(color bool, code, s string) string {
	if !color || code == "" || s == "" {
		return s
	}
	return code + s + ansiReset
}

// width is how many terminal columns s takes, ignoring ANSI sequences;
// every rune counts as one column, which holds for what fanout prints.
func width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := strings.IndexByte(s[i:], 'm')
			if j < 0 {
				break
			}
			i += j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// pad fills s with spaces to w columns.
func pad(s string, w int) string {
	if n := width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// table lays out rows in columns two spaces apart. Cells may hold ANSI
// colour, which text/tabwriter would count as width.
type table struct {
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) String() string {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
			} else {
				b.WriteString(pad(c, widths[i]+2))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

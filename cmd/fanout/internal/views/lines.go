package views

import (
	"bytes"
	"iter"
)

// lines yields the lines of an Output event's data without their newlines
// (or a carriage return before one); a final line without a newline is a
// line too, and empty data is one empty line. The slices alias data.
func lines(data []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		data := bytes.TrimSuffix(data, []byte("\n"))
		for {
			i := bytes.IndexByte(data, '\n')
			line := data
			if i >= 0 {
				line = data[:i]
			}
			if !yield(bytes.TrimSuffix(line, []byte("\r"))) || i < 0 {
				return
			}
			data = data[i+1:]
		}
	}
}

// lineCount is how many lines lines(data) yields.
func lineCount(data []byte) int {
	return bytes.Count(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) + 1
}

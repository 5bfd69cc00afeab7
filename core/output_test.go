package core

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLineWriterPieces: a line longer than maxLine is split at the same
// offsets whatever sizes the transport's writes had, so two runs of one
// command mark the same pieces; shorter lines always arrive whole.
func TestLineWriterPieces(t *testing.T) {
	long := strings.Repeat("x", 2*maxLine+100)
	exact := strings.Repeat("y", maxLine)
	input := "a\n" + long + "\nb\n" + exact + "\n" + long
	type piece struct {
		n       int
		partial bool
	}
	want := []piece{
		{2, false},                                     // a
		{maxLine, true}, {maxLine, true}, {101, false}, // the long line
		{2, false},                                     // b
		{maxLine + 1, false},                           // exactly maxLine: whole
		{maxLine, true}, {maxLine, true}, {100, false}, // the last line, flushed
	}
	for _, size := range []int{1, 7, 4 << 10, 32 << 10, 100 << 10, 256 << 10, len(input)} {
		outs, _ := writeLines(t, []byte(input), size)
		var got []piece
		var joined bytes.Buffer
		for _, o := range outs {
			joined.Write(o.Data)
			// Whole lines travel together: count each event's lines apart.
			for l := range bytes.Lines(o.Data) {
				got = append(got, piece{len(l), o.Partial})
			}
		}
		if joined.String() != input {
			t.Fatalf("writes of %d: output differs from input", size)
		}
		if len(got) != len(want) {
			t.Fatalf("writes of %d: %d pieces %v, want %v", size, len(got), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("writes of %d: piece %d is %v, want %v", size, i, got[i], want[i])
			}
		}
	}
}

// TestLineWriterPiecesKeepCharacters: a piece of a long line never ends
// inside a UTF-8 character: each piece is valid text whenever the line is,
// and the pieces join into the line. Invalid bytes are cut where they
// fall.
func TestLineWriterPiecesKeepCharacters(t *testing.T) {
	for _, tt := range []struct {
		name  string
		line  string
		first int // the first piece's length
	}{
		{"é across the cut", strings.Repeat("x", maxLine-1) + strings.Repeat("é", 40000), maxLine - 1},
		{"é just before the cut", strings.Repeat("x", maxLine-2) + strings.Repeat("é", 40000), maxLine},
		{"a 4-byte character", strings.Repeat("x", maxLine-1) + strings.Repeat("😀", 1000), maxLine - 1},
		{"a 3-byte character", strings.Repeat("x", maxLine-2) + strings.Repeat("€", 1000), maxLine - 2},
		{"invalid bytes", strings.Repeat("x", maxLine-1) + strings.Repeat("\xe2\x82", 1000), maxLine},
	} {
		t.Run(tt.name, func(t *testing.T) {
			outs, _ := writeLines(t, []byte(tt.line+"\n"), 4<<10)
			var joined bytes.Buffer
			for i, o := range outs {
				joined.Write(o.Data)
				if i == 0 && len(o.Data) != tt.first {
					t.Errorf("first piece %d bytes, want %d", len(o.Data), tt.first)
				}
				if utf8.ValidString(tt.line) && !utf8.Valid(o.Data) {
					t.Errorf("piece %d is not valid UTF-8", i)
				}
			}
			if joined.String() != tt.line+"\n" {
				t.Error("the pieces do not join into the line")
			}
		})
	}
}

// TestLineWriterOneEventPerWrite: output written in pieces that end
// mid-line, as a transport's reads do, makes one event per write, each of
// whole lines, the held start of a line going out with the lines that
// follow it; every byte arrives, in order.
func TestLineWriterOneEventPerWrite(t *testing.T) {
	var input bytes.Buffer
	for i := 0; input.Len() < 1<<20; i++ {
		input.WriteString(strings.Repeat(string(rune('a'+i%26)), 76))
		input.WriteByte('\n')
	}
	const size = 32<<10 - 16 // what sdk.Serve's events carry at most
	outs, writes := writeLines(t, input.Bytes(), size)
	var joined bytes.Buffer
	events := 0
	for _, o := range outs {
		events++
		if o.Partial || !bytes.HasSuffix(o.Data, []byte("\n")) {
			t.Fatalf("event %d does not end a line: %q", events, o.Data[max(0, len(o.Data)-20):])
		}
		joined.Write(o.Data)
	}
	if !bytes.Equal(joined.Bytes(), input.Bytes()) {
		t.Fatal("output differs from input")
	}
	if events != writes {
		t.Errorf("%d writes made %d events, want one each", writes, events)
	}
}

// writeLines writes input to a run's lineWriter in writes of size bytes,
// as a transport's reads arrive, flushes it as the command's end does, and
// returns the Output events it made and the number of writes.
func writeLines(t *testing.T, input []byte, size int) (outs []Output, writes int) {
	t.Helper()
	r := &run{events: make(chan Event, 1024)}
	w := &lineWriter{r: r, task: "t", host: "h", phase: PhaseRun, stream: Stdout}
	for p := input; len(p) > 0; writes++ {
		n := min(size, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	w.flush()
	close(r.events)
	for e := range r.events {
		outs = append(outs, e.(Output))
	}
	return outs, writes
}

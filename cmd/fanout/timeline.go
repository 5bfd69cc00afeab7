package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/views"
	"github.com/fanout/fanout/core"
)

// showTimeline is `fanout runs show ID -html [-o FILE]`: the run's HTML
// timeline written to file, ID.html when empty, standard output for "-".
func showTimeline(s *streams, rc *core.Recovery, file string) int {
	if file == "" {
		file = rc.Header.RunID + ".html"
	}
	if err := writeTimeline(s, rc, file, nil); err != nil {
		printf(s.Err, "fanout runs show: %s\n", err)
		return exitFailed
	}
	if file != "-" {
		printf(s.Out, "Wrote the timeline of run %s (%s) to %s\n", rc.Header.RunID, rc.Status(), file)
	}
	return exitOK
}

// writeRunTimeline writes the timeline of the run journaled at journal to
// file at the end of cmd's run. A failure is said on stderr and changes
// nothing else: the run is over, and its journal still holds it.
func writeRunTimeline(s *streams, cmd, journal, file string, rd *views.Redactor, cfgPath string) {
	rc, err := core.ReadJournal(journal)
	if err == nil {
		err = writeTimeline(s, rc, file, rd)
	}
	if err != nil {
		printf(s.Err, "fanout %s: cannot write the run's timeline: %s; \"%s -html\" draws it from the journal.\n", cmd, err, views.Suggest("runs show", strings.TrimSuffix(filepath.Base(journal), ".jsonl"), cfgPath))
		return
	}
	if file != "-" {
		printf(s.Err, "fanout %s: wrote the run's timeline to %s\n", cmd, file)
	}
}

// writeTimeline renders rc's timeline and writes it to file whole, or to
// standard output for "-": a page is never left half written.
func writeTimeline(s *streams, rc *core.Recovery, file string, rd *views.Redactor) error {
	tl, err := rc.Timeline()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := views.TimelineHTML(&buf, tl, views.Options{Redact: rd}); err != nil {
		return err
	}
	if file == "-" {
		_, err := s.Out.Write(buf.Bytes())
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".fanout-timeline-*.html")
	if err != nil {
		return err
	}
	// After a successful rename there is nothing to remove; after a
	// failure, the error to report is the one that stopped the write.
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		_ = tmp.Close()
		return err
	}
	// CreateTemp's 0600 would keep a report meant to be shared from the
	// team; the page holds no secret values.
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

package core

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/fanout/fanout/config"
)

// FuzzReadJournal feeds any bytes to the journal reader, as a disk or an
// editor may leave a journal: it must read it or say why not, never panic,
// nor when rebuilding the run and its rollback from what it read.
func FuzzReadJournal(f *testing.F) {
	f.Add([]byte(`{"type":"header","header":{"version":1,"plan":{}}}`))
	f.Add([]byte("{\"type\":\"header\",\"header\":{\"version\":1,\"plan\":{\"roots\":[{\"group\":\"g\",\"members\":[{\"task\":\"a\"}]}],\"tasks\":[{\"name\":\"a\",\"hosts\":[\"h\"]}],\"hosts\":[{\"name\":\"h\"}]}}}\n" +
		"{\"type\":\"unit_started\",\"task\":\"a\",\"host\":\"h\",\"phase\":\"run\"}\n{\"type\":\"completed\",\"path\":[0,0],\"task\":\"a\"}\n{\"type\":\"completed\",\"path\":[0]}\n{\"type\":\"unit_fin"))
	// A real journal of a failed run.
	dir := f.TempDir()
	fk := newFake()
	p := testPlan(config.OnFailureStop, testTask("a", testHosts("h1", "h2"), "ok", "ok"), testTask("b", testHosts("h1"), "fail 2", "ok"))
	hdr, err := NewJournalHeader(p, "seed", "c.hcl", "v", nil)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "seed.jsonl")
	j, err := CreateJournal(path, hdr, nil)
	if err != nil {
		f.Fatal(err)
	}
	ts := NewTransports(fk.launcher(), nil)
	Apply(context.Background(), p, ApplyOptions{Transports: ts, Journal: j, RunID: "seed"})
	if err := ts.Close(context.Background()); err != nil {
		f.Fatal(err)
	}
	closeJournal(f, j)
	seed, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)

	f.Fuzz(func(t *testing.T, data []byte) {
		rc, err := readJournal(bytes.NewReader(data), "fuzz.jsonl")
		if err != nil {
			return
		}
		_ = rc.Status()
		_, _ = rc.Result()
		_, _ = rc.RollbackSteps()
		_ = rc.Missing(nil)
	})
}

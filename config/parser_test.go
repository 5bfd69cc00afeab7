package config

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/errors/*.golden from the current diagnostics")

// testLoad loads path from an in-memory filesystem of the given files.
func testLoad(t testing.TB, files map[string]string, path string, opts LoadOptions) (*Parser, *Config, hcl.Diagnostics) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	p := NewParser(fsys)
	cfg, diags := p.LoadConfig(path, opts)
	return p, cfg, diags
}

// render is diagnostics as the CLI prints them, without color or wrapping.
func render(t testing.TB, p *Parser, diags hcl.Diagnostics) string {
	t.Helper()
	var buf bytes.Buffer
	if err := hcl.NewDiagnosticTextWriter(&buf, p.Files(), 0, false).WriteDiagnostics(diags); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// mustLoad loads a configuration that must have no errors.
func mustLoad(t *testing.T, files map[string]string, path string, opts LoadOptions) *Config {
	t.Helper()
	p, cfg, diags := testLoad(t, files, path, opts)
	if diags.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", render(t, p, diags))
	}
	return cfg
}

type lineError struct {
	Line    int
	Summary string
}

// TestParserLoadConfigFileError loads each file of testdata/errors and
// compares the diagnostics with the `# ERROR: <summary>` comments on the
// lines they should point at, then the rendered text with NAME.golden.
func TestParserLoadConfigFileError(t *testing.T) {
	names, err := filepath.Glob("testdata/errors/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 20 {
		t.Fatalf("only %d error files", len(names))
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var want []lineError
			sc := bufio.NewScanner(bytes.NewReader(src))
			for line := 1; sc.Scan(); line++ {
				if _, summary, ok := strings.Cut(sc.Text(), "# ERROR: "); ok {
					want = append(want, lineError{line, strings.TrimSpace(summary)})
				}
			}

			p := NewParser(os.DirFS("."))
			_, diags := p.LoadConfig(filepath.ToSlash(name), LoadOptions{})
			var got []lineError
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a subject: %s: %s", d.Summary, d.Detail)
					continue
				}
				got = append(got, lineError{d.Subject.Start.Line, d.Summary})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("wrong diagnostics (-want +got):\n%s\n%s", diff, render(t, p, diags))
			}

			text := render(t, p, diags)
			golden := strings.TrimSuffix(name, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantText, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./config -update to create it)", err)
			}
			if diff := cmp.Diff(string(wantText), text); diff != "" {
				t.Errorf("rendered diagnostics differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestLoadConfigDirectory(t *testing.T) {
	files := map[string]string{
		"conf/b.hcl": `
task "second" {
  run = "echo ${local.from_a}"
}
parallelize "both" {
  tasks = [task.first]
}`,
		"conf/a.hcl": `
locals {
  from_a = "a"
}
task "first" {
  run = "true"
}
task "third" {
  run = "true"
}`,
		"conf/.hidden.hcl":    `not hcl at all {`,
		"conf/#a.hcl#":        `not hcl at all {`,
		"conf/notes.txt":      `not hcl at all {`,
		"conf/sub/nested.hcl": `not hcl at all {`,
		"conf/editor.hcl~":    `not hcl at all {`,
		"other/ignored.hcl":   `not hcl at all {`,
		"conf/emptydir/.keep": ``,
	}
	for _, path := range []string{"conf", "conf/", "./conf", "/conf"} {
		t.Run(path, func(t *testing.T) {
			p, cfg, diags := testLoad(t, files, path, LoadOptions{})
			if diags.HasErrors() {
				t.Fatalf("unexpected errors:\n%s", render(t, p, diags))
			}
			var roots []string
			for _, r := range cfg.Roots {
				roots = append(roots, r.NodeName())
			}
			// a.hcl first: lexical order of files, then source order.
			if diff := cmp.Diff([]string{"task.third", "task.second", "parallelize.both"}, roots); diff != "" {
				t.Errorf("roots (-want +got):\n%s", diff)
			}
			want := strings.TrimSuffix(path, "/") + "/a.hcl"
			if path == "./conf" || path == "conf/" {
				want = "conf/a.hcl" // path.Join cleans
			}
			if _, ok := p.Files()[want]; !ok || len(p.Files()) != 2 {
				t.Errorf("Files() = %v, want a.hcl as %q and b.hcl", keys(p.Files()), want)
			}
			if got := cfg.Tasks[0].DeclRange.Filename; got != want {
				t.Errorf("filename in ranges = %q, want %q", got, want)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestLoadConfigPathErrors(t *testing.T) {
	files := map[string]string{
		"conf/empty/readme.txt": "",
		"a.hcl":                 `task "a" { run = "true" }`,
		"b.hcl":                 `task "a" { run = "true" }`,
	}
	tests := []struct {
		name, path, summary string
	}{
		{"missing", "nope.hcl", "Failed to read configuration"},
		{"empty directory", "conf/empty", "No configuration files"},
		{"outside", "../x.hcl", "Invalid configuration path"},
		{"duplicate across files", ".", `Duplicate task "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, diags := testLoad(t, files, tt.path, LoadOptions{})
			if len(diags) != 1 || diags[0].Summary != tt.summary {
				t.Fatalf("got %v, want one error %q", diags, tt.summary)
			}
		})
	}
	t.Run("duplicate names the earlier file", func(t *testing.T) {
		_, _, diags := testLoad(t, files, ".", LoadOptions{})
		d := diags[0]
		if d.Subject.Filename != "b.hcl" || !strings.Contains(d.Detail, "a.hcl:1,") {
			t.Errorf("subject %s, detail %q: want b.hcl, naming a.hcl", d.Subject, d.Detail)
		}
	})
}

// FuzzLoadConfig feeds any bytes to the parser: it must return diagnostics
// or a configuration, and never panic, nor when rendering the diagnostics.
func FuzzLoadConfig(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.hcl", "testdata/errors/*.hcl", "testdata/fuzz/*.hcl"} {
		names, _ := filepath.Glob(pattern)
		for _, name := range names {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte(`parallelize { tasks = [parallelize, task] }`))
	f.Add([]byte(`locals { a = local }`))
	// big.Float takes minutes to print these in decimal; messages must not.
	f.Add([]byte("fanout { threads = 1e10000000 }\ntask \"a\" {\n run = 1e10000000\n max_hosts = -1e10000000\n}"))
	// testdata/fuzz/FuzzLoadConfig/hostile_* hold the shapes that once
	// exhausted the parser; TestHostileFiles has the one too large to keep.
	f.Fuzz(func(t *testing.T, src []byte) {
		p := NewParser(fstest.MapFS{"f.hcl": &fstest.MapFile{Data: src}})
		cfg, diags := p.LoadConfig("f.hcl", LoadOptions{Vars: map[string]string{"x": "[1, 2]"}})
		if cfg == nil && !diags.HasErrors() {
			t.Fatal("no configuration and no error")
		}
		render(t, p, diags)
		for _, d := range diags {
			if d.Summary == "" || strings.HasSuffix(d.Summary, ".") {
				t.Errorf("bad summary %q", d.Summary)
			}
		}
		if cfg == nil {
			return
		}
		for _, n := range cfg.Roots {
			if n == nil {
				t.Fatal("nil root")
			}
		}
		// Members form a tree even when there are errors.
		for _, g := range cfg.Groups {
			if path := memberLoop(g, nil); path != "" {
				t.Fatalf("members loop: %s", path)
			}
		}
	})
}

// memberLoop returns the path of a loop of members under g, or "".
func memberLoop(g *Parallelize, path []*Parallelize) string {
	for _, p := range path {
		if p == g {
			var names []string
			for _, q := range append(path, g) {
				names = append(names, q.NodeName())
			}
			return strings.Join(names, " > ")
		}
	}
	for _, m := range g.Members {
		if inner, ok := m.(*Parallelize); ok {
			if loop := memberLoop(inner, append(path, g)); loop != "" {
				return loop
			}
		}
	}
	return ""
}

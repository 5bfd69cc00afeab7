package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
)

func TestParsePluginsArgs(t *testing.T) {
	tests := []struct {
		args    []string
		path    string
		vars    []arguments.VarArg
		json    bool
		wantErr bool
	}{
		{args: nil},
		{args: []string{"-json"}, json: true},
		{args: []string{"main.hcl"}, path: "main.hcl"},
		{args: []string{"-var", "a=1", "main.hcl", "-var-file", "x.hcl", "-json"}, path: "main.hcl", json: true,
			vars: []arguments.VarArg{{Name: "a", Value: "1"}, {File: "x.hcl"}}},
		{args: []string{"a.hcl", "b.hcl"}, wantErr: true},
		{args: []string{"-var", "novalue"}, wantErr: true},
		{args: []string{"-bogus"}, wantErr: true},
	}
	for _, tt := range tests {
		a, err := arguments.ParsePlugins(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err = %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if a.Path != tt.path || (a.ViewType == arguments.ViewJSON) != tt.json {
			t.Errorf("%q: path %q json %v, want %q %v", tt.args, a.Path, a.ViewType == arguments.ViewJSON, tt.path, tt.json)
		}
		if diff := cmp.Diff(tt.vars, a.Vars.Args); diff != "" {
			t.Errorf("%q: vars (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestLockFilePath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		dir:                       filepath.Join(dir, ".fanout.lock.hcl"),
		file:                      filepath.Join(dir, ".fanout.lock.hcl"),
		"main.hcl":                ".fanout.lock.hcl",
		"deploy/prod/restart.hcl": filepath.Join("deploy", "prod", ".fanout.lock.hcl"),
	} {
		if got := lockFilePath(in); got != want {
			t.Errorf("lockFilePath(%q) = %q, want %q", in, got, want)
		}
	}
}

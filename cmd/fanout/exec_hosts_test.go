package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
)

// TestSplitHostArg: exec -hosts' [user@]host[:port], an IPv6 address in
// brackets with its port, and what is none.
func TestSplitHostArg(t *testing.T) {
	for _, tt := range []struct {
		in, user, host string
		port           int
		err            string
	}{
		{in: "web1", host: "web1"},
		{in: "deploy@web1", user: "deploy", host: "web1"},
		{in: "web1:2222", host: "web1", port: 2222},
		{in: "ops@10.0.0.5:22", user: "ops", host: "10.0.0.5", port: 22},
		{in: "[::1]:2200", host: "::1", port: 2200},
		{in: "root@[fe80::1]", user: "root", host: "fe80::1"},
		{in: "fe80::1", host: "fe80::1"},
		{in: "a@b@web1", user: "a@b", host: "web1"},
		{in: "@web1", err: "want [user@]host[:port]"},
		{in: "web1:http", err: `the port "http" is not a number`},
		{in: "web1:0", err: "from 1 to 65535"},
		{in: "[::1", err: "unclosed ["},
		{in: "[::1]x", err: "want [address]:port"},
		{in: "deploy@:22", err: "no host name"},
		{in: "web1\x1b[31m", err: "no control characters"},
		{in: "web\xff1", err: "UTF-8 text"},
		{in: "web\u00851", err: "no control characters"},
	} {
		user, host, port, err := splitHostArg(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || user != tt.user || host != tt.host || port != tt.port {
			t.Errorf("%q: %q %q %d %v, want %q %q %d", tt.in, user, host, port, err, tt.user, tt.host, tt.port)
		}
	}
}

// TestHostsConfigSeparators: -hosts "$(cat hosts)" (one host a line) and
// -hosts "a b" name each host, as commas do.
func TestHostsConfigSeparators(t *testing.T) {
	for _, in := range []string{"web1\nweb2\n", "web1 web2", "web1,\tweb2", "web[1-2]"} {
		cfg, err := hostsConfig(&arguments.Exec{Hosts: in})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		var names []string
		for _, h := range cfg.Hosts {
			names = append(names, h.Name)
		}
		if strings.Join(names, " ") != "web1 web2" {
			t.Errorf("%q: hosts %q, want web1 web2", in, names)
		}
	}
}

// TestPruneJournals: the oldest journals past the newest keep go, by the
// time their run IDs begin with; the one of a run that goes on stays.
func TestPruneJournals(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for i := range 8 {
		n := fmt.Sprintf("20261201T0000%02d-aaaaaa.jsonl", i)
		names = append(names, n)
		if err := os.WriteFile(filepath.Join(dir, n), []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live := markLive(filepath.Join(dir, names[1]))
	if live == nil {
		t.Fatal("cannot mark a journal live")
	}
	defer func() { _ = live.Close() }()
	pruneJournals(dir, 5)
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := append([]string{names[1]}, names[3:]...); !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fanout/fanout/internal/sshtest"
)

// TestFleetInventories runs, through the real binary, hosts made by
// for_each from hostrange, a YAML file and a CSV file, on the local
// transport: every instance runs the task once, selected by its block's
// label as a role.
func TestFleetInventories(t *testing.T) {
	dir, rec := workdir(t, `
host "app" {
  for_each  = hostrange("app[1-3]")
  transport = "local"
}

host "db" {
  for_each  = yamldecode(file("inventory/db.yaml"))
  transport = each.value.via
  vars      = { zone = each.value.zone }
}

host "cache" {
  for_each  = { for r in csvdecode(file("inventory/cache.csv")) : r.name => r }
  transport = "local"
}

task "t" {
  on  = ["app", "db", "cache"]
  run = "REC run"
}
`)
	writeInventory(t, filepath.Join(dir, "inventory", "db.yaml"), "db1: {via: local, zone: a}\ndb2: {via: local, zone: b}\n")
	writeInventory(t, filepath.Join(dir, "inventory", "cache.csv"), "name,size\ncache1,1G\n")

	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var hosts []string
	for _, e := range rec.read(t) {
		hosts = append(hosts, e.host)
	}
	slices.Sort(hosts)
	want := []string{"app1", "app2", "app3", "cache1", "db1", "db2"}
	if !slices.Equal(hosts, want) {
		t.Errorf("ran on %q, want %q", hosts, want)
	}

	r = fanout(t, dir, "plan", "main.hcl")
	for _, s := range []string{"hosts     app1, app2, app3, db1, db2, cache1", "db1 (1)  zone = \"a\"", "db2 (1)  zone = \"b\""} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("plan lacks %q:\n%s", s, r.stdout)
		}
	}
}

// TestFleetBadInventory checks that a mistake in an inventory is a
// diagnostic at its line, through the real binary, with nothing run.
func TestFleetBadInventory(t *testing.T) {
	tests := []struct {
		name, hcl, want string
	}{
		{"range down", `host "w" {
  for_each = hostrange("w[10-1]")
}`, `line 2, in host "w"`},
		{"unbalanced", `host "w" {
  transport = "local"
  for_each  = hostrange("w[1-3")
}`, `"w[1-3" is not a host range`},
		{"too many", `host "w" {
  for_each = hostrange("w[1-200000]")
}`, "makes more than 100000 names"},
		{"duplicate key", `host "w" {
  for_each = ["a", "b", "a"]
}`, `Duplicate for_each key "a"`},
		{"bad yaml", `host "w" {

  for_each = yamldecode(file("hosts.yaml"))
}`, `line 3, in host "w"`},
		{"yaml bomb", `host "w" {
  for_each = yamldecode(file("bomb.yaml"))
}`, "expand it to more than 1000000 values"},
		// An inventory come out empty: not a green run of nothing.
		{"empty", `host "w" {
  transport = "local"
  for_each  = csvdecode(file("empty.csv"))
}`, "nothing to run: no task has a host to run on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, rec := workdir(t, tt.hcl+"\ntask \"t\" {\n  run = \"REC run\"\n}\n")
			writeInventory(t, filepath.Join(dir, "hosts.yaml"), "a: [\n")
			writeInventory(t, filepath.Join(dir, "empty.csv"), "name\n")
			bomb := "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
			for i, c := range "bcdefghi" {
				bomb += fmt.Sprintf("%c: &%c [%s]\n", c, c, strings.TrimSuffix(strings.Repeat("*"+string("abcdefgh"[i])+", ", 9), ", "))
			}
			writeInventory(t, filepath.Join(dir, "bomb.yaml"), bomb)
			r := fanout(t, dir, "apply", "main.hcl")
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want a diagnostic with %q:\n%s", r.code, tt.want, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("a stack trace:\n%s", r.stderr)
			}
			if got := rec.read(t); len(got) != 0 {
				t.Errorf("ran %v", got)
			}
		})
	}
}

// writeInventory writes a file, and the directories it is in.
func writeInventory(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFleetSSHForEach runs hosts made by for_each from a YAML inventory
// over real sshd: the ssh transport's own host setting (port) is read
// from each.value, per host, by the plugin's schema.
func TestFleetSSHForEach(t *testing.T) {
	f := sshtest.Start(t, sshtest.Options{Hosts: 3})
	var inv strings.Builder
	for i, h := range f.Hosts {
		fmt.Fprintf(&inv, "web%d: {addr: %q, port: %d}\n", i+1, h.Addr, h.Port)
	}
	dir, rec := workdir(t, fmt.Sprintf(`
transport "ssh" {
  user        = %q
  known_hosts = [%q]
}

host "web" {
  for_each = yamldecode(file("fleet.yaml"))
  address  = each.value.addr
  port     = each.value.port
}

task "t" {
  on  = ["web"]
  run = "REC run"
}
`, f.User, f.KnownHosts))
	writeInventory(t, filepath.Join(dir, "fleet.yaml"), inv.String())
	r := fanoutSSH(t, dir, f.AgentSocket, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var hosts []string
	for _, e := range rec.read(t) {
		hosts = append(hosts, e.host)
	}
	slices.Sort(hosts)
	if want := []string{"web1", "web2", "web3"}; !slices.Equal(hosts, want) {
		t.Errorf("ran on %q, want %q", hosts, want)
	}
	for _, h := range f.Hosts {
		if n := h.AcceptedPublickey(t); n != 1 {
			t.Errorf("%s: %d logins, want 1", h.Name, n)
		}
	}
}

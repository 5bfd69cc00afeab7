package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// cmpConfig compares configurations by value, ignoring source ranges,
// kept bodies and expressions, which other tests check.
var cmpConfig = cmp.Options{
	cmp.Comparer(func(a, b cty.Value) bool {
		if a.Type() == cty.NilType || b.Type() == cty.NilType {
			return a.Type() == cty.NilType && b.Type() == cty.NilType
		}
		return a.RawEquals(b)
	}),
	cmp.Comparer(func(a, b cty.Type) bool {
		if a == cty.NilType || b == cty.NilType {
			return a == cty.NilType && b == cty.NilType
		}
		return a.Equals(b)
	}),
	cmpopts.IgnoreFields(Config{}, "EvalContext", "Files", "Dir"),
	cmpopts.IgnoreUnexported(Config{}),
	cmpopts.IgnoreFields(Host{}, "Config"),
	cmpopts.IgnoreFields(Transport{}, "Config"),
	cmpopts.IgnoreFields(Local{}, "Expr"),
	cmpopts.IgnoreTypes(hcl.Range{}),
	cmpopts.EquateEmpty(),
}

func defaultSettings() *Settings {
	return &Settings{Threads: DefaultThreads, OnFailure: OnFailureRollback, Preflight: true}
}

func TestLoadConfigValid(t *testing.T) {
	design, err := os.ReadFile("testdata/valid/design.hcl")
	if err != nil {
		t.Fatal(err)
	}

	// The hosts and tasks of the design example, shared by pointer as in a
	// loaded Config.
	web1 := &Host{Name: "web1", Address: "10.0.0.11", Roles: []string{"web", "app"}, Transport: "ssh"}
	q1 := &Host{Name: "q1", Address: "q1", Roles: []string{"queue"}, Transport: "docker"}
	appRestart := &Task{
		Name: "app_restart", On: []string{"app"}, Hosts: []*Host{web1},
		Run:      []string{"sudo systemctl restart app"},
		Rollback: []string{"sudo systemctl start app-previous"},
		Timeout:  2 * time.Minute, MaxHosts: 2,
		Env: map[string]string{"RELEASE": "2026-11-25"},
	}
	queueRestart := &Task{
		Name: "queue_restart", On: []string{"queue"}, Hosts: []*Host{q1},
		Run: []string{`echo 'it'\''s q1'`, "true"},
	}
	daemonsRestart := &Task{Name: "daemons_restart", Hosts: []*Host{web1, q1}, Run: []string{"true"}}
	daemons := &Parallelize{Name: "daemons", Threads: 10, Members: []Node{daemonsRestart}}
	restart := &Parallelize{Name: "restart", Threads: 5, Members: []Node{appRestart, queueRestart, daemons}}

	localhost := ImplicitHost()

	tests := []struct {
		name string
		src  string
		opts LoadOptions
		want *Config
	}{
		{
			name: "minimal",
			src:  `task "hello" { run = "echo hello" }`,
			want: &Config{
				Settings: defaultSettings(),
				Hosts:    []*Host{localhost},
				Tasks:    []*Task{{Name: "hello", Hosts: []*Host{localhost}, Run: []string{"echo hello"}}},
				Roots:    []Node{&Task{Name: "hello", Hosts: []*Host{localhost}, Run: []string{"echo hello"}}},
			},
		},
		{
			name: "design example",
			src:  string(design),
			want: &Config{
				Settings: defaultSettings(),
				Variables: []*Variable{{
					Name: "service", Type: cty.String,
					Default: cty.StringVal("app"), Value: cty.StringVal("app"),
				}},
				Locals: []*Local{{Name: "release", Value: cty.StringVal("2026-11-25")}},
				Transports: map[string]*Transport{
					"ssh":    {Name: "ssh"},
					"docker": {Name: "docker", SHA256: "9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c"},
				},
				Hosts:  []*Host{web1, q1},
				Tasks:  []*Task{appRestart, queueRestart, daemonsRestart},
				Groups: []*Parallelize{daemons, restart},
				Roots:  []Node{restart},
			},
		},
		{
			name: "settings and anonymous groups",
			src: `
fanout {
  threads    = 3
  on_failure = "continue"
  preflight  = false
}
task "a" { run = "a" }
parallelize {
  tasks = [task.a, parallelize.inner]
}
task "b" { run = "b" }
parallelize "inner" {
  threads = 1
  tasks   = [task.b]
}
task "c" { run = "c" }
parallelize {
  tasks = [task.c]
}
`,
			want: func() *Config {
				a := &Task{Name: "a", Hosts: []*Host{localhost}, Run: []string{"a"}}
				b := &Task{Name: "b", Hosts: []*Host{localhost}, Run: []string{"b"}}
				c := &Task{Name: "c", Hosts: []*Host{localhost}, Run: []string{"c"}}
				inner := &Parallelize{Name: "inner", Threads: 1, Members: []Node{b}}
				first := &Parallelize{Threads: 3, Members: []Node{a, inner}}
				last := &Parallelize{Threads: 3, Members: []Node{c}}
				return &Config{
					Settings: &Settings{Threads: 3, OnFailure: OnFailureContinue, Preflight: false},
					Hosts:    []*Host{localhost},
					Tasks:    []*Task{a, b, c},
					Groups:   []*Parallelize{first, inner, last},
					Roots:    []Node{first, last},
				}
			}(),
		},
		{
			name: "on selects roles and names in host order",
			src: `
host "db1" { roles = ["db"] }
host "web1" { roles = ["web", "app"] }
host "web2" {
  roles   = ["web"]
  address = "10.0.0.2"
}
task "t" {
  on  = ["web2", "db", "web"]
  run = "uptime"
}
task "all" {
  on  = null
  run = "uptime"
}
`,
			want: func() *Config {
				db1 := &Host{Name: "db1", Address: "db1", Roles: []string{"db"}, Transport: "ssh"}
				web1 := &Host{Name: "web1", Address: "web1", Roles: []string{"web", "app"}, Transport: "ssh"}
				web2 := &Host{Name: "web2", Address: "10.0.0.2", Roles: []string{"web"}, Transport: "ssh"}
				tk := &Task{Name: "t", On: []string{"web2", "db", "web"}, Hosts: []*Host{db1, web1, web2}, Run: []string{"uptime"}}
				all := &Task{Name: "all", Hosts: []*Host{db1, web1, web2}, Run: []string{"uptime"}}
				return &Config{
					Settings: defaultSettings(),
					Hosts:    []*Host{db1, web1, web2},
					Tasks:    []*Task{tk, all},
					Roots:    []Node{tk, all},
				}
			}(),
		},
		{
			name: "expressions, functions and host references",
			opts: LoadOptions{Vars: map[string]string{"ports": "[80, 443]", "pattern": "it's a $(trap)"}},
			src: `
variable "ports" { type = list(number) }
variable "pattern" {}
locals {
  web_address = host.web.address
  domain      = "example.com"
}
host "web" {
  address = "web.${local.domain}"
  roles   = [for r in ["a", "b"] : upper(r)]
}
task "t" {
  description = format("%d ports", length(var.ports))
  on          = host.web.roles
  run = [
    "grep ${shellquote(var.pattern)} log",
    "curl ${local.web_address}:${join(",", var.ports)}",
    "echo ${host["web"].name} ${length("héllo")}",
  ]
  rollback = "echo ${jsonencode({ a = 1 })}"
  timeout  = "1h30m"
  env      = merge({ A = "1" }, { B = tostring(2) })
}
`,
			want: func() *Config {
				web := &Host{Name: "web", Address: "web.example.com", Roles: []string{"A", "B"}, Transport: "ssh"}
				tk := &Task{
					Name: "t", Description: "2 ports", On: []string{"A", "B"}, Hosts: []*Host{web},
					Run: []string{
						`grep 'it'\''s a $(trap)' log`,
						"curl web.example.com:80,443",
						"echo web 5",
					},
					Rollback: []string{`echo {"a":1}`},
					Timeout:  90 * time.Minute,
					Env:      map[string]string{"A": "1", "B": "2"},
				}
				ports := cty.ListVal([]cty.Value{cty.NumberIntVal(80), cty.NumberIntVal(443)})
				return &Config{
					Settings: defaultSettings(),
					Variables: []*Variable{
						{Name: "ports", Type: cty.List(cty.Number), Value: ports},
						{Name: "pattern", Type: cty.DynamicPseudoType, Value: cty.StringVal("it's a $(trap)")},
					},
					Locals: []*Local{
						{Name: "web_address", Value: cty.StringVal("web.example.com")},
						{Name: "domain", Value: cty.StringVal("example.com")},
					},
					Hosts: []*Host{web},
					Tasks: []*Task{tk},
					Roots: []Node{tk},
				}
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustLoad(t, map[string]string{"main.hcl": tt.src}, "main.hcl", tt.opts)
			if diff := cmp.Diff(tt.want, got, cmpConfig); diff != "" {
				t.Errorf("wrong configuration (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImplicitLocalhost(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"a.hcl": `
task "t" {
  run = "echo ${host.localhost.address}"
}`}, "a.hcl", LoadOptions{})
	want := []*Host{{Name: "localhost", Address: "localhost", Transport: "local", Implicit: true}}
	if diff := cmp.Diff(want, cfg.Hosts, cmpConfig); diff != "" {
		t.Errorf("hosts (-want +got):\n%s", diff)
	}
	if cfg.Hosts[0].Config != nil {
		t.Errorf("implicit host has a Config body")
	}
	if got := cfg.Tasks[0].Run[0]; got != "echo localhost" {
		t.Errorf("run = %q", got)
	}
}

// TestKeptBodies decodes Transport.Config and Host.Config the way the core
// does, with Config.EvalContext: the attributes config reads are gone, the
// plugin's remain and can use variables.
func TestKeptBodies(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"a.hcl": `
variable "port" {
  type    = number
  default = 2222
}
transport "docker" {
  sha256 = "9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C9F2C"
  image  = "alpine"
}
host "web" {
  transport = "docker"
  roles     = ["web"]
  port      = var.port
  user      = "deploy-${host.web.name}"
}
task "t" { run = "true" }
`}, "a.hcl", LoadOptions{})

	var hostSettings struct {
		Port int    `hcl:"port"`
		User string `hcl:"user"`
	}
	if diags := gohcl.DecodeBody(cfg.Hosts[0].Config, cfg.EvalContext, &hostSettings); diags.HasErrors() {
		t.Fatal(diags)
	}
	if hostSettings.Port != 2222 || hostSettings.User != "deploy-web" {
		t.Errorf("host settings = %+v", hostSettings)
	}

	tr := cfg.Transports["docker"]
	if tr.SHA256 != "9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c" {
		t.Errorf("SHA256 = %q, want lower case", tr.SHA256)
	}
	attrs, diags := tr.Config.JustAttributes()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(attrs) != 1 || attrs["image"] == nil {
		t.Errorf("transport body holds %v, want only image", keys(attrs))
	}
}

func TestRoots(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "tasks only, in file order",
			files: map[string]string{
				"b.hcl": `task "z" { run = "z" }`,
				"a.hcl": "task \"y\" { run = \"y\" }\ntask \"x\" { run = \"x\" }",
			},
			want: []string{"task.y", "task.x", "task.z"},
		},
		{
			name: "members are not roots",
			files: map[string]string{"a.hcl": `
task "a" { run = "a" }
task "b" { run = "b" }
parallelize "g" { tasks = [task.b] }
task "c" { run = "c" }
parallelize { tasks = [parallelize.g, task.c] }
`},
			want: []string{"task.a", "parallelize"},
		},
		{
			name: "a group referenced from another file",
			files: map[string]string{
				"a.hcl": `parallelize "outer" { tasks = [parallelize.inner] }`,
				"b.hcl": "task \"t\" { run = \"t\" }\nparallelize \"inner\" { tasks = [task.t] }\ntask \"u\" { run = \"u\" }",
			},
			want: []string{"parallelize.outer", "task.u"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.files, ".", LoadOptions{})
			var got []string
			for _, r := range cfg.Roots {
				got = append(got, r.NodeName())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("roots (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExamples loads the repository's examples as the CLI does from the
// repository root: they must load without errors or warnings.
func TestExamples(t *testing.T) {
	names, err := filepath.Glob("../examples/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		rel := "examples/" + filepath.Base(name)
		t.Run(rel, func(t *testing.T) {
			p := NewParser(os.DirFS(".."))
			cfg, diags := p.LoadConfig(rel, LoadOptions{})
			if len(diags) > 0 {
				t.Fatalf("diagnostics:\n%s", render(t, p, diags))
			}
			if len(cfg.Roots) == 0 {
				t.Error("no roots")
			}
			if _, ok := p.Files()[rel]; !ok {
				t.Errorf("Files() lacks %q", rel)
			}
		})
	}
}

func TestSudo(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"main.hcl": `
variable "pw" {
  sensitive = true
  default   = "hunter22"
}
fanout { sudo_password = var.pw }
task "root" {
  run  = "id -u"
  sudo = true
}
task "app" {
  run       = "id -u"
  sudo_user = "app"
}
task "plain" { run = "id -u" }
`}, "main.hcl", LoadOptions{})
	if s := cfg.Settings; s.SudoPasswordName != "var.pw" || s.SudoPassword != "hunter22" {
		t.Errorf("sudo_password = %q %q, want var.pw hunter22", s.SudoPasswordName, s.SudoPassword)
	}
	want := map[string][2]any{"root": {true, "root"}, "app": {true, "app"}, "plain": {false, ""}}
	for _, task := range cfg.Tasks {
		if got := [2]any{task.Sudo, task.SudoUser}; got != want[task.Name] {
			t.Errorf("task %s: sudo, sudo_user = %v, want %v", task.Name, got, want[task.Name])
		}
	}
}

package config

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

func TestFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"deploy/main.hcl": {Data: []byte(`
variable "release" { default = "42" }
variable "token" {
  default   = "s3cret"
  sensitive = true
}
host "web1" {
  address = "10.0.0.1"
  roles   = ["app"]
  vars    = { weight = 3 }
}
host "web2" {
  roles = ["app", "canary"]
  vars  = { weight = 1 }
}
task "deploy" {
  upload {
    source      = "dist/app-${var.release}.tgz"
    destination = "/opt/app/releases/${var.release}.tgz"
    mode        = "0640"
  }
  upload {
    content     = templatefile("app.conf.tftpl", { host = target.name, addr = target.address, roles = target.roles })
    destination = "/etc/app/app.conf"
  }
  upload {
    content     = "token=${var.token}\n"
    destination = "/etc/app/token"
    mode        = "4755"
  }
  run = "true"
}
task "per_host" {
  run      = ["echo ${target.name} ${join(",", target.roles)}", "true"]
  rollback = "echo undo ${var.release}"
  env      = { WHERE = target.address, RELEASE = var.release, WEIGHT = target.vars.weight }
}
task "collect" {
  on = ["canary"]
  download {
    source      = "/var/log/app.log"
    destination = "logs/app.log"
  }
}
task "collect_all" {
  download {
    source      = "/var/log/${target.name}.log"
    destination = "logs/${target.name}.log"
  }
}
`)},
		"deploy/app.conf.tftpl":   {Data: []byte("name=${host} addr=${addr}\n%{ for r in roles }role=${r}\n%{ endfor }")},
		"deploy/dist/app-42.tgz":  {Data: []byte("tarball")},
		"deploy/dist/unrelated.x": {Data: []byte("x")},
	}
	cfg, diags := NewParser(fsys).LoadConfig("deploy/main.hcl", LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	tasks := map[string]*Task{}
	for _, task := range cfg.Tasks {
		tasks[task.Name] = task
	}
	opts := cmpopts.IgnoreTypes(hcl.Range{})

	release := &Upload{Path: "deploy/dist/app-42.tgz", Source: "deploy/dist/app-42.tgz", Destination: "/opt/app/releases/42.tgz", Mode: 0o640}
	token := &Upload{Content: "token=s3cret\n", HasContent: true, Destination: "/etc/app/token", Mode: 0o755 | fs.ModeSetuid, Sensitive: true}
	want := map[string]*Files{
		"web1": {Uploads: []*Upload{release,
			{Content: "name=web1 addr=10.0.0.1\nrole=app\n", HasContent: true, Destination: "/etc/app/app.conf"}, token}},
		"web2": {Uploads: []*Upload{release,
			{Content: "name=web2 addr=web2\nrole=app\nrole=canary\n", HasContent: true, Destination: "/etc/app/app.conf"}, token}},
	}
	if diff := cmp.Diff(want, tasks["deploy"].Files, opts); diff != "" {
		t.Errorf("deploy's files (-want +got):\n%s", diff)
	}
	if tasks["deploy"].Run == nil {
		t.Error("deploy lost its run")
	}

	wantValues := map[string]*HostValues{
		"web1": {Run: []string{"echo web1 app", "true"}, Rollback: []string{"echo undo 42"}, Env: map[string]string{"WHERE": "10.0.0.1", "RELEASE": "42", "WEIGHT": "3"}},
		"web2": {Run: []string{"echo web2 app,canary", "true"}, Rollback: []string{"echo undo 42"}, Env: map[string]string{"WHERE": "web2", "RELEASE": "42", "WEIGHT": "1"}},
	}
	if diff := cmp.Diff(wantValues, tasks["per_host"].PerHost); diff != "" {
		t.Errorf("per_host's values (-want +got):\n%s", diff)
	}
	if tasks["deploy"].PerHost != nil {
		t.Errorf("deploy has per-host values, but none of its commands refers to target")
	}

	// One host: a fixed destination is fine.
	want = map[string]*Files{"web2": {Downloads: []*Download{{Source: "/var/log/app.log", Destination: "logs/app.log"}}}}
	if diff := cmp.Diff(want, tasks["collect"].Files, opts); diff != "" {
		t.Errorf("collect's files (-want +got):\n%s", diff)
	}
	if tasks["collect"].Run != nil {
		t.Errorf("collect has run %q, want none", tasks["collect"].Run)
	}
	want = map[string]*Files{
		"web1": {Downloads: []*Download{{Source: "/var/log/web1.log", Destination: "logs/web1.log"}}},
		"web2": {Downloads: []*Download{{Source: "/var/log/web2.log", Destination: "logs/web2.log"}}},
	}
	if diff := cmp.Diff(want, tasks["collect_all"].Files, opts); diff != "" {
		t.Errorf("collect_all's files (-want +got):\n%s", diff)
	}
}

// openCounter counts the opens of each name of its file system.
type openCounter struct {
	fs.FS
	opens map[string]int
}

func (o *openCounter) Open(name string) (fs.File, error) {
	o.opens[name]++
	return o.FS.Open(name)
}

// TestTemplateFileReadOnce: templatefile of target.* renders for each
// host, but its file is read (and parsed) once per configuration, not once
// per host: a fleet's configuration loads in the time of a few hosts'.
func TestTemplateFileReadOnce(t *testing.T) {
	fsys := &openCounter{opens: map[string]int{}, FS: fstest.MapFS{
		"main.hcl": {Data: []byte(`
host "web1" {}
host "web2" {}
host "web3" {}
task "deploy" {
  upload {
    content     = templatefile("app.conf.tftpl", { host = target.name })
    destination = "/etc/app.conf"
  }
}
`)},
		"app.conf.tftpl": {Data: []byte("name=${host}\n")},
	}}
	cfg, diags := NewParser(fsys).LoadConfig("main.hcl", LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, h := range []string{"web1", "web2", "web3"} {
		if got, want := cfg.Tasks[0].Files[h].Uploads[0].Content, "name="+h+"\n"; got != want {
			t.Errorf("%s: content %q, want %q", h, got, want)
		}
	}
	if n := fsys.opens["app.conf.tftpl"]; n != 1 {
		t.Errorf("the template was opened %d times for 3 hosts, want once", n)
	}
}

// TestTemplateFileCallsFunctions: a template calls the configuration's
// functions, for each host that renders it.
func TestTemplateFileCallsFunctions(t *testing.T) {
	fsys := fstest.MapFS{
		"main.hcl": {Data: []byte(`
host "web1" {}
host "web2" {}
task "deploy" {
  upload {
    content     = templatefile("app.conf.tftpl", { host = target.name })
    destination = "/etc/app.conf"
  }
}
`)},
		"app.conf.tftpl": {Data: []byte("name=${upper(host)} ${join(\",\", [host, \"x\"])}\n")},
	}
	cfg, diags := NewParser(fsys).LoadConfig("main.hcl", LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, h := range []string{"web1", "web2"} {
		if got, want := cfg.Tasks[0].Files[h].Uploads[0].Content, map[string]string{"web1": "name=WEB1 web1,x\n", "web2": "name=WEB2 web2,x\n"}[h]; got != want {
			t.Errorf("%s: content %q, want %q", h, got, want)
		}
	}
}

// TestParserBase: with the current directory as Parser.Base in a file
// system rooted at "/", a configuration reads file() and upload sources
// beside or above its directory wherever it is loaded from, and uploads
// show their source relative to the current directory, or absolute
// outside it; diagnostics name files as given.
func TestParserBase(t *testing.T) {
	fsys := fstest.MapFS{
		"srv/ops/inventory.yml":     {Data: []byte("web: [a, b]\n")},
		"srv/ops/dist/app.tgz":      {Data: []byte("tgz")},
		"srv/ops/deploy/main.hcl":   {Data: []byte(baseHCL)},
		"srv/ops/deploy/broken.hcl": {Data: []byte("task {\n")},
	}
	for _, tt := range []struct{ base, config, source string }{
		{base: "srv/ops/deploy", config: "main.hcl", source: "../dist/app.tgz"},
		{base: "srv/ops/deploy/x/y", config: "../../main.hcl", source: "/srv/ops/dist/app.tgz"},
		{base: "srv/ops", config: "deploy/main.hcl", source: "dist/app.tgz"},
		{base: "srv", config: "ops/deploy/main.hcl", source: "ops/dist/app.tgz"},
		{base: "tmp", config: "/srv/ops/deploy/main.hcl", source: "/srv/ops/dist/app.tgz"},
	} {
		p := NewParser(fsys)
		p.Base = tt.base
		cfg, diags := p.LoadConfig(tt.config, LoadOptions{})
		if diags.HasErrors() {
			t.Errorf("from %s, %s: %s", tt.base, tt.config, diags.Error())
			continue
		}
		if len(cfg.Hosts) != 2 {
			t.Errorf("from %s, %s: %d hosts from ../inventory.yml, want 2", tt.base, tt.config, len(cfg.Hosts))
		}
		u := cfg.Tasks[0].Files["a"].Uploads[0]
		if u.Source != tt.source || u.Path != "srv/ops/dist/app.tgz" {
			t.Errorf("from %s, %s: upload source %q (path %q), want %q", tt.base, tt.config, u.Source, u.Path, tt.source)
		}
	}
	p := NewParser(fsys)
	p.Base = "srv/ops/deploy"
	if _, diags := p.LoadConfig("broken.hcl", LoadOptions{}); !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Filename != "broken.hcl" {
		t.Errorf("a syntax error is named %v, want in broken.hcl", diags)
	}
}

const baseHCL = `
host "h" {
  for_each  = toset(yamldecode(file("../inventory.yml")).web)
  transport = "local"
}
task "deploy" {
  upload {
    source      = "../dist/app.tgz"
    destination = "/opt/app.tgz"
  }
  run = "true"
}
`

// TestParserAbsolutePaths: in a file system that is the machine's root
// (Parser.Rooted), file(), templatefile() and upload sources may name
// absolute paths, as Terraform's may; elsewhere an absolute path is refused
// at its line, saying to write a relative one.
func TestParserAbsolutePaths(t *testing.T) {
	const hcl = `
host "h" {
  for_each  = toset(yamldecode(file("/etc/fanout/inventory.yml")).web)
  transport = "local"
  vars      = { line = templatefile("/etc/fanout/line.tftpl", { n = each.key }) }
}
task "deploy" {
  upload {
    source      = "/srv/dist/app.tgz"
    destination = "/opt/app.tgz"
  }
  run = "echo ${target.vars.line}"
}
`
	fsys := fstest.MapFS{
		"etc/fanout/inventory.yml": {Data: []byte("web: [a, b]\n")},
		"etc/fanout/line.tftpl":    {Data: []byte("host ${n}")},
		"srv/dist/app.tgz":         {Data: []byte("tgz")},
		"home/op/deploy/main.hcl":  {Data: []byte(hcl)},
	}
	p := NewParser(fsys)
	p.Base, p.Rooted = "home/op/deploy", true
	cfg, diags := p.LoadConfig("main.hcl", LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(cfg.Hosts) != 2 {
		t.Fatalf("%d hosts from /etc/fanout/inventory.yml, want 2", len(cfg.Hosts))
	}
	if got := cfg.Tasks[0].PerHost["b"].Run; len(got) != 1 || got[0] != "echo host b" {
		t.Errorf("b runs %q, want the template's \"echo host b\"", got)
	}
	if u := cfg.Tasks[0].Files["a"].Uploads[0]; u.Source != "/srv/dist/app.tgz" || u.Path != "srv/dist/app.tgz" {
		t.Errorf("upload source %q (path %q), want /srv/dist/app.tgz", u.Source, u.Path)
	}

	p = NewParser(fsys)
	p.Base = "home/op/deploy"
	_, diags = p.LoadConfig("main.hcl", LoadOptions{})
	if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 3 ||
		!strings.Contains(diags.Error(), `"/etc/fanout/inventory.yml" must be relative to the configuration's directory`) {
		t.Errorf("not rooted: %v, want file()'s absolute path refused at line 3", diags)
	}
}

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests run upload and download blocks through the real fanout
// binary and its local transport plugin: files, trees, templates, per-host
// values, the plan that shows them, and a failed upload's rollback.

// writeFiles writes files (path -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func modeOf(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// checkTree checks the mode of each entry under root/host, and that
// tree/link under it is a link to sub/b, as uploaded.
func checkTree(t *testing.T, root, host string, modes map[string]os.FileMode) {
	t.Helper()
	for p, want := range modes {
		if got := modeOf(t, filepath.Join(root, host, p)); got != want {
			t.Errorf("%s: %s has mode %v, want %v", host, p, got, want)
		}
	}
	if target, err := os.Readlink(filepath.Join(root, host, "tree/link")); err != nil || target != "sub/b" {
		t.Errorf("%s: tree/link -> %q (%v), want a link to sub/b", host, target, err)
	}
}

const filesHCL = `
variable "token" {
  default   = "s3cret-token"
  sensitive = true
}
host "web1" {
  transport = "local"
  roles     = ["app"]
}
host "web2" {
  transport = "local"
  roles     = ["app", "canary"]
}
task "deploy" {
  upload {
    source      = "dist/app.bin"
    destination = "DEST/${target.name}/app.bin"
    mode        = "0640"
  }
  upload {
    source      = "dist/tree"
    destination = "DEST/${target.name}/tree"
  }
  upload {
    content     = templatefile("app.conf.tftpl", { name = target.name, roles = target.roles })
    destination = "DEST/${target.name}/app.conf"
  }
  upload {
    content     = "token=${var.token}\n"
    destination = "DEST/${target.name}/token"
    mode        = "0600"
  }
  run = "cat DEST/$FANOUT_HOST/app.conf"
}
task "collect" {
  download {
    source      = "DEST/${target.name}/app.conf"
    destination = "logs/${target.name}/app.conf"
  }
}
`

// filesDir makes a working directory with filesHCL, its template and its
// sources: a 5 MB file, and a tree with a subdirectory of its own mode and
// a symbolic link. DEST is dest.
func filesDir(t *testing.T, dest string) (dir string, app []byte) {
	t.Helper()
	dir = t.TempDir()
	app = make([]byte, 5<<20+7)
	_, _ = rand.Read(app)
	writeFiles(t, dir, map[string]string{
		"main.hcl":          strings.ReplaceAll(filesHCL, "DEST", dest),
		"app.conf.tftpl":    "name=${name}\n%{ for r in roles }role=${r}\n%{ endfor }",
		"dist/app.bin":      string(app),
		"dist/tree/a.txt":   "a\n",
		"dist/tree/sub/b":   "b\n",
		"dist/unrelated.go": "package x\n",
	})
	if err := os.Chmod(filepath.Join(dir, "dist/tree/sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/b", filepath.Join(dir, "dist/tree/link")); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"web1", "web2"} {
		if err := os.MkdirAll(filepath.Join(dest, h), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir, app
}

func TestFilesApply(t *testing.T) {
	dest := t.TempDir()
	dir, app := filesDir(t, dest)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cret-token") {
		t.Errorf("the sensitive content was shown:\n%s", r.stdout)
	}
	journalHoldsTransfers(t, dir, dest)
	for _, h := range []string{"web1", "web2"} {
		got, err := os.ReadFile(filepath.Join(dest, h, "app.bin"))
		if err != nil || !bytes.Equal(got, app) {
			t.Errorf("%s: app.bin differs from the source (%v)", h, err)
		}
		checkTree(t, dest, h, map[string]os.FileMode{
			"app.bin":       0o640,
			"token":         0o600,
			"app.conf":      0o644,
			"tree":          os.ModeDir | 0o755,
			"tree/sub":      os.ModeDir | 0o750,
			"tree/a.txt":    0o644,
			"tree/sub/b":    0o644,
			"tree/link":     os.ModeSymlink | 0o777,
			"../" + h + "/": os.ModeDir | 0o755,
		})
		entries, _ := os.ReadDir(filepath.Join(dest, h))
		if len(entries) != 4 {
			t.Errorf("%s: destination holds %d entries, want 4 (app.bin, app.conf, token, tree): no temporary file may stay", h, len(entries))
		}
		// Downloaded into a directory fanout created, mode set explicitly.
		conf := filepath.Join(dir, "logs", h, "app.conf")
		got, err = os.ReadFile(conf)
		if err != nil || !strings.HasPrefix(string(got), "name="+h+"\nrole=app\n") {
			t.Errorf("%s: downloaded app.conf = %q (%v)", h, got, err)
		}
		if m := modeOf(t, conf); m != 0o644 {
			t.Errorf("%s: downloaded file has mode %v, want 0644", h, m)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "web2", "app.conf")); string(got) != "name=web2\nrole=app\nrole=canary\n" {
		t.Errorf("web2's rendered template = %q", got)
	}
	if !strings.Contains(r.stdout, "role=canary") {
		t.Errorf("the run did not see the uploaded file:\n%s", r.stdout)
	}
}

func TestFilesPlan(t *testing.T) {
	dest := "/srv"
	dir, _ := filesDir(t, t.TempDir())
	writeFiles(t, dir, map[string]string{"main.hcl": strings.ReplaceAll(filesHCL, "DEST", dest)})
	r := fanout(t, dir, "plan", "main.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"upload    dist/app.bin (5.2 MB) -> /srv/web1/app.bin, mode 0640  [web1]",
		"dist/app.bin (5.2 MB) -> /srv/web2/app.bin, mode 0640  [web2]",
		"dist/tree/ (2 files, 4 B) -> /srv/web1/tree  [web1]",
		"content (19 B) -> /srv/web1/app.conf  [web1]",
		"content (sensitive, 19 B) -> /srv/web1/token, mode 0600  [web1]",
		"download  /srv/web1/app.conf -> logs/web1/app.conf  [web1]",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "s3cret") {
		t.Errorf("plan shows the sensitive content:\n%s", r.stdout)
	}

	r = fanout(t, dir, "plan", "-json", "main.hcl")
	var doc struct {
		Roots []struct {
			Name      string `json:"name"`
			Transfers []struct {
				Kind        string   `json:"kind"`
				Source      string   `json:"source"`
				Content     bool     `json:"content"`
				Sensitive   bool     `json:"sensitive"`
				Destination string   `json:"destination"`
				Size        *int64   `json:"size"`
				Files       int      `json:"files"`
				Directory   bool     `json:"directory"`
				Mode        string   `json:"mode"`
				Hosts       []string `json:"hosts"`
			} `json:"transfers"`
		} `json:"roots"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, r.stdout)
	}
	tr := doc.Roots[0].Transfers
	if len(tr) != 8 || len(doc.Roots[1].Transfers) != 2 {
		t.Fatalf("plan -json has %d and %d transfers, want 8 (4 uploads on 2 hosts) and 2:\n%s", len(tr), len(doc.Roots[1].Transfers), r.stdout)
	}
	if tr[0].Kind != "upload" || tr[0].Source != "dist/app.bin" || tr[0].Size == nil || *tr[0].Size != 5<<20+7 ||
		tr[0].Mode != "0640" || tr[0].Destination != "/srv/web1/app.bin" || strings.Join(tr[0].Hosts, ",") != "web1" {
		t.Errorf("first transfer = %+v", tr[0])
	}
	if !tr[2].Directory || tr[2].Files != 2 {
		t.Errorf("tree transfer = %+v", tr[2])
	}
	if !tr[6].Content || !tr[6].Sensitive {
		t.Errorf("token transfer = %+v, want sensitive content", tr[6])
	}
}

// A failed upload fails its pair, and the rollback undoes what ran; the
// destination is left as it was.
func TestFilesUploadFailureRollsBack(t *testing.T) {
	dest := t.TempDir()
	dir, rec := workdir(t, `
host "web1" { transport = "local" }
host "web2" { transport = "local" }
task "first" {
  run      = "REC first"
  rollback = "REC undo-first"
}
task "deploy" {
  upload {
    content     = "new\n"
    destination = "DEST/${target.name}/conf"
  }
  run      = "REC deploy"
  rollback = "REC undo-deploy"
}
`)
	writeFiles(t, dir, map[string]string{"main.hcl": strings.ReplaceAll(mustRead(t, filepath.Join(dir, "main.hcl")), "DEST", dest)})
	// web2's directory does not exist: its upload cannot be written.
	writeFiles(t, dest, map[string]string{"web1/conf": "old\n"})
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, `task "deploy" failed on host "web2": upload `+dest+"/web2/conf: cannot write in "+dest+"/web2") {
		t.Errorf("the failure does not say which upload failed and why:\n%s", r.stdout)
	}
	recs := rec.read(t)
	undone := map[string]bool{}
	for _, x := range recs {
		if x.phase == "rollback" {
			undone[x.kind+" "+x.host] = true
		}
		if x.kind == "deploy" && x.host == "web2" {
			t.Error("deploy's run ran on web2 after its upload failed")
		}
	}
	for _, want := range []string{"undo-deploy web2", "undo-first web1", "undo-first web2"} {
		if !undone[want] {
			t.Errorf("no %s in the rollback; recorded %v", want, recs)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "web2")); err == nil {
		t.Error("the failed upload created web2's directory")
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A task with files on a transport that does not declare the capability
// is refused when planned, on the block, before anything runs.
func TestFilesNeedCapability(t *testing.T) {
	hcl := strings.Replace(echoHCL, `task "hello" {`, `task "hello" {
  upload {
    content     = "x"
    destination = "/tmp/never"
  }`, 1)
	e := newPluginEnv(t, hcl)
	installPlugin(t, "echo", filepath.Join(e.dir, ".fanout", "plugins"))
	stdout, stderr, code := e.run(t, "apply", "main.hcl")
	if code == 0 {
		t.Fatalf("apply succeeded:\n%s", stdout)
	}
	for _, want := range []string{`Transport "echo" cannot upload files`, "main.hcl line 12", "does not declare the upload capability"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "ran")); err == nil {
		t.Error("the task ran")
	}
}

// run, rollback and env that refer to target are evaluated per host, and
// the plan shows them per set of hosts that get the same.
func TestTargetPerHost(t *testing.T) {
	dir, rec := workdir(t, `
host "web1" {
  transport = "local"
  roles     = ["app"]
}
host "web2" {
  transport = "local"
  roles     = ["app"]
}
host "db1" {
  transport = "local"
  address   = "127.0.0.9"
  roles     = ["db"]
}
task "hello" {
  run      = ["echo ${target.name} is ${target.roles[0]} at $WHERE", "false"]
  rollback = "REC undo-${target.roles[0]}"
  env      = { WHERE = target.address }
}
`)
	r := fanout(t, dir, "plan", "main.hcl")
	for _, want := range []string{
		"on        web1\n    run       1. echo web1 is app at $WHERE",
		"on        db1\n    run       1. echo db1 is db at $WHERE\n              2. false\n    rollback  " + filepath.Join(dir, "rec.sh") + " undo-db\n    env       WHERE=\"127.0.0.9\"",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	r = fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (false fails)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"web1 is app at web1", "web2 is app at web2", "db1 is db at 127.0.0.9"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, r.stdout)
		}
	}
	got := map[string]bool{}
	for _, x := range rec.read(t) {
		got[x.kind+" "+x.host] = true
	}
	for _, want := range []string{"undo-app web1", "undo-app web2", "undo-db db1"} {
		if !got[want] {
			t.Errorf("rollback %q did not run; got %v", want, got)
		}
	}
}

// examples/deploy.hcl runs as it is on the local transport, and a broken
// release switches every host back.
func TestApplyDeployExample(t *testing.T) {
	root, _ := filepath.Abs("../..")
	state := "/tmp/fanout-deploy-example"
	if err := os.RemoveAll(state); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(state) })
	r := fanout(t, root, "apply", "examples/deploy.hcl")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "app 2026-11-30 (build 2026-11-30), 2 roles, workers=4") {
		t.Errorf("app1 does not run the new release with its config:\n%s", r.stdout)
	}
	if got := mustRead(t, filepath.Join(state, "fetched", "app2.conf")); !strings.Contains(got, "release=2026-11-30\nrole=app\nworkers=2\n") {
		t.Errorf("app2's fetched config = %q", got)
	}
	r = fanout(t, root, "apply", "-var", "release=2026-12-01", "-var", "broken=app2", "examples/deploy.hcl")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, h := range []string{"app1", "app2"} {
		if link, err := os.Readlink(filepath.Join(state, h, "current")); err != nil || link != "releases/2026-11-30" {
			t.Errorf("%s: current -> %q (%v) after the rollback, want releases/2026-11-30", h, link, err)
		}
	}
}

// `fanout rollback` of a journal runs each host's own rollback commands,
// which the journal keeps per host when they refer to target.
func TestRollbackPerHostCommands(t *testing.T) {
	dir, rec := workdir(t, `
fanout { on_failure = "stop" }
host "web1" { transport = "local" }
host "web2" { transport = "local" }
task "hello" {
  run      = "REC run-${target.name}"
  rollback = "REC undo-${target.name}"
}
task "fail" {
  run = "false"
}
`)
	r := fanout(t, dir, "apply", "main.hcl")
	if r.code != 1 {
		t.Fatalf("apply: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = fanout(t, dir, "rollback", "-auto-approve", runID(t, r.stdout))
	if r.code != 0 {
		t.Fatalf("rollback: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := map[string]string{}
	for _, x := range rec.read(t) {
		if x.phase == "rollback" {
			got[x.host] = x.kind
		}
	}
	if want := map[string]string{"web1": "undo-web1", "web2": "undo-web2"}; !maps.Equal(got, want) {
		t.Errorf("rollbacks ran %v, want %v", got, want)
	}
}

// journalHoldsTransfers checks that the journal of the one run in dir
// says which files went where, by host (uploads to dest, the download to
// logs/), and holds no content: an auditor reads it, not the terminal.
func journalHoldsTransfers(t *testing.T, dir, dest string) {
	t.Helper()
	b, err := os.ReadFile(journalOf(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("s3cret-token")) || bytes.Contains(b, []byte("name=web1")) {
		t.Error("the journal holds an upload's content")
	}
	var first struct {
		Header struct {
			Plan struct {
				Tasks []struct {
					Name      string `json:"name"`
					Transfers []struct {
						Kind        string   `json:"kind"`
						Destination string   `json:"destination"`
						Mode        string   `json:"mode"`
						Sensitive   bool     `json:"sensitive"`
						Hosts       []string `json:"hosts"`
					} `json:"transfers"`
				} `json:"tasks"`
			} `json:"plan"`
		} `json:"header"`
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if err := json.Unmarshal(line, &first); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, task := range first.Header.Plan.Tasks {
		for _, tr := range task.Transfers {
			for _, h := range tr.Hosts {
				got[fmt.Sprintf("%s %s %s %s mode=%s sensitive=%v", task.Name, tr.Kind, h, tr.Destination, tr.Mode, tr.Sensitive)] = true
			}
		}
	}
	for _, h := range []string{"web1", "web2"} {
		for _, want := range []string{
			fmt.Sprintf("deploy upload %s %s/%s/app.bin mode=0640 sensitive=false", h, dest, h),
			fmt.Sprintf("deploy upload %s %s/%s/token mode=0600 sensitive=true", h, dest, h),
			fmt.Sprintf("collect download %s logs/%s/app.conf mode= sensitive=false", h, h),
		} {
			if !got[want] {
				t.Errorf("the journal lacks %q; it has %v", want, got)
			}
		}
	}
}

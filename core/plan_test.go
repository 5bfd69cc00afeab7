package core

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fanout/fanout/config"
	"github.com/google/go-cmp/cmp"
)

// selectionConfig has five hosts in two roles, a task per role, a task on
// every host, and a group holding the role tasks.
const selectionConfig = `
host "web01" {
  roles     = ["web"]
  transport = "local"
}
host "web02" {
  roles     = ["web"]
  transport = "local"
}
host "web10" {
  roles     = ["web", "canary"]
  transport = "local"
}
host "db1" {
  roles     = ["db"]
  transport = "local"
}
host "db2" {
  roles     = ["db"]
  transport = "local"
}
task "web_restart" {
  on  = ["web"]
  run = "true"
}
task "db_restart" {
  on  = ["db"]
  run = "true"
}
task "all" {
  run = "true"
}
parallelize "restart" {
  tasks = [task.web_restart, task.db_restart]
}
`

func loadTestConfig(t *testing.T, src string) *config.Config {
	t.Helper()
	p := config.NewParser(fstest.MapFS{"main.hcl": {Data: []byte(src)}})
	cfg, diags := p.LoadConfig("main.hcl", config.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("loading: %v", diags)
	}
	return cfg
}

// planShape renders a plan's tree compactly: task(host,host) and
// group[members].
func planShape(p *Plan) string {
	var node func(n Node) string
	node = func(n Node) string {
		switch n := n.(type) {
		case *TaskNode:
			var hs []string
			for _, h := range n.Hosts {
				hs = append(hs, h.Name)
			}
			return n.Name + "(" + strings.Join(hs, ",") + ")"
		case *Group:
			var ms []string
			for _, m := range n.Members {
				ms = append(ms, node(m))
			}
			return n.Name + "[" + strings.Join(ms, " ") + "]"
		}
		return "?"
	}
	var out []string
	for _, r := range p.Roots {
		out = append(out, node(r))
	}
	return strings.Join(out, " ")
}

// TestSelectionAmbiguousName: a name given after the configuration that
// both a task and a parallelize block have is refused, naming the two
// qualified names, rather than run whichever is looked up first.
func TestSelectionAmbiguousName(t *testing.T) {
	cfg := loadTestConfig(t, `
host "h" {
  transport = "local"
}
task "a" {
  run = "echo task-a"
}
task "b" {
  run = "echo task-b"
}
parallelize "a" {
  tasks = [task.b]
}
`)
	_, diags := BuildPlan(context.Background(), cfg, PlanOptions{Targets: []string{"a"}})
	if !diags.HasErrors() || diags[0].Summary != `Ambiguous name "a"` || !strings.Contains(diags[0].Detail, "task.a or parallelize.a") {
		t.Errorf("diagnostics = %v, want the name refused as ambiguous", diags)
	}
	for target, want := range map[string]string{"task.a": "a(h)", "parallelize.a": "a[b(h)]"} {
		p, diags := BuildPlan(context.Background(), cfg, PlanOptions{Targets: []string{target}})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", target, diags)
		}
		if got := planShape(p); got != want {
			t.Errorf("%s: plan %s, want %s", target, got, want)
		}
	}
}

func TestBuildPlanSelection(t *testing.T) {
	tests := []struct {
		name           string
		limit, exclude []string
		targets        []string
		want           string
		wantHosts      string
		wantUnselected string
		wantErr        string
		wantDetail     string
	}{
		{
			name:      "no selection keeps everything",
			want:      "all(web01,web02,web10,db1,db2) restart[web_restart(web01,web02,web10) db_restart(db1,db2)]",
			wantHosts: "web01,web02,web10,db1,db2",
		},
		{
			name:  "a host name",
			limit: []string{"db1"},
			want:  "all(db1) restart[db_restart(db1)]", wantHosts: "db1", wantUnselected: "web01,web02,web10,db2",
		},
		{
			name:  "a role prunes the tasks of other roles",
			limit: []string{"web"},
			want:  "all(web01,web02,web10) restart[web_restart(web01,web02,web10)]", wantHosts: "web01,web02,web10", wantUnselected: "db1,db2",
		},
		{
			name:  "a glob over names",
			limit: []string{"web0*"},
			want:  "all(web01,web02) restart[web_restart(web01,web02)]", wantHosts: "web01,web02", wantUnselected: "web10,db1,db2",
		},
		{
			name:  "a glob over roles",
			limit: []string{"can*"},
			want:  "all(web10) restart[web_restart(web10)]", wantHosts: "web10", wantUnselected: "web01,web02,db1,db2",
		},
		{
			name:  "several patterns add up",
			limit: []string{"web01", "db?"},
			want:  "all(web01,db1,db2) restart[web_restart(web01) db_restart(db1,db2)]", wantHosts: "web01,db1,db2", wantUnselected: "web02,web10",
		},
		{
			name:    "exclude alone",
			exclude: []string{"canary", "db2"},
			want:    "all(web01,web02,db1) restart[web_restart(web01,web02) db_restart(db1)]", wantHosts: "web01,web02,db1", wantUnselected: "web10,db2",
		},
		{
			name:  "limit then exclude",
			limit: []string{"web"}, exclude: []string{"web1*"},
			want: "all(web01,web02) restart[web_restart(web01,web02)]", wantHosts: "web01,web02", wantUnselected: "web10,db1,db2",
		},
		{
			name:    "with targets",
			limit:   []string{"db"},
			targets: []string{"db_restart"},
			want:    "db_restart(db1,db2)", wantHosts: "db1,db2", wantUnselected: "web01,web02,web10",
		},
		{
			name:  "a nodeset, as the views fold hosts",
			limit: []string{"web[02-10]"},
			want:  "all(web02,web10) restart[web_restart(web02,web10)]", wantHosts: "web02,web10", wantUnselected: "web01,db1,db2",
		},
		{
			name:  "a nodeset list, partly unknown names",
			limit: []string{"web[01,10,11]", "db[1-5]"}, exclude: []string{"db[2,3]"},
			want: "all(web01,web10,db1) restart[web_restart(web01,web10) db_restart(db1)]", wantHosts: "web01,web10,db1", wantUnselected: "web02,db2",
		},
		{
			name:  "a bracket without a range or list stays a glob",
			limit: []string{"db[12]"},
			want:  "all(db1,db2) restart[db_restart(db1,db2)]", wantHosts: "db1,db2", wantUnselected: "web01,web02,web10",
		},
		{
			name:    "a task and the group holding it run once",
			targets: []string{"web_restart", "restart", "all", "task.web_restart"},
			want:    "restart[web_restart(web01,web02,web10) db_restart(db1,db2)] all(web01,web02,web10,db1,db2)", wantHosts: "web01,web02,web10,db1,db2",
		},
		{name: "a bad nodeset", limit: []string{"web[10-1]"}, wantErr: `Invalid host pattern "web[10-1]"`},
		{name: "a nodeset matching nothing", limit: []string{"web[03-09]"}, wantErr: `No host matches "web[03-09]"`},
		{name: "a pattern matching nothing", limit: []string{"web", "wbe*"}, wantErr: `No host matches "wbe*"`},
		{name: "an exclusion matching nothing", exclude: []string{"cache"}, wantErr: `No host matches "cache"`},
		{name: "a bad glob", limit: []string{"web["}, wantErr: `Invalid host pattern "web["`},
		{name: "everything excluded", limit: []string{"db"}, exclude: []string{"db*"}, wantErr: "No host selected", wantDetail: "matching the limit is also excluded"},
		{name: "everything excluded, no limit", exclude: []string{"*"}, wantErr: "No host selected", wantDetail: "Every host is excluded, so nothing would run. Change the exclusions."},
		{name: "no target task on the hosts", limit: []string{"db1"}, targets: []string{"web_restart"}, wantErr: "No task runs on the selected hosts"},
	}
	cfg := loadTestConfig(t, selectionConfig)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, diags := BuildPlan(context.Background(), cfg, PlanOptions{Limit: tt.limit, Exclude: tt.exclude, Targets: tt.targets})
			if tt.wantErr != "" {
				if !diags.HasErrors() || diags[0].Summary != tt.wantErr || !strings.Contains(diags[0].Detail, tt.wantDetail) {
					t.Fatalf("diagnostics = %v, want %q (%q)", diags, tt.wantErr, tt.wantDetail)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("diagnostics: %v", diags)
			}
			if diff := cmp.Diff(tt.want, planShape(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			var hosts []string
			for _, h := range p.Hosts {
				hosts = append(hosts, h.Name)
			}
			if got := strings.Join(hosts, ","); got != tt.wantHosts {
				t.Errorf("Hosts = %s, want %s", got, tt.wantHosts)
			}
			if got := strings.Join(p.Unselected, ","); got != tt.wantUnselected {
				t.Errorf("Unselected = %s, want %s", got, tt.wantUnselected)
			}
		})
	}
}

func TestSelectionDiagnosticNamesHostsAndRoles(t *testing.T) {
	cfg := loadTestConfig(t, selectionConfig)
	_, diags := BuildPlan(context.Background(), cfg, PlanOptions{Limit: []string{"wbe"}})
	if len(diags) != 1 {
		t.Fatalf("diagnostics = %v", diags)
	}
	for _, want := range []string{`limit pattern "wbe"`, "web01, web02, web10, db1, db2", "Roles: web, canary, db"} {
		if !strings.Contains(diags[0].Detail, want) {
			t.Errorf("detail %q lacks %q", diags[0].Detail, want)
		}
	}
}

// TestEmptyConfigurationIsAnError: a configuration of no task is not a
// successful run of nothing.
func TestEmptyConfigurationIsAnError(t *testing.T) {
	for _, src := range []string{"", "variable \"x\" {\n  default = 1\n}\nhost \"h\" {\n  transport = \"local\"\n}\n"} {
		cfg := loadTestConfig(t, src)
		p, diags := BuildPlan(context.Background(), cfg, PlanOptions{})
		if p != nil || !diags.HasErrors() || diags[0].Summary != "No task in the configuration" {
			t.Errorf("BuildPlan(%q) = %v, %v; want no plan and an error", src, p, diags)
		}
	}
}

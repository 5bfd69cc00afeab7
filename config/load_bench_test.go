package config

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
)

// BenchmarkLoadConfig loads configurations of tasks x hosts from memory:
// the parse, the evaluation of every block and the reference checks that
// `fanout plan` and `fanout apply` pay before anything else. Compare runs
// with benchstat (go test -run '^$' -bench LoadConfig -count 10 ./config/).
// The hosts axis shows how loading grows with the number of host blocks.
func BenchmarkLoadConfig(b *testing.B) {
	for _, size := range []struct{ tasks, hosts int }{{100, 100}, {10, 300}, {10, 1000}} {
		src := []byte(benchSource(size.tasks, size.hosts))
		b.Run(fmt.Sprintf("tasks=%d/hosts=%d", size.tasks, size.hosts), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := NewParser(fstest.MapFS{"main.hcl": {Data: src}})
				if _, diags := p.LoadConfig("main.hcl", LoadOptions{}); diags.HasErrors() {
					b.Fatal(diags)
				}
			}
		})
	}
}

// benchSource is a configuration like a real one of its size: hosts with
// roles, tasks on roles with a rollback, env and a timeout, and a group.
func benchSource(tasks, hosts int) string {
	var b strings.Builder
	b.WriteString("variable \"release\" {\n  default = \"2026-11-25\"\n}\nlocals {\n  user = \"deploy\"\n}\n")
	for i := range hosts {
		fmt.Fprintf(&b, "host \"h%d\" {\n  address = \"10.0.%d.%d\"\n  roles   = [\"r%d\", \"all\"]\n}\n", i, i/250, i%250+1, i%4)
	}
	var names []string
	for i := range tasks {
		fmt.Fprintf(&b, "task \"t%d\" {\n  on        = [\"r%d\"]\n  run       = \"echo ${var.release} ${local.user}\"\n  rollback  = \"true\"\n  max_hosts = 20\n  timeout   = \"1m\"\n  env       = { RELEASE = var.release }\n}\n", i, i%4)
		names = append(names, fmt.Sprintf("task.t%d", i))
	}
	fmt.Fprintf(&b, "parallelize \"all\" {\n  threads = 4\n  tasks   = [%s]\n}\n", strings.Join(names, ", "))
	return b.String()
}

package core

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
)

// Benchmarks of the core on an in-process transport that does nothing, so
// that what they measure is fanout's own cost: planning, the scheduler, the
// events, the output path. Compare runs with benchstat:
//
//	go test -run '^$' -bench . -count 10 ./core/ > new.txt
//	benchstat old.txt new.txt
//
// The targets: 10,000 pairs plan in well under 0.5 s and cost the
// core under 1 ms of CPU each (BenchmarkApply's ns/pair, on one core's
// worth of wall time; see docs/performance.md).

// nopTransport answers every call at once. Exec writes out, when set, to
// the command's stdout.
type nopTransport struct{ out []byte }

func (n *nopTransport) Describe(context.Context, *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return &sdk.DescribeResponse{Name: "nop"}, nil
}

func (n *nopTransport) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}

func (n *nopTransport) Connect(context.Context, *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	return &sdk.ConnectResponse{}, nil
}

func (n *nopTransport) Exec(_ context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	if n.out != nil {
		if _, err := out.Stdout.Write(n.out); err != nil {
			return nil, err
		}
	}
	return &sdk.ExecResponse{}, nil
}

func (n *nopTransport) Signal(context.Context, *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	return &sdk.SignalResponse{}, nil
}

func (n *nopTransport) Close(context.Context, *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	return &sdk.CloseResponse{}, nil
}

func (n *nopTransport) launcher() Launcher {
	return launcherFunc(func(context.Context, string) (sdk.Transport, func(), error) { return n, func() {}, nil })
}

// benchConfig is TASKS tasks of `true` on HOSTS hosts of the local
// transport, each task at most maxHosts hosts at once.
func benchConfig(tasks, hosts, maxHosts int) string {
	var b strings.Builder
	for i := range hosts {
		fmt.Fprintf(&b, "host \"h%d\" {\n  address   = \"10.0.%d.%d\"\n  roles     = [\"r%d\"]\n  transport = \"local\"\n}\n", i, i/250, i%250+1, i%4)
	}
	for i := range tasks {
		fmt.Fprintf(&b, "task \"t%d\" {\n  run       = \"true\"\n  rollback  = \"true\"\n  max_hosts = %d\n  timeout   = \"1m\"\n}\n", i, maxHosts)
	}
	return b.String()
}

func benchPlan(b *testing.B, src string, ts *Transports) *Plan {
	b.Helper()
	p := config.NewParser(fstest.MapFS{"main.hcl": {Data: []byte(src)}})
	cfg, diags := p.LoadConfig("main.hcl", config.LoadOptions{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	plan, diags := BuildPlan(context.Background(), cfg, PlanOptions{Transports: ts})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	return plan
}

// BenchmarkLoadAndPlan loads a configuration of tasks x hosts from memory
// and builds its plan (transports described by the in-process nop): what
// `fanout plan` costs besides starting processes.
func BenchmarkLoadAndPlan(b *testing.B) {
	for _, size := range []struct{ tasks, hosts int }{{10, 100}, {100, 100}, {10, 1000}} {
		src := benchConfig(size.tasks, size.hosts, 20)
		b.Run(fmt.Sprintf("pairs=%d/tasks=%d/hosts=%d", size.tasks*size.hosts, size.tasks, size.hosts), func(b *testing.B) {
			ts := NewTransports((&nopTransport{}).launcher(), nil)
			closeTransports(b, ts)
			b.ReportAllocs()
			for b.Loop() {
				benchPlan(b, src, ts)
			}
		})
	}
}

// BenchmarkApply runs a plan of 100 tasks x 100 hosts (10,000 pairs, 20
// hosts of a task at once) on the nop transport: the scheduler, the
// preflight, the events (to an observer that drops them) and, with output,
// the line splitting of one line per pair. ns/pair is the wall time per
// pair; with GOMAXPROCS=1 (-cpu 1) it is the core's CPU per pair.
func BenchmarkApply(b *testing.B) {
	for _, tt := range []struct {
		name string
		out  []byte
	}{
		{"output=none", nil},
		{"output=1line", []byte("a line of output, as a command would write it\n")},
		{"output=100lines", []byte(strings.Repeat("a line of output, as a command would write it\n", 100))},
	} {
		b.Run("pairs=10000/"+tt.name, func(b *testing.B) {
			nop := &nopTransport{out: tt.out}
			ts := NewTransports(nop.launcher(), nil)
			closeTransports(b, ts)
			plan := benchPlan(b, benchConfig(100, 100, 20), ts)
			b.ReportAllocs()
			for b.Loop() {
				res := Apply(context.Background(), plan, ApplyOptions{Transports: ts, Observer: discard{}, RunID: "bench"})
				if res.Status != RunSucceeded {
					b.Fatalf("run %s: %s", res.Status, res.Cause)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/pair")
		})
	}
}

// discard is an Observer that drops every event.
type discard struct{}

func (discard) Event(Event) {}

// BenchmarkLineWriter feeds the output path a command's output in 32 KiB
// writes, as transports deliver it.
func BenchmarkLineWriter(b *testing.B) {
	line := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab\n"
	chunk := []byte(strings.Repeat(line, (32<<10)/len(line)))
	r := &run{events: make(chan Event, 256)}
	go func() {
		for range r.events {
		}
	}()
	defer close(r.events)
	w := &lineWriter{r: r, task: "t", host: "h", phase: PhaseRun, stream: Stdout}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	w.flush()
	_ = io.Discard
}

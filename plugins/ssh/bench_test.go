package ssh

import (
	"context"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/internal/sshtest"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// benchTransport is newTransport for a benchmark: the Transport itself (no
// gRPC harness, whose cost is not the transport's), connected to the
// fleet's first host.
func benchTransport(b *testing.B, f *sshtest.Fleet) (*Transport, string) {
	b.Helper()
	impl := New(testLogger())
	impl.env = environment{
		getenv: func(k string) string {
			if k == "SSH_AUTH_SOCK" {
				return f.AgentSocket
			}
			return ""
		},
		home: b.TempDir(),
		user: f.User,
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := impl.Close(ctx, &sdk.CloseRequest{}); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	desc := sdktest.Configure(b, impl, map[string]cty.Value{
		"known_hosts": cty.ListVal([]cty.Value{cty.StringVal(f.KnownHosts)}),
	})
	h := f.Hosts[0]
	host := sdk.Host{Name: h.Name, Address: h.Addr, Config: sdktest.Object(b, desc.HostSchema, map[string]cty.Value{
		"port": cty.NumberIntVal(int64(h.Port)),
	})}
	if _, err := impl.Connect(context.Background(), &sdk.ConnectRequest{Host: host}); err != nil {
		b.Fatal(err)
	}
	return impl, h.Name
}

// BenchmarkExecLoop runs `true` 200 times, one after another, over one
// connection: what a session costs the transport (round trips, the
// watcher, the end of a session). One op is the 200 commands.
func BenchmarkExecLoop(b *testing.B) {
	f := sshtest.Start(b, sshtest.Options{})
	tr, host := benchTransport(b, f)
	ctx := context.Background()
	defer reportCPU(b)()
	for b.Loop() {
		for range 200 {
			resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: nextID(), Host: host, Command: "true"}, sdk.ExecOutput{})
			if err != nil || resp.ExitCode != 0 {
				b.Fatalf("true: %+v, %v", resp, err)
			}
		}
	}
}

// BenchmarkExecLoopStdin is BenchmarkExecLoop with a sudo password's worth
// of stdin for each command: what passing stdin costs a command over
// BenchmarkExecLoop's (the printf pipeline, the subshell, the marker).
func BenchmarkExecLoopStdin(b *testing.B) {
	f := sshtest.Start(b, sshtest.Options{})
	tr, host := benchTransport(b, f)
	ctx := context.Background()
	stdin := []byte("correct horse battery\n")
	defer reportCPU(b)()
	for b.Loop() {
		for range 200 {
			resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: nextID(), Host: host, Command: "true", Stdin: stdin}, sdk.ExecOutput{})
			if err != nil || resp.ExitCode != 0 {
				b.Fatalf("true: %+v, %v", resp, err)
			}
		}
	}
}

// BenchmarkExecStream streams 64 MiB of one command's stdout to
// io.Discard: the output path's throughput (docs/performance.md W5).
func BenchmarkExecStream(b *testing.B) {
	const size = 64 << 20
	f := sshtest.Start(b, sshtest.Options{})
	tr, host := benchTransport(b, f)
	ctx := context.Background()
	b.SetBytes(size)
	defer reportCPU(b)()
	for b.Loop() {
		resp, err := tr.Exec(ctx, &sdk.ExecRequest{ID: nextID(), Host: host, Command: "head -c 67108864 /dev/zero"},
			sdk.ExecOutput{Stdout: io.Discard})
		if err != nil || resp.ExitCode != 0 {
			b.Fatalf("head: %+v, %v", resp, err)
		}
	}
}

// reportCPU starts counting the CPU time of this process (user and
// system): on a loaded machine it varies less than the wall clock. The
// returned func reports it per op.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64((cpuTime(b)-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/sdktest"
)

// fake is a Transport whose methods the test supplies.
type fake struct {
	describe  func(ctx context.Context) (*sdk.DescribeResponse, error)
	configure func(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error)
	connect   func(ctx context.Context, req *sdk.ConnectRequest) error
	exec      func(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error)
	signal    func(ctx context.Context, req *sdk.SignalRequest)
}

var _ sdk.Transport = (*fake)(nil)

func (f *fake) Describe(ctx context.Context, _ *sdk.DescribeRequest) (*sdk.DescribeResponse, error) {
	return f.describe(ctx)
}

func (f *fake) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return f.configure(ctx, req)
}

func (f *fake) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	return &sdk.ConnectResponse{}, f.connect(ctx, req)
}

func (f *fake) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	return f.exec(ctx, req, out)
}

func (f *fake) Signal(ctx context.Context, req *sdk.SignalRequest) (*sdk.SignalResponse, error) {
	if f.signal != nil {
		f.signal(ctx, req)
	}
	return &sdk.SignalResponse{}, nil
}

func (f *fake) Close(context.Context, *sdk.CloseRequest) (*sdk.CloseResponse, error) {
	return &sdk.CloseResponse{}, nil
}

// recorder records writes to stdout and stderr in the order they arrive.
type recorder struct {
	mu     sync.Mutex
	events []string
	sizes  []int
	total  int
	notify chan struct{} // gets a value on every write, if not full
}

func (r *recorder) writer(name string) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		r.mu.Lock()
		r.events = append(r.events, name+":"+string(p))
		r.sizes = append(r.sizes, len(p))
		r.total += len(p)
		r.mu.Unlock()
		if r.notify != nil {
			select {
			case r.notify <- struct{}{}:
			default:
			}
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestGRPCDescribeConfigureConnect(t *testing.T) {
	var gotConfig cty.Value
	var gotHost sdk.Host
	impl := &fake{
		describe: func(context.Context) (*sdk.DescribeResponse, error) {
			return &sdk.DescribeResponse{
				Name: "ssh", Version: "0.9.0", Capabilities: sdk.Capabilities{Signal: true},
				TransportSchema: sdk.Schema{Attributes: []sdk.Attribute{{Name: "user", Type: cty.String, Required: true}}},
			}, nil
		},
		configure: func(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
			gotConfig = req.Config
			return &sdk.ConfigureResponse{Diagnostics: sdk.Diagnostics{{
				Severity: sdk.Error, Summary: "Unknown user", Detail: "No such user.", Attribute: sdk.AttributePath{"user"},
			}}}, nil
		},
		connect: func(_ context.Context, req *sdk.ConnectRequest) error {
			gotHost = req.Host
			if req.Host.Name == "web2" {
				return fmt.Errorf("host key mismatch for %s: run ssh-keygen -R %s", req.Host.Address, req.Host.Address)
			}
			return nil
		},
	}
	tr := sdktest.NewHarness(t, impl).Transport()
	ctx := context.Background()

	d, err := tr.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "ssh" || !d.Capabilities.Signal || len(d.TransportSchema.Attributes) != 1 ||
		!d.TransportSchema.Attributes[0].Type.Equals(cty.String) || !d.TransportSchema.Attributes[0].Required {
		t.Errorf("Describe = %+v", d)
	}

	cfg := cty.ObjectVal(map[string]cty.Value{"user": cty.StringVal("deploy")})
	resp, err := tr.Configure(ctx, &sdk.ConfigureRequest{Config: cfg, RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if !gotConfig.RawEquals(cfg) {
		t.Errorf("plugin got config %#v", gotConfig)
	}
	if !resp.Diagnostics.HasErrors() || resp.Diagnostics[0].Attribute.String() != "user" {
		t.Errorf("diagnostics = %+v", resp.Diagnostics)
	}

	hostCfg := cty.ObjectVal(map[string]cty.Value{"port": cty.NumberIntVal(2222)})
	if _, err := tr.Connect(ctx, &sdk.ConnectRequest{Host: sdk.Host{Name: "web1", Address: "10.0.0.1", Config: hostCfg}}); err != nil {
		t.Fatal(err)
	}
	if gotHost.Name != "web1" || gotHost.Address != "10.0.0.1" || !gotHost.Config.RawEquals(hostCfg) {
		t.Errorf("plugin got host %+v", gotHost)
	}
	// The operator reads the plugin's own words, not gRPC's.
	_, err = tr.Connect(ctx, &sdk.ConnectRequest{Host: sdk.Host{Name: "web2", Address: "10.0.0.2"}})
	if want := "host key mismatch for 10.0.0.2: run ssh-keygen -R 10.0.0.2"; err == nil || err.Error() != want {
		t.Errorf("Connect error = %v, want %q", err, want)
	}
}

func TestGRPCExecOrderAndResult(t *testing.T) {
	impl := &fake{exec: func(_ context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
		if req.ID != "x" || req.Host != "h" || req.Env["K"] != "v" || req.Timeout != 3*time.Second {
			return nil, fmt.Errorf("bad request %+v", req)
		}
		for _, w := range []struct {
			to   io.Writer
			text string
		}{{out.Stdout, "a"}, {out.Stderr, "b"}, {out.Stdout, "c"}} {
			if _, err := io.WriteString(w.to, w.text); err != nil {
				return nil, err
			}
		}
		return &sdk.ExecResponse{ExitCode: -1, Signal: "TERM", TimedOut: true}, nil
	}}
	tr := sdktest.NewHarness(t, impl).Transport()
	rec := &recorder{}
	resp, err := tr.Exec(context.Background(),
		&sdk.ExecRequest{ID: "x", Host: "h", Command: "c", Env: map[string]string{"K": "v"}, Timeout: 3 * time.Second},
		sdk.ExecOutput{Stdout: rec.writer("out"), Stderr: rec.writer("err")})
	if err != nil {
		t.Fatal(err)
	}
	if want := (sdk.ExecResponse{ExitCode: -1, Signal: "TERM", TimedOut: true}); *resp != want {
		t.Errorf("response = %+v, want %+v", *resp, want)
	}
	if got, want := strings.Join(rec.events, ","), "out:a,err:b,out:c"; got != want {
		t.Errorf("writes = %s, want %s", got, want)
	}
}

func TestGRPCExecError(t *testing.T) {
	impl := &fake{exec: func(context.Context, *sdk.ExecRequest, sdk.ExecOutput) (*sdk.ExecResponse, error) {
		return nil, errors.New("connection to web1 lost")
	}}
	tr := sdktest.NewHarness(t, impl).Transport()
	_, err := tr.Exec(context.Background(), &sdk.ExecRequest{}, sdk.ExecOutput{})
	if err == nil || err.Error() != "connection to web1 lost" {
		t.Errorf("Exec error = %v, want the implementation's message", err)
	}
}

func TestGRPCExecStreamsBeforeExit(t *testing.T) {
	release := make(chan struct{})
	impl := &fake{exec: func(ctx context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
		if _, err := fmt.Fprint(out.Stdout, "early"); err != nil {
			return nil, err
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &sdk.ExecResponse{}, nil
	}}
	tr := sdktest.NewHarness(t, impl).Transport()
	run := sdktest.StartExec(context.Background(), tr, &sdk.ExecRequest{})
	sdktest.WaitSeen(t, run.Stdout, "early", 10*time.Second)
	close(release)
	if r := run.Wait(t, 10*time.Second); r.Err != nil {
		t.Fatal(r.Err)
	}
}

func TestGRPCExecCancel(t *testing.T) {
	serverCancelled := make(chan struct{})
	impl := &fake{exec: func(ctx context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
		if _, err := fmt.Fprint(out.Stdout, "started"); err != nil {
			return nil, err
		}
		<-ctx.Done()
		close(serverCancelled)
		return nil, ctx.Err()
	}}
	tr := sdktest.NewHarness(t, impl).Transport()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := sdktest.StartExec(ctx, tr, &sdk.ExecRequest{})
	sdktest.WaitSeen(t, run.Stdout, "started", 10*time.Second)
	cancel()
	if r := run.Wait(t, 5*time.Second); !errors.Is(r.Err, context.Canceled) {
		t.Errorf("Exec error = %v, want context.Canceled", r.Err)
	}
	select {
	case <-serverCancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the implementation's ctx was not cancelled")
	}
}

func TestGRPCExecWriterErrorStopsServer(t *testing.T) {
	serverCancelled := make(chan struct{})
	impl := &fake{exec: func(ctx context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
		// The client's writer fails on it; what the test watches is ctx.
		_, _ = fmt.Fprint(out.Stdout, "x")
		<-ctx.Done()
		close(serverCancelled)
		return nil, ctx.Err()
	}}
	tr := sdktest.NewHarness(t, impl).Transport()
	failing := writerFunc(func([]byte) (int, error) { return 0, errors.New("disk full") })
	_, err := tr.Exec(context.Background(), &sdk.ExecRequest{}, sdk.ExecOutput{Stdout: failing})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Exec error = %v, want the writer's", err)
	}
	select {
	case <-serverCancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the implementation's ctx was not cancelled")
	}
}

func TestGRPCExecLargeWriteSplit(t *testing.T) {
	const size = 1<<20 + 7
	impl := &fake{exec: func(_ context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
		b := bytes.Repeat([]byte("z"), size)
		n, err := out.Stdout.Write(b)
		if err != nil || n != size {
			return nil, fmt.Errorf("write = %d, %v", n, err)
		}
		return &sdk.ExecResponse{}, nil
	}}
	tr := sdktest.NewHarness(t, impl).Transport()
	rec := &recorder{}
	if _, err := tr.Exec(context.Background(), &sdk.ExecRequest{}, sdk.ExecOutput{Stdout: rec.writer("out")}); err != nil {
		t.Fatal(err)
	}
	if rec.total != size {
		t.Errorf("received %d bytes, want %d", rec.total, size)
	}
	for _, s := range rec.sizes {
		if s > 64<<10 {
			t.Errorf("a chunk of %d bytes crossed the wire, want at most 64 KiB", s)
		}
	}
}

func TestGRPCExecWriteAfterReturn(t *testing.T) {
	kept := make(chan io.Writer, 1)
	impl := &fake{exec: func(_ context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
		kept <- out.Stdout
		return &sdk.ExecResponse{}, nil
	}}
	tr := sdktest.NewHarness(t, impl).Transport()
	if _, err := tr.Exec(context.Background(), &sdk.ExecRequest{}, sdk.ExecOutput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := (<-kept).Write([]byte("late")); err == nil {
		t.Error("a write after Exec returned succeeded")
	}
}

// BenchmarkGRPCExecStream streams 50 MB of output in 32 KiB writes, the
// size os/exec copies with, through the gRPC wire.
func BenchmarkGRPCExecStream(b *testing.B) {
	const total, write = 50 << 20, 32 << 10
	chunk := bytes.Repeat([]byte("0123456789abcdef"), write/16)
	impl := &fake{exec: func(_ context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
		for n := 0; n < total; n += write {
			if _, err := out.Stdout.Write(chunk); err != nil {
				return nil, err
			}
		}
		return &sdk.ExecResponse{}, nil
	}}
	tr := sdktest.NewHarness(b, impl).Transport()
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Exec(context.Background(), &sdk.ExecRequest{}, sdk.ExecOutput{Stdout: io.Discard}); err != nil {
			b.Fatal(err)
		}
	}
}

// readSizes is a reader that hands out at most step bytes of data per Read
// (all of what is asked when step is 0) and records how much each Read
// asked for.
type readSizes struct {
	data  []byte
	step  int
	asked []int
}

func (r *readSizes) Read(p []byte) (int, error) {
	r.asked = append(r.asked, len(p))
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if r.step > 0 {
		n = min(n, r.step)
	}
	n = copy(p, r.data[:min(n, len(r.data))])
	r.data = r.data[n:]
	return n, nil
}

// TestGRPCExecReadSizes: io.Copy into an Exec's output, as x/crypto/ssh
// and os/exec deliver a command's output, reads little while little comes
// (many hosts printing a line hold no big buffer) and in larger reads once
// output is waiting (fewer SSH window adjustments); every byte arrives, in
// order.
func TestGRPCExecReadSizes(t *testing.T) {
	payload := make([]byte, 3<<20)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	for _, tc := range []struct {
		name    string
		step    int
		maxRead int // the largest buffer a Read may be given
		minRead int // the largest buffer some Read must be given
	}{
		{"trickle of lines", 100, 2 << 10, 2 << 10},
		{"output waiting", 0, 256 << 10, 256 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &readSizes{data: payload, step: tc.step}
			if tc.step > 0 {
				src.data = payload[:64<<10]
			}
			want := bytes.Clone(src.data)
			impl := &fake{exec: func(_ context.Context, _ *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
				_, err := io.Copy(out.Stdout, src)
				return &sdk.ExecResponse{}, err
			}}
			tr := sdktest.NewHarness(t, impl).Transport()
			var got bytes.Buffer
			if _, err := tr.Exec(context.Background(), &sdk.ExecRequest{}, sdk.ExecOutput{Stdout: &got}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("received %d bytes, want the %d sent, in order", got.Len(), len(want))
			}
			largest := slices.Max(src.asked)
			if largest > tc.maxRead || largest < tc.minRead {
				t.Errorf("largest read %d bytes, want %d..%d (reads: %v...)", largest, tc.minRead, tc.maxRead, src.asked[:min(5, len(src.asked))])
			}
		})
	}
}

// validating is a fake that also validates hosts.
type validating struct {
	*fake
	got sdk.Host
}

func (v *validating) ValidateHost(_ context.Context, req *sdk.ValidateHostRequest) (*sdk.ValidateHostResponse, error) {
	v.got = req.Host
	return &sdk.ValidateHostResponse{Diagnostics: sdk.Diagnostics{{
		Severity: sdk.Error, Summary: "No such directory", Detail: "Create it first.", Attribute: sdk.AttributePath{"dir"},
	}}}, nil
}

func TestGRPCValidateHost(t *testing.T) {
	describe := func(context.Context) (*sdk.DescribeResponse, error) { return &sdk.DescribeResponse{Name: "dirs"}, nil }
	declare := func(context.Context) (*sdk.DescribeResponse, error) {
		return &sdk.DescribeResponse{Name: "dirs", Capabilities: sdk.Capabilities{ValidateHost: true}}, nil
	}
	ctx := context.Background()

	// A transport that implements HostValidator and declares it gets the
	// call, and its diagnostics come back whole.
	impl := &validating{fake: &fake{describe: declare}}
	tr := sdktest.NewHarness(t, impl).Transport()
	d, err := tr.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil || !d.Capabilities.ValidateHost {
		t.Fatalf("Describe = %+v, %v; want the ValidateHost capability", d, err)
	}
	host := sdk.Host{Name: "box", Address: "box", Config: cty.ObjectVal(map[string]cty.Value{"dir": cty.StringVal("/nope")})}
	resp, err := tr.(sdk.HostValidator).ValidateHost(ctx, &sdk.ValidateHostRequest{Host: host})
	if err != nil {
		t.Fatal(err)
	}
	if impl.got.Name != "box" || !impl.got.Config.RawEquals(host.Config) {
		t.Errorf("the plugin got host %+v", impl.got)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != "No such directory" || resp.Diagnostics[0].Attribute.String() != "dir" ||
		resp.Diagnostics[0].Severity != sdk.Error {
		t.Errorf("diagnostics %+v", resp.Diagnostics)
	}

	// One that does not: no capability, and the call is refused rather
	// than answered empty.
	tr = sdktest.NewHarness(t, &fake{describe: describe}).Transport()
	if d, err := tr.Describe(ctx, &sdk.DescribeRequest{}); err != nil || d.Capabilities.ValidateHost {
		t.Errorf("Describe = %+v, %v; want no ValidateHost capability", d, err)
	}
	if _, err := tr.(sdk.HostValidator).ValidateHost(ctx, &sdk.ValidateHostRequest{Host: host}); err == nil {
		t.Error("ValidateHost of a transport that does not validate hosts succeeded")
	}
}

// A transport that declares ValidateHost must implement it: Describe fails
// rather than promise calls the plugin cannot serve, as for file transfers.
func TestDescribeValidateHostWithoutHostValidator(t *testing.T) {
	impl := &fake{describe: func(context.Context) (*sdk.DescribeResponse, error) {
		return &sdk.DescribeResponse{Name: "liar", Capabilities: sdk.Capabilities{ValidateHost: true}}, nil
	}}
	_, err := sdktest.NewHarness(t, impl).Transport().Describe(context.Background(), &sdk.DescribeRequest{})
	if err == nil || !strings.Contains(err.Error(), "sdk.HostValidator") {
		t.Errorf("Describe error = %v, want one naming sdk.HostValidator", err)
	}
}

type releasing struct {
	*fake
	got []string
}

func (r *releasing) Release(_ context.Context, req *sdk.ReleaseRequest) (*sdk.ReleaseResponse, error) {
	r.got = append(r.got, req.Hosts...)
	return &sdk.ReleaseResponse{}, nil
}

// Release (protocol 1.3) crosses the wire to a transport that declares
// and implements it; one that does not declare it is not served, and one
// that declares it without implementing it is refused at Describe.
func TestGRPCRelease(t *testing.T) {
	ctx := context.Background()
	impl := &releasing{fake: &fake{describe: func(context.Context) (*sdk.DescribeResponse, error) {
		return &sdk.DescribeResponse{Name: "fleet", Capabilities: sdk.Capabilities{Release: true}}, nil
	}}}
	tr := sdktest.NewHarness(t, impl).Transport()
	if d, err := tr.Describe(ctx, &sdk.DescribeRequest{}); err != nil || !d.Capabilities.Release {
		t.Fatalf("Describe = %+v, %v; want the Release capability", d, err)
	}
	if _, err := tr.(sdk.Releaser).Release(ctx, &sdk.ReleaseRequest{Hosts: []string{"web1", "web2"}}); err != nil {
		t.Fatal(err)
	}
	if len(impl.got) != 2 || impl.got[0] != "web1" || impl.got[1] != "web2" {
		t.Errorf("the plugin got releases %q, want [web1 web2]", impl.got)
	}

	tr = sdktest.NewHarness(t, &fake{describe: func(context.Context) (*sdk.DescribeResponse, error) {
		return &sdk.DescribeResponse{Name: "plain"}, nil
	}}).Transport()
	if d, err := tr.Describe(ctx, &sdk.DescribeRequest{}); err != nil || d.Capabilities.Release {
		t.Errorf("Describe = %+v, %v; want no Release capability", d, err)
	}
	if _, err := tr.(sdk.Releaser).Release(ctx, &sdk.ReleaseRequest{Hosts: []string{"web1"}}); err == nil {
		t.Error("Release of a transport that does not release hosts succeeded")
	}

	liar := &fake{describe: func(context.Context) (*sdk.DescribeResponse, error) {
		return &sdk.DescribeResponse{Name: "liar", Capabilities: sdk.Capabilities{Release: true}}, nil
	}}
	_, err := sdktest.NewHarness(t, liar).Transport().Describe(ctx, &sdk.DescribeRequest{})
	if err == nil || !strings.Contains(err.Error(), "sdk.Releaser") {
		t.Errorf("Describe error = %v, want one naming sdk.Releaser", err)
	}
}

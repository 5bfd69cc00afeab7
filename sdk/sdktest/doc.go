// Package sdktest helps test transports: Harness serves any sdk.Transport
// over real gRPC inside the test process, authenticated with mutual TLS as
// fanout's channel to a plugin process is, so a test exercises the same
// wire path as a plugin process, and Conformance checks that a transport keeps
// the sdk.Transport contract. Output collects an Exec's stream for a test to
// read, or wait on, while the command runs.
//
// # Testing a transport plugin
//
// A plugin author runs the conformance suite from the plugin's own go test.
// Three levels are worth having, from the cheapest to the most faithful;
// examples/plugins/fanout-transport-echo in the fanout repository has all
// three:
//
//	// The transport called directly: the fastest feedback, and the one
//	// a debugger or the race detector sees best. Configure sends a
//	// transport block that sets only the values given; Object builds a
//	// host's Config as fanout does, every attribute null unless set.
//	func TestConformance(t *testing.T) {
//		tr := mytransport.New(hclog.NewNullLogger())
//		desc := sdktest.Configure(t, tr, map[string]cty.Value{"greeting": cty.StringVal("hi")})
//		host := sdk.Host{Name: "test", Config: sdktest.Object(t, desc.HostSchema, nil)}
//		sdktest.Conformance(t, tr, host)
//	}
//
//	// The same over gRPC: every request and response is encoded and
//	// decoded as between fanout and the plugin process, so values the
//	// wire cannot carry show up here.
//	tr := sdktest.NewHarness(t, mytransport.New(hclog.NewNullLogger())).Transport()
//
//	// The built binary, started as fanout starts it (package
//	// sdk/client): the handshake, the logger on stderr and nothing else
//	// on stdout, the process's exit.
//	bin := filepath.Join(t.TempDir(), "fanout-transport-my")
//	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
//		t.Fatalf("go build: %v\n%s", err, out)
//	}
//	c, err := client.New(client.Config{Cmd: exec.Command(bin)})
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer c.Kill()
//	tr := c.Transport()
//
// The transport must be configured before Conformance is called, and the
// host it is given must have a POSIX sh, sleep, mktemp, ls, cat and kill:
// the suite runs real commands there. Options.Wait bounds each of its
// waits (DefaultWait, 15s, unless set), Describe and Connect included
// (Configure's is DefaultWait): a call that hangs fails its check there.
//
// With the built binary, PluginKill checks what no in-process test can:
// that a plugin process killed mid-command (a crash) takes the command's
// whole process group with it, so that fanout's rollback never runs beside
// it. docs/plugins.md says why this is required:
//
//	sdktest.PluginKill(t, exec.Command(bin), sdktest.PluginKillOptions{
//		Host: "box", HostConfig: map[string]cty.Value{"dir": cty.StringVal(dir)}, Dir: dir,
//	})
//
// For a transport's other tests, StartExec runs an Exec in a goroutine
// whose output can be read while it runs, Running.Wait and WaitSeen wait
// for it with a bound, and Eventually polls a condition; each fails the
// test at the wait, saying what it waited for.
//
// # What Conformance checks
//
// Describe returns a name and a schema without duplicate attributes;
// Connect is idempotent; exit codes come back as they are (0, 1, 3, 255);
// stdout and stderr stay apart and in order; Env reaches the command with
// its quoting intact; stdin is empty; output streams while the command
// runs, and cancelling the context stops the command promptly with an
// error wrapping context.Canceled; a command that leaves a child holding
// its stdout (`sleep 30 & echo x`) ends, with the shell's status, a
// bounded grace after its shell exits rather than when the child does; a
// failing output writer makes Exec return an error and stop the command;
// Timeout stops a command and reports TimedOut; Signal reaches the command
// when the transport declares the Signal capability (and the response
// names it "TERM", sdk.SignalName's form), and signalling a finished
// command is not an error; ten commands run at once; Close ends a command
// still running. Each check is a subtest, so go test -run
// 'TestConformance/timeout' runs one (the host is connected before the
// checks, not only by the "connect" check). A check whose Exec fails at
// once shows that error.
package sdktest

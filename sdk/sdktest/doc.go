// Package sdktest helps test transports: Harness serves any sdk.Transport
// over real gRPC inside the test process, so a test exercises the same wire
// path as a plugin process, and Conformance checks that a transport keeps
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
//	// a debugger or the race detector sees best.
//	func TestConformance(t *testing.T) {
//		tr := mytransport.New(hclog.NewNullLogger())
//		configure(t, tr) // Configure with the settings the test host needs
//		sdktest.Conformance(t, tr, sdk.Host{Name: "test", Address: "127.0.0.1"})
//	}
//
//	// The same over gRPC: every request and response is encoded and
//	// decoded as between fanout and the plugin process, so values the
//	// wire cannot carry show up here.
//	tr := sdktest.NewHarness(t, mytransport.New(hclog.NewNullLogger())).Transport()
//
//	// The built binary, started as fanout starts it: the handshake, the
//	// logger on stderr and nothing else on stdout, the process's exit.
//	bin := filepath.Join(t.TempDir(), "fanout-transport-my")
//	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
//		t.Fatalf("go build: %v\n%s", err, out)
//	}
//	client, err := sdk.NewClient(sdk.ClientConfig{Cmd: exec.Command(bin)})
//	if err != nil {
//		t.Fatal(err)
//	}
//	defer client.Kill()
//	tr := client.Transport()
//
// The transport must be configured before Conformance is called, and the
// host it is given must have a POSIX sh, sleep, mktemp and ls: the suite
// runs real commands there.
//
// # What Conformance checks
//
// Describe returns a name and a schema without duplicate attributes;
// Connect is idempotent; exit codes come back as they are (0, 1, 3, 255);
// stdout and stderr stay apart and in order; Env reaches the command with
// its quoting intact; stdin is empty; output streams while the command
// runs, and cancelling the context stops the command promptly with an
// error wrapping context.Canceled; Timeout stops a command and reports
// TimedOut; Signal reaches the command when the transport declares the
// Signal capability, and signalling a finished command is not an error;
// ten commands run at once; Close ends a command still running. Each check
// is a subtest, so go test -run 'TestConformance/timeout' runs one.
package sdktest

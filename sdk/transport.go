package sdk

import (
	"context"
	"io"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Transport runs commands on hosts on behalf of the fanout core. It is the
// whole contract a transport plugin implements; Serve exposes one over
// go-plugin, and fanout calls it through sdk/client.
//
// The core calls Describe, then Configure once, then Connect for each host
// it will use (in parallel during preflight), then Exec any number of times
// concurrently (for many hosts, and for the same host), and finally Close;
// a transport that implements Releaser also gets a Release for each host
// the run is done with, and must accept a later Connect of that host.
// Implementations must therefore be safe for concurrent use by Connect,
// Exec and Signal.
type Transport interface {
	// Describe reports the plugin's name, version, capabilities and the
	// schemas of its transport and host settings. It needs no
	// configuration and must not contact any host.
	Describe(ctx context.Context, req *DescribeRequest) (*DescribeResponse, error)

	// Configure hands over the settings of the configuration's transport
	// block, already validated against the declared schema. It is called
	// once, before any Connect. Problems with the settings are returned as
	// diagnostics naming the attribute, not as an error.
	Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error)

	// Connect makes a host ready for Exec: for a remote transport it dials,
	// authenticates and checks the host key, and keeps the connection for
	// later Execs. It is idempotent: a second Connect for a connected host
	// returns at once. A returned error is the one line an operator reads
	// for that host ("host key mismatch", "no credentials"), so it must say
	// what to fix; fanout shows it under the host's name, so it need not
	// repeat it. A transport that needs the operator (an encrypted key's
	// passphrase) returns Prompts instead of reading a terminal, and gets
	// the answers in a later ConnectRequest.
	Connect(ctx context.Context, req *ConnectRequest) (*ConnectResponse, error)

	// Exec runs one command on one host with "sh -c" semantics and blocks
	// until it exits. Output is written to out as it is produced, never
	// buffered until the end. The command has ended when its shell exits:
	// output that children it left in the background still hold open is
	// waited for a bounded grace (fanout's local transport: 1s), never
	// until they end. A command that ran and exited non-zero, was
	// killed, or timed out is a normal response; the error is for failures
	// to run it at all or to learn its outcome (connection lost, unknown
	// host). When ctx is cancelled the transport must stop the command on
	// the host (signal, then force) and return promptly, with an error
	// that wraps ctx's (errors.Is(err, context.Canceled)).
	Exec(ctx context.Context, req *ExecRequest, out ExecOutput) (*ExecResponse, error)

	// Signal delivers a signal to a running Exec, found by its ID. Signalling
	// an Exec that has already finished is not an error. fanout calls it
	// only when Describe declares Capabilities.Signal.
	Signal(ctx context.Context, req *SignalRequest) (*SignalResponse, error)

	// Close releases every connection and process the transport holds. It
	// is called once, at the end of the run, rollbacks included; Execs still
	// running are terminated.
	Close(ctx context.Context, req *CloseRequest) (*CloseResponse, error)
}

// DescribeRequest is the input of Transport.Describe.
type DescribeRequest struct{}

// DescribeResponse says what a transport is and what settings it takes.
type DescribeResponse struct {
	// Name is the transport's name as used in a transport block ("ssh").
	Name string
	// Version is the plugin's own version, unrelated to the protocol's.
	Version string
	// Capabilities lists the optional behaviours the plugin supports.
	Capabilities Capabilities
	// TransportSchema declares the attributes of the transport block.
	TransportSchema Schema
	// HostSchema declares the extra attributes a host block using this
	// transport may set (beyond address, roles and transport).
	HostSchema Schema
}

// Capabilities are optional features a transport declares. New fields are
// added as the protocol grows; a zero value means "not supported". fanout
// refuses, at plan time, a task that needs a capability its transport
// lacks.
type Capabilities struct {
	// Signal is true when Signal delivers signals to running commands;
	// fanout calls Signal only then (and otherwise stops a command the
	// operator interrupts by cancelling its Exec).
	Signal bool
	// Exec is true when the transport runs commands. Serve declares it
	// whatever this field holds, since every Transport has an Exec; it is
	// false only for a plugin in another language that says so. A plugin
	// of protocol 1.1, which predates the field, is read as declaring it.
	// Added in protocol 1.2, like the fields below.
	Exec bool
	// Stdin is true when ExecRequest.Stdin reaches the command. fanout
	// sends stdin (a sudo password) only to a transport that declares it.
	Stdin bool
	// Upload is true when the transport implements FileTransport's Upload.
	// Serve refuses to describe a transport that declares it without
	// implementing FileTransport.
	Upload bool
	// Download is true when the transport implements FileTransport's
	// Download, under the same rule as Upload.
	Download bool
	// CommandList is true when Exec runs ExecRequest.Commands, a task's
	// command list, in one Exec (over SSH: one session and one shell for
	// them all, where one per command costs two round trips and a process
	// each). fanout sends Commands only then, and otherwise calls Exec
	// once per command. Added in protocol 1.2.
	CommandList bool
	// ValidateHost is true when the transport implements HostValidator;
	// fanout calls ValidateHost only then (protocol 1.2; older plugins
	// never get it). Serve refuses to describe a transport that declares
	// it without implementing HostValidator, as for Upload.
	ValidateHost bool
	// Release is true when the transport implements Releaser; fanout
	// calls Release only then (protocol 1.3; older plugins never get it)
	// and otherwise keeps every host's connection until Close. Serve
	// refuses to describe a transport that declares it without
	// implementing Releaser, as for Upload.
	Release bool
}

// Releaser is a Transport that can let go of one host before Close: on a
// fleet of thousands of hosts, the connections of hosts that are done
// would otherwise stay open (a file descriptor, buffers and goroutines
// here, a process or two on the host) until the end of the run. It is
// optional.
//
// fanout calls Release once it will send nothing more to the host in
// this run: the host's last task has ended there, and, when its tasks
// have rollbacks, no failure has yet stopped the run. A failure later
// elsewhere can still make the host's rollback needed; fanout then calls
// Connect again (with no prompts: the answers given earlier still hold)
// and Exec as usual, so a transport must be able to connect a released
// host again, as if it had never been connected.
type Releaser interface {
	// Release frees what the transport holds for each of req.Hosts,
	// typically by closing its connection. fanout never calls it while an
	// Exec, Connect or transfer for one of those hosts is in progress.
	// Releasing a host that is not connected, or twice, is not an error.
	Release(ctx context.Context, req *ReleaseRequest) (*ReleaseResponse, error)
}

// ReleaseRequest is the input of Releaser.Release.
type ReleaseRequest struct {
	// Hosts are names of hosts given to Connect earlier: the hosts the
	// run was done with since the last Release (one call for the hosts
	// of a fleet that finish together).
	Hosts []string
}

// ReleaseResponse is the output of Releaser.Release.
type ReleaseResponse struct{}

// HostValidator is a Transport that checks each host's settings when
// fanout plans (plan, validate, apply), before anything runs: a
// directory that does not exist, a value out of range. It must not
// contact the host (Connect does, at preflight) and should be quick:
// fanout calls it once per host block using the transport, hosts the
// selected tasks do not use included. It is optional.
type HostValidator interface {
	// ValidateHost returns the problems of req.Host's settings as
	// diagnostics whose Attribute names the host block's attribute at
	// fault; fanout shows each at that attribute's line, as Configure's.
	// An error means the check itself failed.
	ValidateHost(ctx context.Context, req *ValidateHostRequest) (*ValidateHostResponse, error)
}

// ValidateHostRequest is the input of HostValidator.ValidateHost.
type ValidateHostRequest struct {
	// Host is the host as Connect will get it: name, address, and its
	// settings decoded against the host schema.
	Host Host
}

// ValidateHostResponse is the output of HostValidator.ValidateHost.
type ValidateHostResponse struct {
	Diagnostics Diagnostics
}

// Schema declares the attributes a configuration block accepts.
type Schema struct {
	Attributes []Attribute
}

// Attribute is one setting a transport accepts.
type Attribute struct {
	// Name is the attribute's name in HCL.
	Name string
	// Type is the attribute's cty type; values are converted to it.
	Type cty.Type
	// Required makes the attribute mandatory.
	Required bool
	// Description is shown by `fanout plugins` and in diagnostics.
	Description string
	// Sensitive values are redacted in plans, logs and output.
	Sensitive bool
}

// ConfigureRequest is the input of Transport.Configure.
type ConfigureRequest struct {
	// Config is an object value conforming to TransportSchema: every
	// declared attribute, null when not set. Decode copies it into a
	// struct.
	Config cty.Value
	// RunID identifies the run, for the plugin's logs.
	RunID string
}

// ConfigureResponse is the output of Transport.Configure.
type ConfigureResponse struct {
	Diagnostics Diagnostics
}

// Host identifies one host and its transport-specific settings.
type Host struct {
	// Name is the host's name in the configuration; Exec refers to it.
	Name string
	// Address is where to reach it (a name or an IP); for transports that
	// have no notion of address it may be ignored.
	Address string
	// Config is an object value conforming to HostSchema, like
	// ConfigureRequest.Config; Decode copies it into a struct.
	Config cty.Value
}

// ConnectRequest is the input of Transport.Connect.
type ConnectRequest struct {
	Host Host
	// Answers are the operator's answers to the Prompts an earlier Connect
	// returned, by Prompt.ID. The core keeps them for the whole run and
	// sends every answer it has with each Connect.
	Answers map[string]string
}

// ConnectResponse is the output of Transport.Connect.
type ConnectResponse struct {
	// Prompts, when not empty, mean the host is not connected yet: the
	// transport needs these answered by the operator (a key's passphrase).
	// The core asks each Prompt.ID at most once per run, before any task
	// runs when preflight is on, and calls Connect again with Answers.
	// Transports never read a terminal themselves: fanout owns it.
	Prompts []Prompt
}

// Prompt is a question only the operator can answer.
type Prompt struct {
	// ID is stable for one question ("passphrase:/home/me/.ssh/id_ed25519"),
	// so that it is asked once however many hosts need it.
	ID string
	// Text is shown as it is ("Enter passphrase for key ...: ").
	Text string
	// Secret answers are read without echo and never logged or shown.
	Secret bool
	// NoAnswer is the error to report for the host when nobody can answer
	// (fanout is not on a terminal): what to do instead.
	NoAnswer string
}

// ExecRequest is the input of Transport.Exec.
type ExecRequest struct {
	// ID is unique within a run; Signal finds the command by it.
	ID string
	// Host is the name of a host given to Connect earlier.
	Host string
	// Command is run by the host's shell as `sh -c Command`.
	Command string
	// Env is added to the command's environment.
	Env map[string]string
	// Timeout, when non-zero, bounds the command (all of Commands,
	// together): on expiry the transport terminates it and reports
	// TimedOut.
	Timeout time.Duration
	// Stdin is what the command reads on its standard input, which ends
	// after it; nil gives an empty stdin, as for every command before
	// protocol 1.2. fanout sets it only when Capabilities.Stdin is
	// declared. It may hold a secret (a sudo password): a transport must
	// not log it, and must pass it on no command line or environment.
	Stdin []byte
	// Commands, when not empty, replaces Command: each is run as Command
	// would be (its own `sh -c`, the same Env, each reading the whole of
	// Stdin), one after another, until
	// one does not exit 0; ExecResponse.Command says which ended the Exec.
	// fanout sends it only to a transport that declares
	// Capabilities.CommandList.
	Commands []string
}

// ExecOutput receives a command's output. Stdout and Stderr may be written
// from different goroutines at the same time; each must be safe for that on
// its own, and a write must not be retained after it returns. A nil writer
// discards that stream. A writer that blocks holds the command back; one
// that fails makes Exec stop the command and return the error.
type ExecOutput struct {
	Stdout io.Writer
	Stderr io.Writer
}

// OrDiscard returns o with io.Discard in place of a nil writer, so that a
// Transport can write to both streams without checking for nil.
func (o ExecOutput) OrDiscard() ExecOutput {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return o
}

// ExecResponse is how a command ended.
type ExecResponse struct {
	// ExitCode is the command's exit status; -1 when it was killed by a
	// signal or its status is unknown.
	ExitCode int
	// Signal names the signal that killed it, if any, as SignalName
	// names it: the POSIX name without SIG ("TERM", "SEGV"), which fanout
	// shows as "killed by SIGSEGV". Never a description such as
	// syscall.Signal's String ("segmentation fault").
	Signal string
	// TimedOut is true when the command was stopped because Timeout passed.
	TimedOut bool
	// Command is, for an ExecRequest with Commands, the index of the
	// command that ended the Exec: the first that did not exit 0 (or was
	// stopped), or the last one. The other fields are about that command.
	Command int
}

// SignalRequest is the input of Transport.Signal.
type SignalRequest struct {
	// ExecID is the ID of the ExecRequest to signal.
	ExecID string
	// Signal is a POSIX signal name without the SIG prefix: "INT", "TERM",
	// "KILL", "HUP". SignalNum turns it into a syscall.Signal.
	Signal string
}

// SignalResponse is the output of Transport.Signal.
type SignalResponse struct{}

// CloseRequest is the input of Transport.Close.
type CloseRequest struct{}

// CloseResponse is the output of Transport.Close.
type CloseResponse struct{}

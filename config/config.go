package config

import (
	"io/fs"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Config is one whole configuration: a file, or every .hcl file of a
// directory, decoded, checked and evaluated. Values that depend only on
// variables and locals (commands, env, limits) are already evaluated; the
// settings of transport and host blocks that a plugin's schema defines are
// kept as bodies, for the core to decode once it knows that schema.
type Config struct {
	// Settings are the fanout block's, with defaults filled in.
	Settings *Settings
	// Variables in declaration order, with their final values.
	Variables []*Variable
	// Locals in declaration order, evaluated.
	Locals []*Local
	// Transports by name, as declared; built-ins that are used but not
	// declared are absent.
	Transports map[string]*Transport
	// Hosts in declaration order. With no host block this holds the one
	// implicit host "localhost" on the "local" transport.
	Hosts []*Host
	// Tasks in declaration order.
	Tasks []*Task
	// Groups holds every parallelize block in declaration order, anonymous
	// ones included.
	Groups []*Parallelize
	// Roots are the tasks and groups no group references, in file order
	// (files in lexical order when a directory was loaded).
	Roots []Node
	// EvalContext resolves var.*, local.*, host.*, and the functions, for
	// decoding the bodies kept in Transport.Config and Host.Config.
	EvalContext *hcl.EvalContext
	// Files is the file system the configuration was read from, and Dir
	// its directory in it: Upload.Source is a path in Files, and the core
	// reads uploads from there. Files is nil for a configuration built
	// without one.
	Files fs.FS
	Dir   string

	// sensitive is what DerivedSecrets reads; nil for a Config not
	// built by a Parser.
	sensitive *sensitiveValues
}

// DerivedSecrets returns the strings the configuration's functions have
// computed from sensitive variables' values (base64encode(var.token), a
// local of upper(var.token), a host's vars), while it loaded and since:
// the core decodes transport and host settings with EvalContext, whose
// functions record them too. Redaction is textual, so these are hidden as
// the variables' values are. It is safe for concurrent use.
func (c *Config) DerivedSecrets() []DerivedSecret {
	if c.sensitive == nil {
		return nil
	}
	return c.sensitive.derivedValues()
}

// Node is a member of a parallelize block or a root: a *Task or a
// *Parallelize.
type Node interface {
	// NodeName is "task.NAME" or "parallelize.NAME" ("parallelize" for an
	// anonymous group), as written in references.
	NodeName() string
	// Range is where the node is declared.
	Range() hcl.Range
}

// OnFailure is what a run does once a (task, host) fails.
type OnFailure string

const (
	// OnFailureRollback stops starting work, lets work in flight finish, then
	// rolls back every task that started. The default.
	OnFailureRollback OnFailure = "rollback"
	// OnFailureStop stops starting work and lets work in flight finish, with
	// no rollback.
	OnFailureStop OnFailure = "stop"
	// OnFailureContinue lets the rest of the run go on; the run still fails.
	OnFailureContinue OnFailure = "continue"
)

// Settings are the values of the optional fanout block.
type Settings struct {
	// Threads is the default threads of every parallelize block; 10 unless set.
	Threads int
	// OnFailure is rollback unless set.
	OnFailure OnFailure
	// Preflight connects to every host before the first task; true unless set.
	Preflight bool
	// SudoPassword names the sensitive variable holding the password sudo
	// asks for ("var.x"), with its value; empty when not set, and the
	// password, if hosts ask for one, is then asked on the terminal.
	SudoPasswordName string
	SudoPassword     string
	// DeclRange is the fanout block's range, or an empty range when absent.
	DeclRange hcl.Range
}

// Variable is a variable block and the value it ended up with.
type Variable struct {
	// Name is the label, referenced as var.NAME.
	Name        string
	Description string
	// Type is the declared type constraint; cty.DynamicPseudoType if none.
	Type cty.Type
	// Default is cty.NilVal when the variable has no default (required).
	Default cty.Value
	// Value is the final value: -var, then FANOUT_VAR_*, then the default.
	Value cty.Value
	// Sensitive asks the CLI not to show Value; commands that use it are
	// still built with the real value.
	Sensitive bool
	DeclRange hcl.Range
	// NameRange is the label's range.
	NameRange hcl.Range
}

// Local is one name of a locals block.
type Local struct {
	// Name is referenced as local.NAME.
	Name string
	// Value is Expr evaluated; cty.DynamicVal when it could not be.
	Value cty.Value
	Expr  hcl.Expression
	// DeclRange is the whole attribute's range, NameRange its name's.
	DeclRange hcl.Range
	NameRange hcl.Range
}

// Transport is a transport block: a built-in ("ssh", "local") or a plugin.
type Transport struct {
	Name string
	// SHA256 pins the plugin binary: 64 lower-case hexadecimal digits, or
	// empty when not pinned. Never set for a built-in transport.
	SHA256 string
	// Config is what remains of the block once the core attributes are
	// taken: the plugin-defined settings, decoded later against the
	// plugin's schema with Config.EvalContext.
	Config    hcl.Body
	DeclRange hcl.Range
	NameRange hcl.Range
}

// Host is a host block, or the implicit localhost.
type Host struct {
	Name string
	// Address defaults to Name.
	Address string
	Roles   []string
	// Transport names the transport, "ssh" unless set ("local" for the
	// implicit localhost).
	Transport string
	// Implicit is true for the localhost a configuration without host
	// blocks gets.
	Implicit bool
	// Config holds the remaining, transport-defined attributes (port, user,
	// ...) for the core to decode against the plugin's host schema; nil for
	// the implicit host.
	Config hcl.Body
	// EvalContext is the context to decode Config in: Config.EvalContext
	// plus each, for a host made by for_each, whose instances share the
	// block's body; nil for any other host, which uses Config.EvalContext.
	EvalContext *hcl.EvalContext
	// Vars are the host's own values from vars, an object; cty.NilVal when
	// the block sets none.
	Vars cty.Value
	// DeclRange is the host block's range, shared by the instances of a
	// for_each block, and NameRange its label's.
	DeclRange hcl.Range
	NameRange hcl.Range
}

// Task is a task block, evaluated.
type Task struct {
	Name        string
	Description string
	// On is the roles and host names as written; nil means every host.
	On []string
	// Hosts are the hosts On selects, in host declaration order.
	Hosts []*Host
	// Run are the commands, run one after another with sh -c.
	Run []string
	// Rollback undoes Run; empty when the task has no rollback.
	Rollback []string
	// Timeout bounds the task on one host; zero means no limit.
	Timeout time.Duration
	// MaxHosts caps how many of its hosts run at once; zero means no cap.
	MaxHosts int
	// Env is added to every command's environment.
	Env map[string]string
	// Batch are the sizes of the task's waves, the last one repeating;
	// empty means one wave of every host. A percentage is of the task's
	// selected hosts, rounded up.
	Batch []Size
	// Pause is the wait between two waves; zero means none.
	Pause time.Duration
	// MaxFailures is each wave's failure budget: hosts that may fail and be
	// rolled back and dropped while the rollout goes on; a percentage is of
	// the wave, rounded down. Zero (the default) means none.
	MaxFailures Size
	// Check, when set, gates each host after its run.
	Check *Check
	// Retries is how many more times the run commands are tried on a host
	// before the host counts as failed; RetryDelay is the wait before each.
	Retries    int
	RetryDelay time.Duration
	// OnlyIf and Unless are commands run on each host before anything else
	// of the task: it is skipped there when OnlyIf fails or Unless succeeds.
	OnlyIf []string
	Unless []string
	// PerHost holds Run, Rollback and Env as each host gets them, by host
	// name, when any of them refers to target; Run, Rollback and Env are
	// then the first host's. Nil when they are the same for every host.
	PerHost map[string]*HostValues
	// Files are the task's upload and download blocks as each of its
	// hosts gets them, by host name; nil when the task has none. Blocks
	// whose values do not depend on target share one value across hosts.
	Files map[string]*Files
	// Sudo is true when the task's commands, checks and rollbacks run
	// through sudo, as SudoUser ("root" unless sudo_user is set).
	Sudo     bool
	SudoUser string
	// SudoRange is the sudo or sudo_user attribute's range, when set.
	SudoRange hcl.Range
	DeclRange hcl.Range
	NameRange hcl.Range
}

// NodeName returns "task.NAME".
func (t *Task) NodeName() string { return "task." + t.Name }

// Range returns where the task is declared.
func (t *Task) Range() hcl.Range { return t.DeclRange }

// Parallelize is a parallelize block.
type Parallelize struct {
	// Name is the label; empty for an anonymous group.
	Name string
	// Threads is how many members run at once.
	Threads int
	// Members in the order of the tasks list. Members form a tree, even
	// when loading reported a cycle (the reported reference is left out).
	Members   []Node
	DeclRange hcl.Range
	// NameRange is the label's range, or the block type's when anonymous.
	NameRange hcl.Range
}

// NodeName returns "parallelize.NAME", or "parallelize" when anonymous.
func (p *Parallelize) NodeName() string {
	if p.Name == "" {
		return "parallelize"
	}
	return "parallelize." + p.Name
}

// Range returns where the block is declared.
func (p *Parallelize) Range() hcl.Range { return p.DeclRange }

package core

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fanout/fanout/config"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// This file is the one place where a Plan and its results are mapped to the
// journal's types and back, as sdk/convert.go is for the wire: writing a
// journal hides secrets on the way out, reading one fills them back in.

// JournalPlan is a Plan as the journal stores it. Tasks are stored once,
// by name; the tree refers to them.
type JournalPlan struct {
	OnFailure  string              `json:"on_failure"`
	Roots      []*JournalNode      `json:"roots"`
	Tasks      []*JournalTask      `json:"tasks"`
	Hosts      []*JournalHost      `json:"hosts"`
	Transports []*JournalTransport `json:"transports"`
	// SudoPassword names the sensitive variable of fanout { sudo_password }
	// ("var.pw"), never its value: `fanout rollback` takes the value from
	// the secrets given back, and asks for it on the terminal otherwise.
	SudoPassword string `json:"sudo_password,omitempty"`
}

// NodeKind tells a task of the plan's tree from a group.
type NodeKind int

const (
	// NodeTask is a task, named by JournalNode.Task.
	NodeTask NodeKind = iota + 1
	// NodeGroup is a parallelize block, named by JournalNode.Group
	// (empty for an anonymous one).
	NodeGroup
)

// MarshalText returns "task" or "group".
func (k NodeKind) MarshalText() ([]byte, error) {
	switch k {
	case NodeTask:
		return []byte("task"), nil
	case NodeGroup:
		return []byte("group"), nil
	}
	return nil, fmt.Errorf("unknown node kind %d", int(k))
}

// UnmarshalText reads "task" or "group"; another word is an error.
func (k *NodeKind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "task":
		*k = NodeTask
	case "group":
		*k = NodeGroup
	default:
		return fmt.Errorf("unknown node kind %q", b)
	}
	return nil
}

// JournalNode is a node of the plan's tree: a task by name, or a group.
type JournalNode struct {
	// Kind is absent from journals written before it existed: there a node
	// with a Task is a task, any other a group.
	Kind    NodeKind       `json:"kind,omitempty"`
	Task    string         `json:"task,omitempty"`
	Group   string         `json:"group,omitempty"`
	Threads int            `json:"threads,omitempty"`
	Members []*JournalNode `json:"members,omitempty"`
}

// legacyAnonymousGroup is how journals without JournalNode.Kind named an
// anonymous group; it is read, never written.
const legacyAnonymousGroup = "parallelize"

// kind returns the node's kind, reading journals without Kind too.
func (jn *JournalNode) kind() NodeKind {
	switch {
	case jn.Kind != 0:
		return jn.Kind
	case jn.Task != "":
		return NodeTask
	}
	return NodeGroup
}

// groupName returns the name of the group jn stands for.
func (jn *JournalNode) groupName() string {
	if jn.Kind == 0 && jn.Group == legacyAnonymousGroup {
		return ""
	}
	return jn.Group
}

// JournalTask is a task of the plan, with the hosts it may run on.
type JournalTask struct {
	Name      string            `json:"name"`
	Hosts     []string          `json:"hosts"`
	Run       []string          `json:"run"`
	Rollback  []string          `json:"rollback,omitempty"`
	TimeoutMS int64             `json:"timeout_ms,omitempty"`
	MaxHosts  int               `json:"max_hosts"`
	Env       map[string]string `json:"env,omitempty"`
	// PerHost holds run, rollback and env by host when they differ between
	// hosts (TaskNode.PerHost); absent otherwise, and from older journals.
	PerHost map[string]*JournalHostValues `json:"per_host,omitempty"`
	// SudoUser is TaskNode.SudoUser: `fanout rollback` runs the rollback
	// through sudo as the run did.
	SudoUser string `json:"sudo_user,omitempty"`
	// The rest is for whoever reads the journal to learn what the run did
	// (`fanout rollback` needs none of it): the files it moved, by host,
	// and how it was rolled out. Absent from older journals.
	Transfers []*JournalTransfer `json:"transfers,omitempty"`
	Check     *JournalCheck      `json:"check,omitempty"`
	OnlyIf    []string           `json:"only_if,omitempty"`
	Unless    []string           `json:"unless,omitempty"`
	Retries   int                `json:"retries,omitempty"`
	// Waves lists each wave's hosts and failure budget, when the task
	// ran in more than one.
	Waves []*JournalWave `json:"waves,omitempty"`
}

// JournalTransfer is an upload or download block as its hosts got it
// (Transfer): never a content's text, only its size.
type JournalTransfer struct {
	Kind        string   `json:"kind"`
	Source      string   `json:"source,omitempty"`
	Content     bool     `json:"content,omitempty"`
	Sensitive   bool     `json:"sensitive,omitempty"`
	Destination string   `json:"destination"`
	Size        int64    `json:"size,omitempty"`
	Files       int      `json:"files,omitempty"`
	Directory   bool     `json:"directory,omitempty"`
	Mode        string   `json:"mode,omitempty"`
	Hosts       []string `json:"hosts"`
}

// JournalCheck is a task's check.
type JournalCheck struct {
	Run        []string `json:"run"`
	IntervalMS int64    `json:"interval_ms"`
	TimeoutMS  int64    `json:"timeout_ms"`
}

// JournalWave is one wave of a task: its hosts and how many may fail.
type JournalWave struct {
	Hosts       []string `json:"hosts"`
	MaxFailures int      `json:"max_failures"`
}

// JournalHostValues are a task's commands and env on one host.
type JournalHostValues struct {
	Run      []string          `json:"run"`
	Rollback []string          `json:"rollback,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	// Check is the check's commands on the host, when they depend on it.
	Check []string `json:"check,omitempty"`
}

// JournalHost is a host of the plan with its transport settings.
type JournalHost struct {
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	Roles     []string `json:"roles,omitempty"`
	Transport string   `json:"transport"`
	// Config is the host's transport settings as cty JSON (type and
	// value); absent when none.
	Config json.RawMessage `json:"config,omitempty"`
}

// JournalTransport is a transport the plan's hosts use, with the settings
// its plugin was configured with.
type JournalTransport struct {
	Name string `json:"name"`
	// SHA256 pins the plugin binary when the configuration did.
	SHA256 string `json:"sha256,omitempty"`
	// Settings are cty JSON (type and value).
	Settings json.RawMessage `json:"settings,omitempty"`
}

// newJournalPlan describes plan for a journal, every string passed
// through hide.
func newJournalPlan(plan *Plan, hide func(string) string) (*JournalPlan, error) {
	jp := &JournalPlan{OnFailure: string(plan.OnFailure)}
	if plan.Config != nil && plan.Config.Settings != nil {
		jp.SudoPassword = plan.Config.Settings.SudoPasswordName
	}
	seen := map[*TaskNode]bool{}
	var node func(n Node) *JournalNode
	node = func(n Node) *JournalNode {
		switch n := n.(type) {
		case *TaskNode:
			if !seen[n] {
				seen[n] = true
				jp.Tasks = append(jp.Tasks, journalTask(n, hide))
			}
			return &JournalNode{Kind: NodeTask, Task: n.Name}
		case *Group:
			jn := &JournalNode{Kind: NodeGroup, Group: n.Name, Threads: n.Threads}
			for _, m := range n.Members {
				jn.Members = append(jn.Members, node(m))
			}
			return jn
		}
		panic(fmt.Sprintf("core: unexpected plan node %T", n))
	}
	for _, r := range plan.Roots {
		jp.Roots = append(jp.Roots, node(r))
	}
	for _, h := range plan.Hosts {
		jh := &JournalHost{Name: h.Name, Address: hide(h.Address), Roles: h.Roles, Transport: h.Transport}
		raw, err := marshalCty(h.Config, hide)
		if err != nil {
			return nil, fmt.Errorf("journal host %s settings: %w", h.Name, err)
		}
		jh.Config = raw
		jp.Hosts = append(jp.Hosts, jh)
	}
	for _, tp := range plan.Transports {
		jt := &JournalTransport{Name: tp.Name}
		if plan.Config != nil {
			if b := plan.Config.Transports[tp.Name]; b != nil {
				jt.SHA256 = b.SHA256
			}
		}
		raw, err := marshalCty(tp.Settings, hide)
		if err != nil {
			return nil, fmt.Errorf("journal transport %s settings: %w", tp.Name, err)
		}
		jt.Settings = raw
		jp.Transports = append(jp.Transports, jt)
	}
	return jp, nil
}

func journalTask(t *TaskNode, hide func(string) string) *JournalTask {
	jt := &JournalTask{Name: t.Name, MaxHosts: t.MaxHosts, SudoUser: t.SudoUser, TimeoutMS: t.Timeout.Milliseconds(),
		Run: mapStrings(t.Run, hide), Rollback: mapStrings(t.Rollback, hide), Env: mapValues(t.Env, hide)}
	for _, h := range t.Hosts {
		jt.Hosts = append(jt.Hosts, h.Name)
	}
	if len(t.PerHost) > 0 {
		jt.PerHost = make(map[string]*JournalHostValues, len(t.PerHost))
		for name, hv := range t.PerHost {
			jt.PerHost[name] = &JournalHostValues{Run: mapStrings(hv.Run, hide), Rollback: mapStrings(hv.Rollback, hide), Env: mapValues(hv.Env, hide), Check: mapStrings(hv.Check, hide)}
		}
	}
	for _, tr := range t.Transfers {
		x := &JournalTransfer{Kind: string(tr.Kind), Source: hide(tr.Source), Content: tr.Content, Sensitive: tr.Sensitive,
			Destination: hide(tr.Destination), Size: max(tr.Size, 0), Files: tr.Files, Directory: tr.Directory, Hosts: tr.Hosts}
		if tr.Mode != 0 {
			x.Mode = fmt.Sprintf("%04o", tr.Mode.Perm())
		}
		jt.Transfers = append(jt.Transfers, x)
	}
	if c := t.Check; c != nil {
		jt.Check = &JournalCheck{Run: mapStrings(c.Run, hide), IntervalMS: c.Interval.Milliseconds(), TimeoutMS: c.Timeout.Milliseconds()}
	}
	jt.OnlyIf, jt.Unless, jt.Retries = mapStrings(t.OnlyIf, hide), mapStrings(t.Unless, hide), t.Retries
	if len(t.Waves) > 1 {
		for _, w := range t.Waves {
			jw := &JournalWave{MaxFailures: w.Budget}
			for _, h := range w.Hosts {
				jw.Hosts = append(jw.Hosts, h.Name)
			}
			jt.Waves = append(jt.Waves, jw)
		}
	}
	return jt
}

// planIndex finds the nodes of a plan rebuilt from a journal by the names
// and tree paths the journal's records use.
type planIndex struct {
	hosts map[string]*Host
	tasks map[string]*TaskNode
	// nodes maps a tree path (pathKey) to its node.
	nodes map[string]Node
	// taskPath is each task's first place in the tree.
	taskPath map[*TaskNode][]int
}

// plan rebuilds the journal's plan, every string passed through fill, and
// the index of its nodes.
func (jp *JournalPlan) plan(fill func(string) string) (*Plan, *planIndex, error) {
	p := &Plan{OnFailure: config.OnFailure(jp.OnFailure)}
	ix := &planIndex{hosts: map[string]*Host{}, tasks: map[string]*TaskNode{}, nodes: map[string]Node{}, taskPath: map[*TaskNode][]int{}}
	for _, jh := range jp.Hosts {
		h := &Host{Name: jh.Name, Roles: jh.Roles, Transport: jh.Transport}
		ix.hosts[h.Name] = h
		p.Hosts = append(p.Hosts, h)
	}
	for _, jt := range jp.Tasks {
		t := &TaskNode{Name: jt.Name, Timeout: time.Duration(jt.TimeoutMS) * time.Millisecond, MaxHosts: max(jt.MaxHosts, 1), SudoUser: jt.SudoUser}
		for _, hn := range jt.Hosts {
			h := ix.hosts[hn]
			if h == nil {
				return nil, nil, fmt.Errorf("journal task %s: unknown host %q", jt.Name, hn)
			}
			t.Hosts = append(t.Hosts, h)
		}
		ix.tasks[t.Name] = t
	}
	if err := jp.fill(p, ix, fill); err != nil {
		return nil, nil, err
	}
	for i, jn := range jp.Roots {
		n, err := ix.node(jn, []int{i})
		if err != nil {
			return nil, nil, err
		}
		p.Roots = append(p.Roots, n)
	}
	for _, jt := range jp.Transports {
		tp := &TransportPlan{Name: jt.Name}
		for _, h := range p.Hosts {
			if h.Transport == jt.Name {
				tp.Hosts++
			}
		}
		p.Transports = append(p.Transports, tp)
	}
	return p, ix, nil
}

// fill sets, from the journal, every string of p's hosts and tasks that
// may hold a secret's placeholder (addresses, host settings, commands,
// env), each passed through fill; p and ix are what plan built from jp.
// It sets nothing else, so a plan rebuilt once, with the state of its run
// that points into it, can be shown with the placeholders and then run
// with the secrets filled in (RollbackJournal).
func (jp *JournalPlan) fill(p *Plan, ix *planIndex, fill func(string) string) error {
	for i, jh := range jp.Hosts {
		h := p.Hosts[i]
		h.Address, h.Config = fill(jh.Address), cty.NullVal(cty.DynamicPseudoType)
		if len(jh.Config) > 0 {
			v, err := unmarshalCty(jh.Config, fill)
			if err != nil {
				return fmt.Errorf("journal host %s: %w", jh.Name, err)
			}
			h.Config = v
		}
	}
	for _, jt := range jp.Tasks {
		t := ix.tasks[jt.Name]
		t.Run, t.Rollback, t.Env = mapStrings(jt.Run, fill), mapStrings(jt.Rollback, fill), mapValues(jt.Env, fill)
		t.PerHost = nil
		if len(jt.PerHost) > 0 {
			t.PerHost = make(map[string]*config.HostValues, len(jt.PerHost))
			for name, hv := range jt.PerHost {
				t.PerHost[name] = &config.HostValues{Run: mapStrings(hv.Run, fill), Rollback: mapStrings(hv.Rollback, fill), Env: mapValues(hv.Env, fill), Check: mapStrings(hv.Check, fill)}
			}
		}
	}
	return nil
}

// node rebuilds the tree below jn, which sits at path.
func (ix *planIndex) node(jn *JournalNode, path []int) (Node, error) {
	if jn.kind() == NodeTask {
		t := ix.tasks[jn.Task]
		if t == nil {
			return nil, fmt.Errorf("journal plan: unknown task %q", jn.Task)
		}
		ix.nodes[pathKey(path)] = t
		if _, ok := ix.taskPath[t]; !ok {
			ix.taskPath[t] = path
		}
		return t, nil
	}
	g := &Group{Name: jn.groupName(), Threads: max(jn.Threads, 1)}
	ix.nodes[pathKey(path)] = g
	for i, m := range jn.Members {
		n, err := ix.node(m, append(slices.Clip(path), i))
		if err != nil {
			return nil, err
		}
		g.Members = append(g.Members, n)
	}
	return g, nil
}

// pathKey is a tree path as a map key: "0/2/1".
func pathKey(p []int) string {
	parts := make([]string, len(p))
	for i, n := range p {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, "/")
}

// parentKey is the key of the path above key's, "" for a root's.
func parentKey(key string) string {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return ""
	}
	return key[:i]
}

// keyDepth is how deep key's path is: 1 for a root.
func keyDepth(key string) int {
	if key == "" {
		return 0
	}
	return strings.Count(key, "/") + 1
}

// JournalResult is a PhaseResult as the journal stores it.
type JournalResult struct {
	Status     Status `json:"status"`
	ExitCode   int    `json:"exit_code"`
	Signal     string `json:"signal,omitempty"`
	Command    int    `json:"command"`
	Err        string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// Attempts and CheckAttempts count the run's and the check's attempts
	// (rollouts).
	Attempts      int `json:"attempts,omitempty"`
	CheckAttempts int `json:"check_attempts,omitempty"`
	// StderrTail and CheckTail are PhaseResult's: a few short lines of a
	// failure's output, secrets hidden like Err.
	StderrTail []string `json:"stderr_tail,omitempty"`
	CheckTail  []string `json:"check_tail,omitempty"`
}

// journalResult converts a PhaseResult for the journal.
func journalResult(r PhaseResult) *JournalResult {
	return &JournalResult{Status: r.Status, ExitCode: r.ExitCode, Signal: r.Signal, Command: r.Command, Err: r.Err, DurationMS: r.Duration.Milliseconds(),
		Attempts: r.Attempts, CheckAttempts: r.CheckAttempts, StderrTail: r.StderrTail, CheckTail: r.CheckTail}
}

// phaseResult converts back; started is the unit_started record's time.
func (jr *JournalResult) phaseResult(started time.Time) PhaseResult {
	return PhaseResult{Status: jr.Status, ExitCode: jr.ExitCode, Signal: jr.Signal, Command: jr.Command, Err: jr.Err,
		Started: started, Duration: time.Duration(jr.DurationMS) * time.Millisecond, Attempts: jr.Attempts, CheckAttempts: jr.CheckAttempts,
		StderrTail: jr.StderrTail, CheckTail: jr.CheckTail}
}

// marshalCty stores a cty value with its type, strings passed through
// hide; a null or absent value stores nothing.
func marshalCty(v cty.Value, hide func(string) string) (json.RawMessage, error) {
	if v == cty.NilVal || v.IsNull() {
		return nil, nil
	}
	v, _ = v.UnmarkDeep()
	v, err := mapCtyStrings(v, hide)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ctyjson.SimpleJSONValue{Value: v})
}

// unmarshalCty reads a value marshalCty wrote, strings passed through f.
func unmarshalCty(raw json.RawMessage, f func(string) string) (cty.Value, error) {
	var sv ctyjson.SimpleJSONValue
	if err := sv.UnmarshalJSON(raw); err != nil {
		return cty.NilVal, err
	}
	return mapCtyStrings(sv.Value, f)
}

// mapCtyStrings returns v with every known string inside it passed
// through f.
func mapCtyStrings(v cty.Value, f func(string) string) (cty.Value, error) {
	return cty.Transform(v, func(_ cty.Path, v cty.Value) (cty.Value, error) {
		if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			return cty.StringVal(f(v.AsString())), nil
		}
		return v, nil
	})
}

// mapStrings returns f of each of ss, nil for none.
func mapStrings(ss []string, f func(string) string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, f(s))
	}
	return out
}

// mapValues returns m with f applied to each value, nil for an empty m.
func mapValues(m map[string]string, f func(string) string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = f(v)
	}
	return out
}

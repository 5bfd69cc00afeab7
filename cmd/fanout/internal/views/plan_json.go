package views

import (
	"encoding/json"
	"io"
	"maps"
	"slices"

	"github.com/fanout/fanout/core"
)

// jsonPlan is `fanout plan -json`: one document (docs/json.md).
type jsonPlan struct {
	FormatVersion string              `json:"format_version"`
	Fanout        string              `json:"fanout"`
	Source        string              `json:"source"`
	OnFailure     string              `json:"on_failure"`
	Preflight     bool                `json:"preflight"`
	Roots         []jsonNode          `json:"roots"`
	Hosts         []jsonHost          `json:"hosts"`
	Transports    []jsonTransportPlan `json:"transports"`
	Summary       jsonPlanSummary     `json:"summary"`
	// Selection is present when -limit or -exclude was given.
	Selection *jsonSelection `json:"selection,omitempty"`
}

type jsonSelection struct {
	Limit      []string `json:"limit"`
	Exclude    []string `json:"exclude"`
	Unselected []string `json:"unselected_hosts"`
}

// jsonNode is a group ("kind": "parallelize") or a task ("kind": "task").
type jsonNode struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// A group's.
	Threads int        `json:"threads,omitempty"`
	Members []jsonNode `json:"members,omitempty"`
	// A task's.
	Description string    `json:"description,omitempty"`
	Hosts       []string  `json:"hosts,omitempty"`
	Run         *[]string `json:"run,omitempty"`
	Rollback    *[]string `json:"rollback,omitempty"`
	TimeoutMS   int64     `json:"timeout_ms,omitempty"`
	MaxHosts    int       `json:"max_hosts,omitempty"`
	// SudoUser is the user the task's commands run as through sudo.
	SudoUser  string            `json:"sudo_user,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	Transfers []jsonTransfer    `json:"transfers,omitempty"`
	// PerHost is present when run, rollback or env differ between hosts;
	// run, rollback and env are then the first host's.
	PerHost []jsonHostValues `json:"per_host,omitempty"`
	// A task's rollout, each only when set; waves only for more than one.
	Waves        []jsonWave `json:"waves,omitempty"`
	PauseMS      int64      `json:"pause_ms,omitempty"`
	MaxFailures  string     `json:"max_failures,omitempty"`
	Check        *jsonCheck `json:"check,omitempty"`
	Retries      int        `json:"retries,omitempty"`
	RetryDelayMS int64      `json:"retry_delay_ms,omitempty"`
	OnlyIf       []string   `json:"only_if,omitempty"`
	Unless       []string   `json:"unless,omitempty"`
}

// jsonWave is one wave of a task: its hosts, and how many may fail and be
// dropped.
type jsonWave struct {
	Hosts  []string `json:"hosts"`
	Budget int      `json:"max_failures"`
}

type jsonCheck struct {
	Run        []string `json:"run"`
	IntervalMS int64    `json:"interval_ms"`
	TimeoutMS  int64    `json:"timeout_ms"`
}

type jsonHost struct {
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	Roles     []string `json:"roles"`
	Transport string   `json:"transport"`
	// Vars are the host block's vars, when it sets any.
	Vars json.RawMessage `json:"vars,omitempty"`
	// Settings are the host block's settings of its transport (port,
	// raw...), when it sets any, as a transport's are; Sensitive names
	// the redacted ones.
	Settings  map[string]json.RawMessage `json:"settings,omitempty"`
	Sensitive []string                   `json:"sensitive,omitempty"`
}

type jsonTransportPlan struct {
	Name  string `json:"name"`
	Hosts int    `json:"hosts"`
	// Settings are the transport block as the plugin's schema decoded it;
	// Sensitive names the ones whose values are redacted.
	Settings  map[string]json.RawMessage `json:"settings"`
	Sensitive []string                   `json:"sensitive"`
}

type jsonPlanSummary struct {
	Tasks        int `json:"tasks"`
	Pairs        int `json:"pairs"`
	Hosts        int `json:"hosts"`
	WithRollback int `json:"with_rollback"`
}

func ptr[T any](v T) *T { return &v }

// PlanJSON writes the plan as one JSON document, indented for people who
// read it too. Sensitive values are redacted.
func PlanJSON(w io.Writer, source, version string, p *core.Plan, o Options) {
	rd := o.Redact
	doc := jsonPlan{
		FormatVersion: JSONVersion, Fanout: version, Source: source,
		OnFailure: string(p.OnFailure), Preflight: p.Preflight,
		Roots: []jsonNode{}, Hosts: []jsonHost{}, Transports: []jsonTransportPlan{},
	}
	var node func(n core.Node) jsonNode
	node = func(n core.Node) jsonNode {
		switch n := n.(type) {
		case *core.Group:
			j := jsonNode{Kind: "parallelize", Name: n.Name, Threads: n.Threads, Members: []jsonNode{}}
			for _, m := range n.Members {
				j.Members = append(j.Members, node(m))
			}
			return j
		case *core.TaskNode:
			j := jsonNode{Kind: "task", Name: n.Name, Description: rd.String(n.Description), Hosts: []string{},
				Run: ptr(nonNil(rd.Strings(n.Run))), Rollback: ptr(nonNil(rd.Strings(n.Rollback))), TimeoutMS: ms(n.Timeout), MaxHosts: n.MaxHosts, SudoUser: n.SudoUser}
			for _, h := range n.Hosts {
				j.Hosts = append(j.Hosts, h.Name)
			}
			j.Transfers = transfersJSON(n, rd)
			j.PerHost = perHostJSON(n, rd)
			rolloutJSON(&j, n, rd)
			if len(n.Env) > 0 {
				j.Env = map[string]string{}
				for _, k := range slices.Sorted(maps.Keys(n.Env)) {
					j.Env[k] = rd.String(n.Env[k])
				}
			}
			return j
		}
		return jsonNode{}
	}
	for _, r := range p.Roots {
		doc.Roots = append(doc.Roots, node(r))
	}
	vars, schemas := hostVars(p), hostSchemas(p)
	for _, h := range p.Hosts {
		roles := h.Roles
		if roles == nil {
			roles = []string{}
		}
		jh := jsonHost{Name: h.Name, Address: rd.String(h.Address), Roles: roles, Transport: h.Transport,
			Vars: varsJSON(vars[h.Name], rd)}
		// Empty, both are left out (omitempty).
		jh.Settings, jh.Sensitive = settingsJSON(core.SchemaSettings(schemas[h.Transport], h.Config), rd)
		doc.Hosts = append(doc.Hosts, jh)
	}
	for _, t := range p.Transports {
		settings, sensitive := transportSettingsJSON(t, o.Redact)
		doc.Transports = append(doc.Transports, jsonTransportPlan{Name: t.Name, Hosts: t.Hosts, Settings: settings, Sensitive: sensitive})
	}
	doc.Summary = planSummary(p)
	if len(p.Limit)+len(p.Exclude) > 0 {
		doc.Selection = &jsonSelection{Limit: nonNil(p.Limit), Exclude: nonNil(p.Exclude), Unselected: nonNil(p.Unselected)}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)
}

// planSummary counts what the plan's last lines say.
func planSummary(p *core.Plan) jsonPlanSummary {
	s := jsonPlanSummary{Hosts: len(p.Hosts)}
	p.Walk(func(t *core.TaskNode) {
		s.Tasks++
		s.Pairs += len(t.Hosts)
		if len(t.Rollback) > 0 {
			s.WithRollback++
		}
	})
	return s
}

// rolloutJSON adds a task's rollout settings to its node.
func rolloutJSON(j *jsonNode, n *core.TaskNode, rd *Redactor) {
	if len(n.Waves) > 1 {
		for _, w := range n.Waves {
			j.Waves = append(j.Waves, jsonWave{Hosts: hostNames(w.Hosts), Budget: w.Budget})
		}
	}
	j.PauseMS, j.Retries, j.RetryDelayMS = ms(n.Pause), n.Retries, ms(n.RetryDelay)
	if n.MaxFailures.N > 0 {
		j.MaxFailures = n.MaxFailures.String()
	}
	if c := n.Check; c != nil {
		j.Check = &jsonCheck{Run: rd.Strings(c.Run), IntervalMS: ms(c.Interval), TimeoutMS: ms(c.Timeout)}
	}
	j.OnlyIf, j.Unless = rd.Strings(n.OnlyIf), rd.Strings(n.Unless)
}

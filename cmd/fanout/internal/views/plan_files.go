package views

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/sdk"
)

// This file renders a task's uploads and downloads in plans: each block
// once where its hosts agree, once per set of hosts where values differ.

// transfers writes the task's transfers under label "upload" and
// "download", the hosts in brackets when a block's values differ between
// them.
func (pw *planWriter) transfers(prefix string, n *core.TaskNode) {
	last := core.TransferKind("")
	for _, tr := range n.Transfers {
		label := ""
		if tr.Kind != last {
			label = string(tr.Kind)
			last = tr.Kind
		}
		line := transferLine(tr, n.SudoUser)
		if len(tr.Hosts) < len(n.Hosts) {
			line += "  [" + strings.Join(tr.Hosts, ", ") + "]"
		}
		pw.field(prefix, label, line)
	}
}

// transferLine is "SOURCE (SIZE) -> DESTINATION, mode MODE", and ", via
// sudo as USER" for a task with sudo, whose files are staged and moved
// into place (or read) as that user.
func transferLine(tr core.Transfer, sudoUser string) string {
	src := tr.Source
	if tr.Content {
		src = "content"
	}
	switch {
	case tr.Kind == core.Download:
	case tr.Directory:
		src = fmt.Sprintf("%s/ (%s, %s)", src, plural(tr.Files, "file"), byteSize(tr.Size))
	case tr.Sensitive:
		src = fmt.Sprintf("%s (sensitive, %s)", src, byteSize(tr.Size))
	default:
		src = fmt.Sprintf("%s (%s)", src, byteSize(tr.Size))
	}
	s := src + " -> " + tr.Destination
	if tr.Mode != 0 {
		s += ", mode " + sdk.ChmodOctal(tr.Mode)
	}
	if sudoUser != "" {
		s += ", via sudo as " + sudoUser
	}
	return s
}

// byteSize writes n bytes as people read sizes: "812 B", "12.3 MB".
func byteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// jsonTransfer is a transfer in `fanout plan -json` (docs/json.md).
type jsonTransfer struct {
	Kind        string `json:"kind"`
	Source      string `json:"source,omitempty"`
	Content     bool   `json:"content,omitempty"`
	Sensitive   bool   `json:"sensitive,omitempty"`
	Destination string `json:"destination"`
	// Size is an upload's bytes; absent for a download.
	Size      *int64 `json:"size,omitempty"`
	Files     int    `json:"files,omitempty"`
	Directory bool   `json:"directory,omitempty"`
	// Mode is the mode the block sets, as chmod takes it; absent when the
	// source's is kept.
	Mode  string   `json:"mode,omitempty"`
	Hosts []string `json:"hosts"`
}

func transfersJSON(n *core.TaskNode, rd *Redactor) []jsonTransfer {
	var out []jsonTransfer
	for _, tr := range n.Transfers {
		j := jsonTransfer{Kind: string(tr.Kind), Source: rd.String(tr.Source), Content: tr.Content, Sensitive: tr.Sensitive,
			Destination: rd.String(tr.Destination), Files: tr.Files, Directory: tr.Directory, Hosts: tr.Hosts}
		if tr.Kind == core.Upload {
			j.Size = ptr(tr.Size)
		}
		if tr.Mode != 0 {
			j.Mode = sdk.ChmodOctal(tr.Mode)
		}
		out = append(out, j)
	}
	return out
}

// hostValues is a task's run, rollback and env on a set of hosts that get
// the same.
type hostValues struct {
	hosts    []string
	run      []string
	rollback []string
	env      map[string]string
	check    []string
}

// foldHostValues groups the task's hosts by the values they get, in host
// order. Groups are found by a key of the values: comparing each host
// with every group before it made plan quadratic in hosts that each get
// values of their own (40,000 took 8 s, 100,000 over two minutes).
func foldHostValues(n *core.TaskNode) []*hostValues {
	var out []*hostValues
	byKey := map[string]*hostValues{}
	var key []byte
	for _, h := range n.Hosts {
		run, rollback, env, check := n.Commands(h.Name, core.PhaseRun), n.Commands(h.Name, core.PhaseRollback), n.HostEnv(h.Name), n.CheckCommands(h.Name)
		key = key[:0]
		for _, list := range [][]string{run, rollback, check} {
			key = strconv.AppendInt(key, int64(len(list)), 10)
			for _, s := range list {
				key = strconv.AppendQuote(append(key, ' '), s)
			}
			key = append(key, ';')
		}
		for _, k := range slices.Sorted(maps.Keys(env)) {
			key = strconv.AppendQuote(strconv.AppendQuote(key, k), env[k])
		}
		if g := byKey[string(key)]; g != nil {
			g.hosts = append(g.hosts, h.Name)
			continue
		}
		g := &hostValues{hosts: []string{h.Name}, run: run, rollback: rollback, env: env, check: check}
		byKey[string(key)] = g
		out = append(out, g)
	}
	return out
}

// perHost writes the run, rollback and env of a task whose values depend
// on the host, once per set of hosts that get the same.
func (pw *planWriter) perHost(prefix string, n *core.TaskNode) {
	groups := foldHostValues(n)
	if len(groups) > perHostShown {
		// 300 hosts whose commands each name their own directory made a
		// plan of 3,000 lines: the first few show the shape.
		rest := 0
		for _, g := range groups[perHostFolded:] {
			rest += len(g.hosts)
		}
		more := fmt.Sprintf("%d more hosts", rest)
		if rest == 1 {
			more = "1 more host"
		}
		defer pw.field(prefix, "", "... and "+more+", each with values of its own (target.*): fanout plan -json lists them all")
		groups = groups[:perHostFolded]
	}
	for _, g := range groups {
		pw.field(prefix, "on", listHosts(g.hosts))
		pw.commands(prefix+"  ", "run", g.run)
		if len(g.rollback) == 0 {
			pw.field(prefix+"  ", "rollback", "(none)")
		} else {
			pw.commands(prefix+"  ", "rollback", g.rollback)
		}
		for i, k := range slices.Sorted(maps.Keys(g.env)) {
			label := ""
			if i == 0 {
				label = "env"
			}
			pw.field(prefix+"  ", label, fmt.Sprintf("%s=%q", k, g.env[k]))
		}
		if perHostCheck(n) {
			pw.commands(prefix+"  ", "check", g.check)
		}
	}
}

// A task whose values differ on more than perHostShown sets of hosts
// shows the first perHostFolded and counts the rest.
const (
	perHostShown  = 10
	perHostFolded = 3
)

// perHostCheck reports whether a task's check commands depend on the
// host: perHost shows them then, beside each set of hosts.
func perHostCheck(n *core.TaskNode) bool {
	for _, hv := range n.PerHost {
		if hv.Check != nil {
			return true
		}
	}
	return false
}

// jsonHostValues is a task's values on some of its hosts in `fanout plan
// -json`, when they differ between hosts.
type jsonHostValues struct {
	Hosts    []string          `json:"hosts"`
	Run      []string          `json:"run"`
	Rollback []string          `json:"rollback"`
	Env      map[string]string `json:"env,omitempty"`
	Check    []string          `json:"check,omitempty"`
}

func perHostJSON(n *core.TaskNode, rd *Redactor) []jsonHostValues {
	if n.PerHost == nil {
		return nil
	}
	var out []jsonHostValues
	for _, g := range foldHostValues(n) {
		j := jsonHostValues{Hosts: g.hosts, Run: nonNil(rd.Strings(g.run)), Rollback: nonNil(rd.Strings(g.rollback))}
		if perHostCheck(n) {
			j.Check = rd.Strings(g.check)
		}
		if len(g.env) > 0 {
			j.Env = map[string]string{}
			for k, v := range g.env {
				j.Env[k] = rd.String(v)
			}
		}
		out = append(out, j)
	}
	return out
}

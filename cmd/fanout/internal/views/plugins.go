package views

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fanout/fanout/cmd/fanout/internal/arguments"
)

// Plugin is what `fanout plugins` shows of one transport.
type Plugin struct {
	Name    string `json:"name"`
	Builtin bool   `json:"builtin"`
	// Path is the binary; for a built-in, the fanout binary.
	Path   string `json:"path,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	// Shadowed are binaries of the same name that Path hides.
	Shadowed        []string `json:"shadowed,omitempty"`
	ProtocolVersion int      `json:"protocol_version,omitempty"`
	Version         string   `json:"version,omitempty"`
	// Capabilities are what the plugin declares it can do ("exec",
	// "stdin", "signal", "upload", ...), which fanout plans tasks against.
	Capabilities    []string          `json:"capabilities,omitempty"`
	TransportSchema []PluginAttribute `json:"transport_attributes"`
	HostSchema      []PluginAttribute `json:"host_attributes"`
	// Lock says how the lock file records a third-party plugin of a
	// configuration; empty otherwise.
	Lock string `json:"lock,omitempty"`
	// Error is why the plugin could not be started or described.
	Error string `json:"error,omitempty"`
}

// PluginAttribute is one attribute a plugin declares.
type PluginAttribute struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Sensitive   bool   `json:"sensitive"`
	Description string `json:"description,omitempty"`
}

// Plugins renders `fanout plugins`: the transports found, or those a
// configuration uses (source names it then).
type Plugins interface {
	List(source string, plugins []*Plugin)
}

// NewPlugins returns the view the parsed -json flag asks for, writing to out.
func NewPlugins(vt arguments.ViewType, out io.Writer, o Options) Plugins {
	if vt == arguments.ViewJSON {
		return &PluginsJSON{out: out}
	}
	return &PluginsHuman{out: out, o: o}
}

// PluginsHuman lists plugins for a person: each with its path, versions
// and the attributes its blocks accept.
type PluginsHuman struct {
	out io.Writer
	o   Options
}

// List implements Plugins.
func (v *PluginsHuman) List(source string, infos []*Plugin) {
	var b strings.Builder
	if source != "" {
		fmt.Fprintf(&b, "Transports used by %s:\n", source)
	}
	for i, info := range infos {
		if i > 0 || source != "" {
			b.WriteString("\n")
		}
		kind := "plugin"
		if info.Builtin {
			kind = "built in"
		}
		head := fmt.Sprintf("%s (%s)", info.Name, kind)
		if info.Version != "" {
			head += fmt.Sprintf(", version %s, protocol %d", info.Version, info.ProtocolVersion)
		}
		b.WriteString(paint(v.o.Color, ansiBold, head) + "\n")
		field := func(label, value string) { fmt.Fprintf(&b, "  %-9s %s\n", label+":", value) }
		if info.Path != "" {
			if info.Builtin {
				field("path", info.Path+" internal-plugin "+info.Name)
			} else {
				field("path", info.Path)
			}
		}
		if info.SHA256 != "" {
			field("sha256", info.SHA256)
		}
		for _, p := range info.Shadowed {
			field("shadows", p)
		}
		if info.Lock != "" {
			field("lock", info.Lock)
		}
		if len(info.Capabilities) > 0 {
			field("can", strings.Join(info.Capabilities, ", "))
		}
		if info.Error != "" {
			field("error", paint(v.o.Color, ansiRed, info.Error))
			continue
		}
		writeSchema(&b, "transport block", info.TransportSchema)
		writeSchema(&b, "host block", info.HostSchema)
	}
	if len(infos) == 0 {
		b.WriteString("No transports.\n")
	}
	_, _ = io.WriteString(v.out, b.String())
}

func writeSchema(b *strings.Builder, label string, attrs []PluginAttribute) {
	if len(attrs) == 0 {
		fmt.Fprintf(b, "  %s: no attributes\n", label)
		return
	}
	fmt.Fprintf(b, "  %s:\n", label)
	w := 0
	for _, a := range attrs {
		w = max(w, len(a.Name))
	}
	for _, a := range attrs {
		traits := []string{a.Type}
		if a.Required {
			traits = append(traits, "required")
		} else {
			traits = append(traits, "optional")
		}
		if a.Sensitive {
			traits = append(traits, "sensitive")
		}
		fmt.Fprintf(b, "    %-*s  %s\n", w, a.Name, strings.Join(traits, ", "))
		if a.Description != "" {
			fmt.Fprintf(b, "    %-*s  %s\n", w, "", a.Description)
		}
	}
}

// PluginsJSONVersion is the format_version of `fanout plugins -json`;
// fields are only added within a major version.
const PluginsJSONVersion = "1.0"

// PluginsJSON prints the list as one JSON document (docs/json.md).
type PluginsJSON struct {
	out io.Writer
}

// List implements Plugins.
func (v *PluginsJSON) List(_ string, infos []*Plugin) {
	if infos == nil {
		infos = []*Plugin{}
	}
	enc := json.NewEncoder(v.out)
	enc.SetIndent("", "  ")
	_ = enc.Encode(struct {
		FormatVersion string    `json:"format_version"`
		Plugins       []*Plugin `json:"plugins"`
	}{PluginsJSONVersion, infos})
}

// LockedPlugin is one transport `fanout plugins lock` recorded.
type LockedPlugin struct {
	Name, Version, SHA256 string
	// Was is the checksum the lock file held before, when it changed.
	Was string
}

// PluginsLocked reports what `fanout plugins lock` wrote for the
// configuration source: the lock file at path and its transports, by name;
// none means the configuration uses no third-party plugin.
func PluginsLocked(w io.Writer, source, path string, locked []LockedPlugin) {
	var b strings.Builder
	if len(locked) == 0 {
		fmt.Fprintf(&b, "%s uses no third-party plugins: nothing to lock.\n", source)
	} else {
		fmt.Fprintf(&b, "Wrote %s:\n", path)
	}
	locked = slices.SortedFunc(slices.Values(locked), func(a, b LockedPlugin) int { return cmp.Compare(a.Name, b.Name) })
	for _, t := range locked {
		note := ""
		if t.Was != "" {
			note = " (was " + t.Was + ")"
		}
		fmt.Fprintf(&b, "  %s %s sha256 %s%s\n", t.Name, t.Version, t.SHA256, note)
	}
	_, _ = io.WriteString(w, b.String())
}

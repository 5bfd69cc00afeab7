package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
	"github.com/zclconf/go-cty/cty"
)

// Secret is a value that must never be written to a journal nor shown,
// and the placeholder name that stands for it ("var.token").
type Secret struct {
	Name  string
	Value string
}

// Redacted is what a secret's value is shown as: in the views, and in the
// output of a command sent the sudo password (sudo.go), which may be an
// asked one that no Secret lists.
const Redacted = "(sensitive)"

// minSecretLen is the shortest value Secrets lists. A shorter value hides
// nothing worth hiding (it is guessed at once) and hiding it would mangle
// every word that contains it, fanout's own included: a sensitive "o"
// turned "localhost" into "l(sensitive)calh(sensitive)st". Such values are
// shown, and written to journals, as they are.
const minSecretLen = 4

// Hideable reports whether value is long enough to be hidden, by
// Secrets' rule (minSecretLen): for a secret learned during a run, such as
// a password the operator typed at a prompt.
func Hideable(value string) bool { return len(value) >= minSecretLen }

// Secrets decides which values a run must never write to its journal nor
// show: every string and number inside a sensitive variable's value, named
// by its reference ("var.token", "var.creds.password", "var.keys[0]"),
// every string the configuration's functions computed from one
// ("var.token#" and a digest: config.DerivedSecret), and,
// when plan is not nil, every set sensitive setting of its transports
// ("transport.ssh.password") and of its hosts' blocks
// ("host.web1.password", unless another name already holds the value, as
// when every host sets the same one), each of at least minSecretLen bytes.
// It is the one rule the journal, the views' redaction and `fanout
// rollback` (which gives the journal's placeholders their values back)
// share.
func Secrets(cfg *config.Config, plan *Plan) []Secret {
	var out []Secret
	listed := map[string]bool{}
	add := func(name, value string) {
		if Hideable(value) {
			out = append(out, Secret{Name: name, Value: value})
			listed[value] = true
		}
	}
	if cfg != nil {
		for _, v := range cfg.Variables {
			if !v.Sensitive || v.Value == cty.NilVal {
				continue
			}
			_ = cty.Walk(v.Value, func(p cty.Path, val cty.Value) (bool, error) {
				if !val.IsKnown() || val.IsNull() {
					return false, nil
				}
				val, _ = val.Unmark()
				name := "var." + v.Name + pathString(p)
				switch val.Type() {
				case cty.String:
					add(name, val.AsString())
				case cty.Number:
					add(name, val.AsBigFloat().Text('f', -1))
				}
				return true, nil
			})
		}
		// What functions computed from them (base64encode(var.token)),
		// named by what they come from and a digest of the value keyed
		// with the variables' secrets: the same name on every load of the
		// same configuration and values, so that a rollback fills the
		// journal's placeholders, and a name that says nothing of the value
		// to a reader of the journal who does not hold the secrets.
		key := derivedKey(out)
		for _, d := range cfg.DerivedSecrets() {
			if !listed[d.Value] {
				add(derivedName(key, d), d.Value)
			}
		}
	}
	if plan != nil {
		hostSchemas := map[string][]sdk.Attribute{}
		for _, tp := range plan.Transports {
			for _, s := range tp.Attributes() {
				if secretSetting(s) {
					add("transport."+tp.Name+"."+s.Name, s.Value.AsString())
				}
			}
			if tp.Plugin != nil && slices.ContainsFunc(tp.Plugin.HostSchema.Attributes, func(a sdk.Attribute) bool { return a.Sensitive }) {
				hostSchemas[tp.Name] = tp.Plugin.HostSchema.Attributes
			}
		}
		for _, h := range plan.Hosts {
			attrs := hostSchemas[h.Transport]
			if attrs == nil {
				continue
			}
			for _, s := range SchemaSettings(attrs, h.Config) {
				if secretSetting(s) && !listed[s.Value.AsString()] {
					add("host."+h.Name+"."+s.Name, s.Value.AsString())
				}
			}
		}
	}
	return out
}

// derivedKey is the key of derivedName's digests: the variables' secrets.
func derivedKey(secrets []Secret) []byte {
	var key []byte
	for _, s := range secrets {
		key = append(append(key, s.Value...), 0)
	}
	return key
}

// derivedName names a value derived from a sensitive variable:
// "var.token#" and 12 hex digits of its HMAC-SHA-256 under key.
func derivedName(key []byte, d config.DerivedSecret) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(d.Value))
	return d.From + "#" + hex.EncodeToString(m.Sum(nil))[:12]
}

// secretSetting reports whether s is a sensitive setting whose value
// Secrets lists: a set string.
func secretSetting(s Setting) bool {
	return s.Sensitive && !s.Value.IsNull() && s.Value.IsKnown() && s.Value.Type() == cty.String
}

// SecretValues returns the values of secrets, for a redactor.
func SecretValues(secrets []Secret) []string {
	out := make([]string, len(secrets))
	for i, s := range secrets {
		out[i] = s.Value
	}
	return out
}

// pathString renders a path inside a variable's value as HCL would
// reference it.
func pathString(p cty.Path) string {
	var b strings.Builder
	for _, step := range p {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			switch {
			case s.Key.Type() == cty.String:
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			case s.Key.Type() == cty.Number:
				b.WriteString("[" + s.Key.AsBigFloat().Text('f', -1) + "]")
			default:
				b.WriteString("[?]")
			}
		}
	}
	return b.String()
}

// placeholder is how a secret appears in a journal.
func placeholder(name string) string { return "{{sensitive:" + name + "}}" }

// secretHider replaces each secret's value by its placeholder, longer
// values first so that a value containing another is hidden whole; it
// returns s unchanged when there is nothing to hide.
func secretHider(secrets []Secret) func(string) string {
	ss := slices.DeleteFunc(slices.Clone(secrets), func(s Secret) bool { return s.Value == "" })
	if len(ss) == 0 {
		return func(s string) string { return s }
	}
	slices.SortStableFunc(ss, func(a, b Secret) int { return len(b.Value) - len(a.Value) })
	var pairs []string
	for _, s := range ss {
		pairs = append(pairs, s.Value, placeholder(s.Name))
	}
	return strings.NewReplacer(pairs...).Replace
}

// secretFiller is secretHider's inverse: it puts each secret's value back
// in place of its placeholder. Placeholders of secrets not given stay.
func secretFiller(secrets []Secret) func(string) string {
	if len(secrets) == 0 {
		return func(s string) string { return s }
	}
	var pairs []string
	for _, s := range secrets {
		pairs = append(pairs, placeholder(s.Name), s.Value)
	}
	return strings.NewReplacer(pairs...).Replace
}

package core

import (
	"context"
	"slices"
	"strings"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// JournalSecrets gives back the secrets the journal of rc left out, taken
// from cfg, the configuration the run used (loaded with this command's
// variables), as Secrets decides them for a run: every sensitive
// variable's value, and every sensitive setting of the transports and
// hosts whose settings the journal keeps as placeholders. A setting is
// sensitive when its plugin's schema says so, so those plugins are started
// here (pinned as the journal records) and described, and their transport
// and host blocks in cfg decoded; they are not configured. They stay started in ts, so that
// ConfigureFromJournal, which needs these secrets first, configures the
// same processes rather than starting each plugin a second time. Without
// such settings no plugin is started. The diagnostics say why a transport
// gave none of its settings; rc.Missing then names what is still missing.
func (ts *Transports) JournalSecrets(ctx context.Context, rc *Recovery, cfg *config.Config) ([]Secret, hcl.Diagnostics) {
	secrets := Secrets(cfg, nil)
	ts.pinJournal(rc)
	hidden := func(prefix string) bool {
		return slices.ContainsFunc(rc.Header.Sensitive, func(n string) bool { return strings.HasPrefix(n, prefix) })
	}
	var diags hcl.Diagnostics
	// described starts and checks a transport's plugin, once; nil when
	// it could not (the diagnostics say why).
	descs := map[string]*sdk.DescribeResponse{}
	described := func(name string) *sdk.DescribeResponse {
		if desc, ok := descs[name]; ok {
			return desc
		}
		descs[name] = nil
		_, desc, err := ts.get(ctx, name)
		if err != nil {
			diags = append(diags, launchDiagnostic(cfg, name, err))
			return nil
		}
		// As for a plan: a plugin refused here declares no schema fanout
		// accepts, so nothing is decoded against it.
		pdiags := checkPlugin(cfg, name, desc)
		diags = append(diags, pdiags...)
		if pdiags.HasErrors() {
			return nil
		}
		descs[name] = desc
		return desc
	}
	settings := &Plan{}
	planned := map[string]bool{} // transports in settings.Transports
	for _, jt := range rc.Header.Plan.Transports {
		if !hidden("transport." + jt.Name + ".") {
			continue
		}
		desc := described(jt.Name)
		if desc == nil {
			continue
		}
		_, v, ddiags := decodeTransport(cfg, jt.Name, desc)
		diags = append(diags, ddiags...)
		if ddiags.HasErrors() {
			continue
		}
		settings.Transports = append(settings.Transports, &TransportPlan{Name: jt.Name, Plugin: desc, Settings: v})
		planned[jt.Name] = true
	}
	for _, ch := range cfg.Hosts {
		if !hidden("host." + ch.Name + ".") {
			continue
		}
		desc := described(ch.Transport)
		if desc == nil {
			continue
		}
		_, v, ddiags := decodeHost(cfg, ch, desc)
		diags = append(diags, ddiags...)
		if ddiags.HasErrors() {
			continue
		}
		settings.Hosts = append(settings.Hosts, &Host{Name: ch.Name, Transport: ch.Transport, Config: v})
		if !planned[ch.Transport] {
			// For its host schema, which Secrets reads: no settings.
			settings.Transports = append(settings.Transports, &TransportPlan{Name: ch.Transport, Plugin: desc})
			planned[ch.Transport] = true
		}
	}
	secrets = append(secrets, Secrets(nil, settings)...)
	return withSudoPassword(secrets, rc, cfg), diags
}

// withSudoPassword adds to secrets the value of the variable the journal
// names as the run's sudo password (fanout { sudo_password = var.x }),
// when Secrets left it out for being short: the rollback's sudo needs it
// whatever its length.
func withSudoPassword(secrets []Secret, rc *Recovery, cfg *config.Config) []Secret {
	name := ""
	if rc.Header.Plan != nil {
		name = rc.Header.Plan.SudoPassword
	}
	if name == "" || cfg == nil || slices.ContainsFunc(secrets, func(s Secret) bool { return s.Name == name }) {
		return secrets
	}
	for _, v := range cfg.Variables {
		if "var."+v.Name != name || v.Value == cty.NilVal {
			continue
		}
		val, _ := v.Value.Unmark()
		if val.IsKnown() && !val.IsNull() && val.Type() == cty.String && val.AsString() != "" {
			secrets = append(secrets, Secret{Name: name, Value: val.AsString()})
		}
	}
	return secrets
}

// pinJournal pins the plugin binaries the journal's plan records, so that
// a plugin started for a rollback is the one the run verified.
func (ts *Transports) pinJournal(rc *Recovery) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, jt := range rc.Header.Plan.Transports {
		if jt.SHA256 != "" {
			ts.pins[jt.Name] = jt.SHA256
		}
	}
}

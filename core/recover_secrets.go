package core

import (
	"context"
	"slices"
	"strings"

	"github.com/fanout/fanout/config"
	"github.com/hashicorp/hcl/v2"
)

// JournalSecrets gives back the secrets the journal of rc left out, taken
// from cfg, the configuration the run used (loaded with this command's
// variables), as Secrets decides them for a run: every sensitive
// variable's value, and every sensitive setting of the transports whose
// settings the journal keeps as placeholders. A setting is sensitive when
// its plugin's schema says so, so those plugins are started here (pinned
// as the journal records) and described, and their transport blocks in cfg
// decoded; they are not configured. They stay started in ts, so that
// ConfigureFromJournal, which needs these secrets first, configures the
// same processes rather than starting each plugin a second time. Without
// such settings no plugin is started. The diagnostics say why a transport
// gave none of its settings; rc.Missing then names what is still missing.
func (ts *Transports) JournalSecrets(ctx context.Context, rc *Recovery, cfg *config.Config) ([]Secret, hcl.Diagnostics) {
	secrets := Secrets(cfg, nil)
	ts.pinJournal(rc)
	var diags hcl.Diagnostics
	settings := &Plan{}
	for _, jt := range rc.Header.Plan.Transports {
		prefix := "transport." + jt.Name + "."
		if !slices.ContainsFunc(rc.Header.Sensitive, func(n string) bool { return strings.HasPrefix(n, prefix) }) {
			continue
		}
		_, desc, err := ts.get(ctx, jt.Name)
		if err != nil {
			diags = append(diags, launchDiagnostic(cfg, jt.Name, err))
			continue
		}
		// As for a plan: a plugin refused here declares no schema fanout
		// accepts, so nothing is decoded against it.
		pdiags := checkPlugin(cfg, jt.Name, desc)
		diags = append(diags, pdiags...)
		if pdiags.HasErrors() {
			continue
		}
		_, v, ddiags := decodeTransport(cfg, jt.Name, desc)
		diags = append(diags, ddiags...)
		if ddiags.HasErrors() {
			continue
		}
		settings.Transports = append(settings.Transports, &TransportPlan{Name: jt.Name, Plugin: desc, Settings: v})
	}
	return append(secrets, Secrets(nil, settings)...), diags
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

package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/fanout/fanout/config"
	"github.com/fanout/fanout/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"
)

// Launcher starts a transport by name. The core owns what it returns: it
// calls the transport's Close and then stop, exactly once, at the end of
// the run. Launch is called at most once per name per Transports.
type Launcher interface {
	Launch(ctx context.Context, name string) (t sdk.Transport, stop func(), err error)
}

// LaunchRequest is what Transports asks of a RequestLauncher: the
// transport, and what the configuration requires of its plugin binary.
type LaunchRequest struct {
	// Name is the transport's name.
	Name string
	// SHA256 pins the plugin binary (the transport block's sha256): 64
	// hexadecimal digits, or empty when not pinned.
	SHA256 string
}

// RequestLauncher is a Launcher that can also honour a LaunchRequest, which
// Transports uses when the configuration pins a plugin binary. A launcher
// that cannot verify binaries need not implement it; Transports then
// refuses pinned transports rather than start them unchecked.
type RequestLauncher interface {
	LaunchWith(ctx context.Context, req LaunchRequest) (t sdk.Transport, stop func(), err error)
}

// launcherFunc adapts a function to Launcher.
type launcherFunc func(ctx context.Context, name string) (sdk.Transport, func(), error)

// Launch calls f.
func (f launcherFunc) Launch(ctx context.Context, name string) (sdk.Transport, func(), error) {
	return f(ctx, name)
}

// TransportPlan is one transport a plan uses.
type TransportPlan struct {
	Name string
	// Plugin is what the plugin declared about itself.
	Plugin *sdk.DescribeResponse
	// Settings is the transport block decoded against the plugin's schema.
	Settings cty.Value
	// Hosts counts the plan's hosts that use it.
	Hosts int
}

// Setting is one attribute of a transport's settings, as a plan shows it.
type Setting struct {
	Name string
	// Value is the decoded value; null when the attribute is not set.
	Value cty.Value
	// Sensitive is true when the plugin declared the attribute sensitive:
	// its value must not be shown.
	Sensitive bool
}

// Attributes returns the transport's settings in the order its plugin
// declares them.
func (tp *TransportPlan) Attributes() []Setting {
	if tp.Plugin == nil {
		return nil
	}
	return SchemaSettings(tp.Plugin.TransportSchema.Attributes, tp.Settings)
}

// SchemaSettings returns v, an object of a plugin's schema (a transport
// block's settings, or a host block's), as one Setting per attribute of
// attrs, in their order; an attribute v does not set is null.
func SchemaSettings(attrs []sdk.Attribute, v cty.Value) []Setting {
	out := make([]Setting, 0, len(attrs))
	for _, a := range attrs {
		sv := cty.NullVal(cty.DynamicPseudoType)
		if v != cty.NilVal && v.Type().IsObjectType() && v.Type().HasAttribute(a.Name) && !v.IsNull() {
			// Marks only say what the views decide from the schema;
			// a marked value would panic in their formatting.
			sv, _ = v.GetAttr(a.Name).UnmarkDeep()
		}
		out = append(out, Setting{Name: a.Name, Value: sv, Sensitive: a.Sensitive})
	}
	return out
}

// Transports starts transport plugins on first use and keeps one plugin
// process per transport until Close, so that a plan and the run that
// follows it share them. It is safe for concurrent use.
type Transports struct {
	launcher Launcher
	logger   hclog.Logger

	mu sync.Mutex
	// guarded by mu
	handles map[string]*transportHandle
	order   []string
	pins    map[string]string // transport name -> sha256, set by prepare
	// retired are the handles of plugins that died and were started
	// again (restart); Close stops them.
	retired []*transportHandle
}

type transportHandle struct {
	ready chan struct{} // closed when launch finished
	t     sdk.Transport
	desc  *sdk.DescribeResponse
	stop  func()
	err   error
	// configured is the Configure the plugin accepted, which a restart
	// repeats; nil until then. Guarded by Transports.mu.
	configured *sdk.ConfigureRequest
}

// NewTransports returns a Transports that launches with l.
func NewTransports(l Launcher, logger hclog.Logger) *Transports {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Transports{launcher: l, logger: logger, handles: map[string]*transportHandle{}, pins: map[string]string{}}
}

// get launches and describes the named transport once; concurrent callers
// wait for the first.
func (ts *Transports) get(ctx context.Context, name string) (sdk.Transport, *sdk.DescribeResponse, error) {
	ts.mu.Lock()
	h, ok := ts.handles[name]
	if !ok {
		h = &transportHandle{ready: make(chan struct{})}
		ts.handles[name] = h
		ts.order = append(ts.order, name)
	}
	pin := ts.pins[name]
	ts.mu.Unlock()
	if ok {
		select {
		case <-h.ready:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		return h.t, h.desc, h.err
	}
	defer close(h.ready)
	if err := ts.start(ctx, h, name, pin); err != nil {
		return nil, nil, err
	}
	return h.t, h.desc, nil
}

// start launches the named transport's plugin for h and describes it,
// setting h's fields (h.err too, on failure); the caller closes h.ready.
func (ts *Transports) start(ctx context.Context, h *transportHandle, name, pin string) error {
	t, stop, err := ts.launch(ctx, name, pin)
	if err != nil {
		h.err = err
		return err
	}
	h.t, h.stop = t, stop
	desc, err := bounded(ctx, describeLimit, name, "Describe", func(ctx context.Context) (*sdk.DescribeResponse, error) {
		return t.Describe(ctx, &sdk.DescribeRequest{})
	})
	if err != nil {
		h.err = fmt.Errorf("describe: %w", err)
		return h.err
	}
	h.t, h.desc = withCapabilities(t, desc), desc
	return nil
}

// launch starts a transport, through LaunchWith when its binary is pinned.
func (ts *Transports) launch(ctx context.Context, name, pin string) (sdk.Transport, func(), error) {
	if rl, ok := ts.launcher.(RequestLauncher); ok {
		return rl.LaunchWith(ctx, LaunchRequest{Name: name, SHA256: pin})
	}
	if pin != "" {
		return nil, nil, fmt.Errorf("this launcher cannot verify the plugin binary against sha256 %s", pin)
	}
	return ts.launcher.Launch(ctx, name)
}

// restart starts the named transport's plugin again after the first
// process died, and describes and configures it as the first was, so that
// the run can roll back what the dead one ran. Later calls of get return
// the new one; the dead one is stopped at Close. The plugin binary is
// verified again, as at the first start.
func (ts *Transports) restart(ctx context.Context, name string) error {
	ts.mu.Lock()
	old, ok := ts.handles[name]
	if !ok {
		ts.mu.Unlock()
		return fmt.Errorf("transport %q was never started", name)
	}
	ts.mu.Unlock()
	<-old.ready
	ts.mu.Lock()
	configured := old.configured // nil if the first was not configured either
	h := &transportHandle{ready: make(chan struct{}), configured: configured}
	ts.handles[name] = h
	ts.retired = append(ts.retired, old)
	pin := ts.pins[name]
	ts.mu.Unlock()
	defer close(h.ready)

	if err := ts.start(ctx, h, name, pin); err != nil {
		return err
	}
	if configured != nil {
		resp, err := bounded(ctx, configureLimit, name, "Configure", func(ctx context.Context) (*sdk.ConfigureResponse, error) {
			return h.t.Configure(ctx, configured)
		})
		if err == nil {
			err = resp.Diagnostics.Err()
		}
		if err != nil {
			h.err = fmt.Errorf("configure: %w", err)
			return h.err
		}
	}
	return nil
}

// Close closes every transport started so far and stops its plugin. It
// blocks until they are gone and may be called more than once.
func (ts *Transports) Close(ctx context.Context) error {
	ts.mu.Lock()
	handles := ts.handles
	order := ts.order
	retired := ts.retired
	ts.handles = map[string]*transportHandle{}
	ts.order = nil
	ts.retired = nil
	ts.mu.Unlock()

	// Dead already: nothing to close, only go-plugin's side to release.
	for _, h := range retired {
		if h.stop != nil {
			h.stop()
		}
	}

	var errs []error
	for _, name := range order {
		h := handles[name]
		<-h.ready
		if h.t != nil {
			if _, err := bounded(ctx, closeLimit, name, "Close", func(ctx context.Context) (*sdk.CloseResponse, error) {
				return h.t.Close(ctx, &sdk.CloseRequest{})
			}); err != nil {
				// Said here: the callers only know the run is over.
				ts.logger.Warn("transport plugin did not close cleanly; it is stopped", "transport", name, "error", err)
				errs = append(errs, fmt.Errorf("transport %s: close: %w", name, err))
			}
		}
		if h.stop != nil {
			h.stop()
		}
	}
	return errors.Join(errs...)
}

// prepare describes every transport the hosts use (and every declared
// one), decodes transport and host settings against the plugins' schemas,
// and configures each transport for run runID (empty when no run will
// follow). Hosts of the configuration that the plan does not use are
// checked too when their transport was started anyway, so that a typo is
// found before the run that uses the host.
func (ts *Transports) prepare(ctx context.Context, cfg *config.Config, hosts []*Host, runID string) ([]*TransportPlan, hcl.Diagnostics) {
	counts := map[string]int{}
	for _, h := range hosts {
		counts[h.Transport]++
	}
	var diags hcl.Diagnostics
	var plans []*TransportPlan
	described := map[string]*sdk.DescribeResponse{}
	configured := map[string]bool{}
	for _, name := range ts.transportNames(cfg, counts) {
		tp, desc, tdiags := ts.configure(ctx, cfg, name, runID)
		diags = append(diags, tdiags...)
		if desc != nil {
			described[name] = desc
		}
		if tp != nil {
			tp.Hosts = counts[name]
			plans = append(plans, tp)
			configured[name] = true
		}
	}
	diags = append(diags, ts.decodeHostSettings(ctx, cfg, hosts, described, configured)...)
	return plans, diags
}

// transportNames lists, sorted, the transports the plan's hosts use (with
// how many: counts) and every declared one, and notes their sha256 pins.
func (ts *Transports) transportNames(cfg *config.Config, counts map[string]int) []string {
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	ts.mu.Lock()
	for name, block := range cfg.Transports {
		if _, ok := counts[name]; !ok {
			names = append(names, name)
		}
		if block.SHA256 != "" {
			ts.pins[name] = block.SHA256
		}
	}
	ts.mu.Unlock()
	sort.Strings(names)
	return names
}

// configure starts the named transport, decodes its block against the
// schema its plugin declares and configures it for run runID. It returns
// the plugin's description once it is started (nil when it could not be),
// and the transport's plan once it accepted its settings (nil otherwise).
func (ts *Transports) configure(ctx context.Context, cfg *config.Config, name, runID string) (*TransportPlan, *sdk.DescribeResponse, hcl.Diagnostics) {
	block := cfg.Transports[name]
	t, desc, err := ts.get(ctx, name)
	if err != nil {
		return nil, nil, hcl.Diagnostics{launchDiagnostic(cfg, name, err)}
	}
	// A plugin refused here describes nothing: its hosts are not decoded
	// against a schema fanout does not accept.
	pdiags := checkPlugin(cfg, name, desc)
	if pdiags.HasErrors() {
		return nil, nil, pdiags
	}
	body, settings, diags := decodeTransport(cfg, name, desc)
	diags = append(pdiags, diags...)
	if diags.HasErrors() {
		return nil, desc, diags
	}
	req := &sdk.ConfigureRequest{Config: settings, RunID: runID}
	resp, err := bounded(ctx, configureLimit, name, "Configure", func(ctx context.Context) (*sdk.ConfigureResponse, error) {
		return t.Configure(ctx, req)
	})
	if err != nil {
		return nil, desc, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Transport %q rejected its settings", name),
			Detail:   errText(err) + ".",
			Subject:  rangePtr(block),
		})
	}
	diags = append(diags, mapDiagnostics(resp.Diagnostics, body, rangePtr(block))...)
	if resp.Diagnostics.HasErrors() {
		return nil, desc, diags
	}
	ts.mu.Lock()
	if h := ts.handles[name]; h != nil {
		h.configured = req
	}
	ts.mu.Unlock()
	return &TransportPlan{Name: name, Plugin: desc, Settings: settings}, desc, diags
}

// decodeTransport decodes the named transport's block in cfg (an empty
// body when it declares none) against the schema its plugin declared. It
// returns the body too, on which the plugin's diagnostics are placed.
func decodeTransport(cfg *config.Config, name string, desc *sdk.DescribeResponse) (hcl.Body, cty.Value, hcl.Diagnostics) {
	var body hcl.Body = hcl.EmptyBody()
	if block := cfg.Transports[name]; block != nil && block.Config != nil {
		body = block.Config
	}
	settings, diags := hcldec.Decode(body, schemaSpec(desc.TransportSchema), cfg.EvalContext)
	return body, settings, diags
}

// decodeHostSettings decodes every host's settings against the host schema
// of its transport, when that transport was described, and sets them on
// the plan's hosts; a transport that validates hosts (protocol 1.2) and was
// configured then checks each host's decoded settings, without contacting
// it (one whose Configure failed would check them against settings it
// never took: an error for every host under the real one). Hosts the plan
// does not use are checked too, so that a typo is found before the run
// that uses the host.
func (ts *Transports) decodeHostSettings(ctx context.Context, cfg *config.Config, hosts []*Host, described map[string]*sdk.DescribeResponse, configured map[string]bool) hcl.Diagnostics {
	planned := map[string]*Host{}
	for _, h := range hosts {
		planned[h.Name] = h
	}
	var diags hcl.Diagnostics
	for _, ch := range cfg.Hosts {
		desc, ok := described[ch.Transport]
		if !ok {
			continue // its transport failed, and said so, or is not started
		}
		body, v, hdiags := decodeHost(cfg, ch, desc)
		diags = append(diags, hdiags...)
		if h := planned[ch.Name]; h != nil {
			h.Config = v
		}
		if !hdiags.HasErrors() && configured[ch.Transport] && anySet(v) {
			diags = append(diags, ts.validateHost(ctx, ch, v, body)...)
		}
	}
	return diags
}

// anySet reports whether a host's decoded settings v set any attribute: a
// host that sets none has nothing of its own to check (a setting every
// host must have is the schema's Required), and asking the plugin about
// each of 2,000 such hosts cost a plan 0.3 s.
func anySet(v cty.Value) bool {
	if v.IsNull() || !v.IsKnown() || !v.Type().IsObjectType() {
		return !v.IsNull()
	}
	for it := v.ElementIterator(); it.Next(); {
		if _, ev := it.Element(); !ev.IsNull() {
			return true
		}
	}
	return false
}

// decodeHost decodes host block ch's settings against the host schema its
// transport's plugin declared. It returns the body too, on which the
// plugin's diagnostics are placed.
func decodeHost(cfg *config.Config, ch *config.Host, desc *sdk.DescribeResponse) (hcl.Body, cty.Value, hcl.Diagnostics) {
	var body hcl.Body = hcl.EmptyBody()
	if ch.Config != nil {
		body = ch.Config
	}
	ectx := cfg.EvalContext
	if ch.EvalContext != nil {
		ectx = ch.EvalContext // a for_each instance: with each
	}
	v, diags := hcldec.Decode(body, schemaSpec(desc.HostSchema), ectx)
	suggestHostAttributes(diags)
	return body, v, diags
}

// suggestHostAttributes adds to an "Unsupported argument" of a host block
// that the transport's schema left without a suggestion the one of
// fanout's own host attributes it is close to: the block's rest is
// decoded against the transport's schema, so `adress` got no "Did you
// mean address?".
func suggestHostAttributes(diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Summary != "Unsupported argument" || strings.Contains(d.Detail, "Did you mean") {
			continue
		}
		_, rest, ok := strings.Cut(d.Detail, `named "`)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, `"`)
		if s := config.DidYouMean(name, config.ReservedHostAttributes()); s != "" {
			d.Detail += s
		}
	}
}

// validateHost asks the host's transport to check its decoded settings v,
// when the transport declared it can, and places the diagnostics on the
// host block's attributes (body holds them).
func (ts *Transports) validateHost(ctx context.Context, ch *config.Host, v cty.Value, body hcl.Body) hcl.Diagnostics {
	t, desc, err := ts.get(ctx, ch.Transport)
	if err != nil {
		return nil // its transport failed, and said so
	}
	hv, ok := hostValidator(t, desc)
	if !ok {
		return nil
	}
	resp, err := hv.ValidateHost(ctx, &sdk.ValidateHostRequest{Host: sdk.Host{Name: ch.Name, Address: ch.Address, Config: v}})
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Transport %q could not check host %q", ch.Transport, ch.Name),
			Detail:   errText(err) + ".",
			Subject:  ch.DeclRange.Ptr(),
		}}
	}
	return mapDiagnostics(resp.Diagnostics, body, ch.DeclRange.Ptr())
}

// launchDiagnostic explains why a transport could not be started, on its
// transport block or, for an undeclared one, on the first host using it.
func launchDiagnostic(cfg *config.Config, name string, err error) *hcl.Diagnostic {
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Transport %q is not available", name),
		Detail:   fmt.Sprintf("fanout could not start the %q transport: %s.", name, errText(err)),
	}
	if block := cfg.Transports[name]; block != nil {
		d.Subject = block.NameRange.Ptr()
		d.Context = block.DeclRange.Ptr()
	} else {
		d.Subject = firstHostUsing(cfg, name)
	}
	if le, ok := errors.AsType[LaunchError](err); ok {
		// The launcher's words, with what the plugin printed in them.
		d.Summary, d.Detail = cleanText(le.Summary()), cleanDetail(le.Detail())
	}
	if hint := config.DidYouMean(name, []string{config.DefaultTransport, "local"}); hint != "" && strings.Contains(d.Summary, "not found") {
		// transport "sssh" {} looked for a plugin of that name.
		d.Detail = strings.TrimSpace(hint) + " " + d.Detail
	}
	return d
}

func rangePtr(t *config.Transport) *hcl.Range {
	if t == nil {
		return nil
	}
	return t.DeclRange.Ptr()
}

func firstHostUsing(cfg *config.Config, transport string) *hcl.Range {
	for _, h := range cfg.Hosts {
		if h.Transport == transport && !h.Implicit {
			return h.DeclRange.Ptr()
		}
	}
	return nil
}

// schemaSpec turns a plugin's declared schema into an hcldec spec, so its
// settings are checked where they are written.
func schemaSpec(s sdk.Schema) hcldec.Spec {
	spec := hcldec.ObjectSpec{}
	for _, a := range s.Attributes {
		ty := a.Type
		if ty == cty.NilType {
			ty = cty.DynamicPseudoType
		}
		spec[a.Name] = &hcldec.AttrSpec{Name: a.Name, Type: ty, Required: a.Required}
	}
	return spec
}

// mapDiagnostics turns a plugin's diagnostics into HCL diagnostics placed
// on the attribute they name.
func mapDiagnostics(in sdk.Diagnostics, body hcl.Body, block *hcl.Range) hcl.Diagnostics {
	if len(in) == 0 {
		return nil
	}
	attrs, _ := body.JustAttributes()
	var out hcl.Diagnostics
	for _, d := range in {
		sev := hcl.DiagError
		if d.Severity == sdk.Warning {
			sev = hcl.DiagWarning
		}
		hd := &hcl.Diagnostic{Severity: sev, Summary: cleanText(d.Summary), Detail: cleanText(d.Detail), Subject: block}
		if len(d.Attribute) > 0 {
			if a, ok := attrs[d.Attribute[0]]; ok {
				hd.Subject = a.Expr.Range().Ptr()
				hd.Context = a.Range.Ptr()
			}
		}
		out = append(out, hd)
	}
	return out
}

package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

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

// LauncherFunc adapts a function to Launcher.
type LauncherFunc func(ctx context.Context, name string) (sdk.Transport, func(), error)

// Launch calls f.
func (f LauncherFunc) Launch(ctx context.Context, name string) (sdk.Transport, func(), error) {
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
}

type transportHandle struct {
	ready chan struct{} // closed when launch finished
	t     sdk.Transport
	desc  *sdk.DescribeResponse
	stop  func()
	err   error
}

// NewTransports returns a Transports that launches with l.
func NewTransports(l Launcher, logger hclog.Logger) *Transports {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Transports{launcher: l, logger: logger, handles: map[string]*transportHandle{}}
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
	t, stop, err := ts.launcher.Launch(ctx, name)
	if err != nil {
		h.err = err
		return nil, nil, err
	}
	h.t, h.stop = t, stop
	desc, err := t.Describe(ctx, &sdk.DescribeRequest{})
	if err != nil {
		h.err = fmt.Errorf("describe: %w", err)
		return nil, nil, h.err
	}
	h.desc = desc
	return t, desc, nil
}

// Close closes every transport started so far and stops its plugin. It
// blocks until they are gone and may be called more than once.
func (ts *Transports) Close(ctx context.Context) error {
	ts.mu.Lock()
	handles := ts.handles
	order := ts.order
	ts.handles = map[string]*transportHandle{}
	ts.order = nil
	ts.mu.Unlock()

	var errs []error
	for _, name := range order {
		h := handles[name]
		<-h.ready
		if h.t != nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := h.t.Close(cctx, &sdk.CloseRequest{}); err != nil {
				errs = append(errs, fmt.Errorf("transport %s: close: %w", name, err))
			}
			cancel()
		}
		if h.stop != nil {
			h.stop()
		}
	}
	return errors.Join(errs...)
}

// prepare describes every transport the hosts use (and every declared
// one), decodes transport and host settings against the plugins' schemas,
// and configures each transport.
func (ts *Transports) prepare(ctx context.Context, cfg *config.Config, hosts []*Host) ([]*TransportPlan, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	counts := map[string]int{}
	for _, h := range hosts {
		counts[h.Transport]++
	}
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	for name := range cfg.Transports {
		if _, ok := counts[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)

	hostByName := map[string]*config.Host{}
	for _, h := range cfg.Hosts {
		hostByName[h.Name] = h
	}

	var plans []*TransportPlan
	failed := map[string]bool{}
	for _, name := range names {
		block := cfg.Transports[name]
		t, desc, err := ts.get(ctx, name)
		if err != nil {
			failed[name] = true
			d := &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Transport %q is not available", name),
				Detail:   fmt.Sprintf("fanout could not start the %q transport: %s.", name, err),
			}
			if block != nil {
				d.Subject = block.NameRange.Ptr()
			} else {
				d.Subject = firstHostUsing(cfg, name)
			}
			diags = append(diags, d)
			continue
		}
		var body hcl.Body = hcl.EmptyBody()
		if block != nil && block.Config != nil {
			body = block.Config
		}
		settings, sdiags := hcldec.Decode(body, schemaSpec(desc.TransportSchema), cfg.EvalContext)
		diags = append(diags, sdiags...)
		if sdiags.HasErrors() {
			failed[name] = true
			continue
		}
		resp, err := t.Configure(ctx, &sdk.ConfigureRequest{Config: settings})
		if err != nil {
			failed[name] = true
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Transport %q rejected its settings", name),
				Detail:   err.Error() + ".",
				Subject:  rangePtr(block),
			})
			continue
		}
		diags = append(diags, mapDiagnostics(resp.Diagnostics, body, rangePtr(block))...)
		if resp.Diagnostics.HasErrors() {
			failed[name] = true
		}
		plans = append(plans, &TransportPlan{Name: name, Plugin: desc, Settings: settings, Hosts: counts[name]})
	}

	for _, h := range hosts {
		if failed[h.Transport] {
			continue
		}
		_, desc, err := ts.get(ctx, h.Transport)
		if err != nil {
			continue
		}
		var body hcl.Body = hcl.EmptyBody()
		if ch := hostByName[h.Name]; ch != nil && ch.Config != nil {
			body = ch.Config
		}
		v, hdiags := hcldec.Decode(body, schemaSpec(desc.HostSchema), cfg.EvalContext)
		diags = append(diags, hdiags...)
		h.Config = v
	}
	return plans, diags
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
		hd := &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Subject: block}
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

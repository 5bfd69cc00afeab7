package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/fanout/fanout/core"
	"github.com/fanout/fanout/internal/pluginhost"
	"github.com/fanout/fanout/sdk"
	"github.com/fanout/fanout/sdk/client"
)

// orphanWait bounds how long fanout waits for what a crashed plugin left
// running to die once killed; past it, the crash says fanout cannot know.
const orphanWait = 10 * time.Second

// crashAware is a plugin's Transport as the core gets it. When a call
// finds the plugin process dead, it first ends what the plugin left
// running (once per process, every failing call waiting for it), then
// returns a *core.PluginCrashError saying whether that worked: so the core
// learns of a crash only once it may roll back.
type crashAware struct {
	sdk.Transport
	plugin *pluginhost.Plugin

	once    sync.Once
	orphans error // set by once

	// probing is the probe of hung in progress, which the calls that
	// give up on their command at once (an abort, 2,000 of them) share.
	probeMu sync.Mutex
	probing *probe
}

// probe is one Describe asking whether the plugin still answers.
type probe struct {
	done chan struct{}
	hung bool // set before done is closed
}

// crashed turns err into a *core.PluginCrashError when it says the plugin
// process exited, after its orphans are dealt with; nil stays nil, so a
// call's answer and error pass through it together.
func (c *crashAware) crashed(err error) error {
	if !errors.Is(err, client.ErrPluginExited) {
		return err
	}
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), orphanWait)
		defer cancel()
		c.orphans = c.plugin.KillOrphans(ctx)
	})
	return &core.PluginCrashError{Err: err, Orphans: c.orphans}
}

func (c *crashAware) Connect(ctx context.Context, req *sdk.ConnectRequest) (*sdk.ConnectResponse, error) {
	resp, err := c.Transport.Connect(ctx, req)
	return resp, c.crashed(err)
}

// ValidateHost passes the call to the plugin, which offers it when its
// Describe says so (the core asks only then).
func (c *crashAware) ValidateHost(ctx context.Context, req *sdk.ValidateHostRequest) (*sdk.ValidateHostResponse, error) {
	hv, ok := c.Transport.(sdk.HostValidator)
	if !ok {
		return nil, errors.New("the plugin's client cannot validate hosts")
	}
	resp, err := hv.ValidateHost(ctx, req)
	return resp, c.crashed(err)
}

// Release passes the call to the plugin, which offers it when its
// Describe says so (the core asks only then).
func (c *crashAware) Release(ctx context.Context, req *sdk.ReleaseRequest) (*sdk.ReleaseResponse, error) {
	rel, ok := c.Transport.(sdk.Releaser)
	if !ok {
		return nil, errors.New("the plugin's client cannot release hosts")
	}
	resp, err := rel.Release(ctx, req)
	return resp, c.crashed(err)
}

// Upload and Download pass the calls to the plugin, which serves them
// when its Describe declares the capability (the core asks only then).
func (c *crashAware) Upload(ctx context.Context, req *sdk.UploadRequest, content io.Reader) (*sdk.UploadResponse, error) {
	ft, ok := c.Transport.(sdk.FileTransport)
	if !ok {
		return nil, fmt.Errorf("upload: %w", sdk.ErrNotSupported)
	}
	resp, err := ft.Upload(ctx, req, content)
	return resp, c.crashed(err)
}

func (c *crashAware) Download(ctx context.Context, req *sdk.DownloadRequest, content io.Writer) (*sdk.DownloadResponse, error) {
	ft, ok := c.Transport.(sdk.FileTransport)
	if !ok {
		return nil, fmt.Errorf("download: %w", sdk.ErrNotSupported)
	}
	resp, err := ft.Download(ctx, req, content)
	return resp, c.crashed(err)
}

func (c *crashAware) Exec(ctx context.Context, req *sdk.ExecRequest, out sdk.ExecOutput) (*sdk.ExecResponse, error) {
	resp, err := c.Transport.Exec(ctx, req, out)
	if err != nil && ctx.Err() != nil && c.hung() {
		// The core gave up on the command: its timeout and a grace
		// passed, or an interrupt's grace did, or the run was aborted.
		// A plugin that answers nothing either is killed, and that is a
		// crash: what it started is ended before any rollback, which a
		// new plugin process runs.
		err = fmt.Errorf("%w: the command was to stop (%s) and the plugin neither ended it nor answered a request within %s, so fanout killed it",
			client.ErrPluginExited, why(ctx), probeWait)
	}
	return resp, c.crashed(err)
}

// why says why the core's context for a command ended.
func why(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "its timeout passed"
	}
	return "the run was interrupted"
}

// probeWait bounds how long a plugin that let a command's timeout pass
// has to answer a Describe before it is taken for hung.
const probeWait = 5 * time.Second

// hung asks the plugin for its Describe, bounded by probeWait, and kills
// it when it does not answer (a stopped or wedged process), reporting
// whether it did. A plugin that answers is alive: only its command was
// not stopped, which the core reports as such. Calls while a probe is in
// progress wait for its answer rather than ask again.
func (c *crashAware) hung() bool {
	c.probeMu.Lock()
	p := c.probing
	if p != nil {
		c.probeMu.Unlock()
		<-p.done
		return p.hung
	}
	p = &probe{done: make(chan struct{})}
	c.probing = p
	c.probeMu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), probeWait)
	_, err := c.Transport.Describe(ctx, &sdk.DescribeRequest{})
	p.hung = err != nil && ctx.Err() != nil
	cancel()
	if p.hung {
		c.plugin.Client.Kill() // bounded: kills a process that does not answer
	}
	c.probeMu.Lock()
	c.probing = nil // a later deadline asks afresh
	c.probeMu.Unlock()
	close(p.done)
	return p.hung
}

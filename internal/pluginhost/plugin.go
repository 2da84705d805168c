package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// Plugin is a supervised plugin process seen as an adapter.Adapter. It is
// safe for concurrent use. Create it with Open; Close stops the process.
type Plugin struct {
	spec Spec
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	inst     *instance
	cfg      adapter.Config // replayed into a restarted process
	hasCfg   bool
	closed   bool
	bo       backoff.BackOff
	restarts atomic.Int64
	obs      adapter.HTTPObserver // set by ObserveHTTP; guarded by mu

	hmu   sync.Mutex
	hints wire.Hints // the plugin's last hints (protocol 1.1)
}

var _ adapter.Adapter = (*Plugin)(nil)

// Open verifies and starts the plugin s. The checksum is checked before
// anything runs; a mismatch, a missing pin or an incompatible protocol is
// returned as is, never retried.
func Open(ctx context.Context, s Spec, o Options) (*Plugin, error) {
	o = o.withDefaults()
	p := &Plugin{spec: s, opts: o, log: o.Logger.With("plugin", s.Name), bo: o.Backoff()}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in, err := start(s, o, p.log)
	if err != nil {
		return nil, err
	}
	p.inst = in
	return p, nil
}

// Name is the plugin's configured name.
func (p *Plugin) Name() string { return p.spec.Name }

// PID is the process id of the running plugin, or 0.
func (p *Plugin) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst == nil {
		return 0
	}
	return p.inst.pid
}

// NegotiatedVersion is the protocol version in use, or 0.
func (p *Plugin) NegotiatedVersion() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst == nil {
		return 0
	}
	return p.inst.version
}

// Restarts counts the restarts after crashes and kills.
func (p *Plugin) Restarts() int64 { return p.restarts.Load() }

// live returns the running instance, restarting the process (and
// replaying Configure) when it has exited.
func (p *Plugin) live(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, adapter.Permanent(fmt.Errorf("plugin %q: %w", p.spec.Name, ErrClosed))
	}
	if p.inst != nil && !p.inst.exited() {
		return p.inst, nil
	}
	if p.inst != nil {
		p.inst.kill()
		p.inst = nil
	}
	in, err := start(p.spec, p.opts, p.log)
	if err != nil {
		return nil, err
	}
	if p.hasCfg {
		cctx, cancel := context.WithTimeout(ctx, p.spec.callTimeout())
		err := in.a.Configure(cctx, p.cfg)
		cancel()
		if err != nil {
			in.kill()
			return nil, fmt.Errorf("reconfiguring restarted plugin %q: %w", p.spec.Name, err)
		}
		p.refreshHints(ctx, in)
	}
	p.restarts.Add(1)
	p.inst = in
	p.watch(in)
	p.log.Warn("plugin restarted", "pid", in.pid, "restarts", p.restarts.Load())
	return in, nil
}

// crashed reports whether err means the process died or the connection
// to it broke, rather than an answer from the adapter.
func crashed(in *instance, err error) bool {
	return errors.Is(err, wire.ErrTransport) || in.exited()
}

// retryWait sleeps for the next restart backoff, or returns ctx's error.
func (p *Plugin) retryWait(ctx context.Context) error {
	p.mu.Lock()
	d := p.bo.NextBackOff()
	p.mu.Unlock()
	if d == backoff.Stop {
		return errors.New("restart backoff gave up")
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (p *Plugin) succeeded() {
	p.mu.Lock()
	p.bo.Reset()
	p.mu.Unlock()
}

// killHung kills in after a timeout.
func (p *Plugin) killHung(in *instance, op string) error {
	p.log.Error("plugin hung; killing it", "op", op, "timeout", p.spec.callTimeout(), "pid", in.pid)
	in.kill()
	return adapter.Retryable(fmt.Errorf("%s: plugin %q gave no answer within %s: %w", op, p.spec.Name, p.spec.callTimeout(), ErrHung))
}

// do runs one call with the timeout, crash detection, restart and retry.
// Every operation of the contract is idempotent, so a call whose plugin
// died is simply made again on a fresh process.
func (p *Plugin) do(ctx context.Context, op string, fn func(ctx context.Context, a adapter.Adapter) error) error {
	for attempt := 0; ; attempt++ {
		in, err := p.live(ctx)
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, p.spec.callTimeout())
		deadline, _ := cctx.Deadline()
		err = fn(cctx, in.a)
		// gRPC sends the deadline along, so the plugin's side may give up
		// (RST_STREAM CANCEL) a moment before our own timer fires: an error
		// right at the deadline is the timeout too.
		hung := ctx.Err() == nil && (errors.Is(cctx.Err(), context.DeadlineExceeded) ||
			(err != nil && time.Until(deadline) < 50*time.Millisecond))
		cancel()
		switch {
		case hung:
			return p.killHung(in, op)
		case err == nil:
			p.succeeded()
			return nil
		case ctx.Err() != nil || !crashed(in, err):
			return err
		case attempt >= p.opts.MaxRetries:
			return fmt.Errorf("%s: plugin %q crashed %d times: %w", op, p.spec.Name, attempt+1, err)
		}
		p.log.Warn("plugin crashed during a call; restarting it and retrying", "op", op, "attempt", attempt+1, "error", err)
		in.kill()
		if werr := p.retryWait(ctx); werr != nil {
			return fmt.Errorf("%s: waiting to restart plugin %q: %w", op, p.spec.Name, werr)
		}
	}
}

// Describe implements adapter.Adapter.
func (p *Plugin) Describe(ctx context.Context) (adapter.Descriptor, error) {
	var d adapter.Descriptor
	err := p.do(ctx, "describing", func(ctx context.Context, a adapter.Adapter) (err error) {
		d, err = a.Describe(ctx)
		return err
	})
	return d, err
}

// ValidateConfig implements adapter.Adapter.
func (p *Plugin) ValidateConfig(ctx context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error) {
	var ds []adapter.Diagnostic
	err := p.do(ctx, "validating config", func(ctx context.Context, a adapter.Adapter) (err error) {
		ds, err = a.ValidateConfig(ctx, cfg)
		return err
	})
	return ds, err
}

// Configure implements adapter.Adapter; the configuration is kept and
// replayed into a restarted process.
func (p *Plugin) Configure(ctx context.Context, cfg adapter.Config) error {
	err := p.do(ctx, "configuring", func(ctx context.Context, a adapter.Adapter) error {
		return a.Configure(ctx, cfg)
	})
	if err == nil {
		p.mu.Lock()
		p.cfg, p.hasCfg = maps.Clone(cfg), true
		in := p.inst
		p.mu.Unlock()
		if in != nil {
			p.refreshHints(ctx, in)
		}
	}
	return err
}

// Pull implements adapter.Adapter. The timeout applies to the wait for
// each page, not to the host's handling of it. When the process crashes
// the pull restarts it and resumes from the cursor of the last page the
// sink accepted, so the sink sees every record exactly once.
func (p *Plugin) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	timeout := p.spec.callTimeout()
	for attempt := 0; ; attempt++ {
		in, err := p.live(ctx)
		if err != nil {
			return err
		}
		pctx, cancel := context.WithCancel(ctx)
		var hung atomic.Bool
		watchdog := time.AfterFunc(timeout, func() { hung.Store(true); cancel() })
		var sinkErr error
		err = in.a.Pull(pctx, req, func(sctx context.Context, page adapter.Page) error {
			if !watchdog.Stop() {
				return context.Canceled // the watchdog fired first
			}
			sinkErr = sink(sctx, page)
			if sinkErr == nil {
				req.Cursor = page.Cursor
			}
			watchdog.Reset(timeout)
			return sinkErr
		})
		watchdog.Stop()
		cancel()
		switch {
		case hung.Load() && ctx.Err() == nil:
			return p.killHung(in, "pulling "+req.Object)
		case sinkErr != nil:
			return sinkErr
		case err == nil:
			p.succeeded()
			return nil
		case ctx.Err() != nil || !crashed(in, err):
			return err
		case attempt >= p.opts.MaxRetries:
			return fmt.Errorf("pulling %s: plugin %q crashed %d times: %w", req.Object, p.spec.Name, attempt+1, err)
		}
		p.log.Warn("plugin crashed during a pull; restarting it and resuming", "object", req.Object, "cursor", req.Cursor, "attempt", attempt+1, "error", err)
		in.kill()
		if werr := p.retryWait(ctx); werr != nil {
			return fmt.Errorf("pulling %s: waiting to restart plugin %q: %w", req.Object, p.spec.Name, werr)
		}
	}
}

// Fetch implements adapter.Adapter.
func (p *Plugin) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	var cs []adapter.Change
	err := p.do(ctx, "fetching "+req.Object, func(ctx context.Context, a adapter.Adapter) (err error) {
		cs, err = a.Fetch(ctx, req)
		return err
	})
	return cs, err
}

// EnsureTargets implements adapter.Adapter.
func (p *Plugin) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	var es []adapter.EnsuredTarget
	err := p.do(ctx, "ensuring targets", func(ctx context.Context, a adapter.Adapter) (err error) {
		es, err = a.EnsureTargets(ctx, targets)
		return err
	})
	return es, err
}

// Push implements adapter.Adapter. A push whose plugin crashed is made
// again whole: items are absolute state, so writing one twice is harmless.
func (p *Plugin) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	var rs []adapter.PushResult
	err := p.do(ctx, "pushing", func(ctx context.Context, a adapter.Adapter) (err error) {
		rs, err = a.Push(ctx, req)
		return err
	})
	return rs, err
}

// VerifyWebhook implements adapter.Adapter.
func (p *Plugin) VerifyWebhook(ctx context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	var res adapter.WebhookResult
	err := p.do(ctx, "verifying webhook", func(ctx context.Context, a adapter.Adapter) (err error) {
		res, err = a.VerifyWebhook(ctx, req)
		return err
	})
	return res, err
}

// Close implements adapter.Adapter: it asks the adapter to release its
// connections, then stops the process. Later calls fail with ErrClosed.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.inst == nil {
		return nil
	}
	var err error
	if !p.inst.exited() {
		cctx, cancel := context.WithTimeout(ctx, p.spec.callTimeout())
		err = p.inst.a.Close(cctx)
		cancel()
	}
	if err != nil {
		p.inst.kill() // it may be hung: no graceful shutdown
	} else {
		p.inst.stopWatch()
		p.inst.client.Kill()
	}
	p.inst = nil
	if err != nil {
		return fmt.Errorf("closing plugin %q: %w", p.spec.Name, err)
	}
	return nil
}

// Shutdown kills every plugin process this host started that is still
// running (go-plugin's managed clients). Call it last at daemon shutdown,
// after closing each Plugin; it is a safety net for a panic path.
func Shutdown() { plugin.CleanupClients() }

package pluginhost

import (
	"context"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// hintTimeout bounds a Hints call made where the caller has no context
// (DailyQuota).
const hintTimeout = 5 * time.Second

// The hints of protocol 1.1 make a plugin paced, reported and measured as
// a built-in adapter is: Plugin implements the optional interfaces of
// package adapter whatever the plugin speaks, and answers for a 1.0
// plugin (or one without the hint) as an adapter without the interface
// would be treated: no pacing, no quota, no reports.
var (
	_ adapter.WritePacer    = (*Plugin)(nil)
	_ adapter.QuotaReporter = (*Plugin)(nil)
	_ adapter.Observable    = (*Plugin)(nil)
)

// refreshHints asks in for its hints and keeps them. A plugin that cannot
// answer keeps the previous ones; hints are advice, not a reason to fail.
func (p *Plugin) refreshHints(ctx context.Context, in *instance) {
	ext, ok := in.a.(wire.Extended)
	if !ok {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, min(hintTimeout, p.spec.callTimeout()))
	defer cancel()
	h, err := ext.Hints(cctx)
	if err != nil {
		p.log.Warn("plugin gave no hints; keeping the previous ones", "error", err)
		return
	}
	p.hmu.Lock()
	p.hints = h
	p.hmu.Unlock()
}

// WritePacing implements adapter.WritePacer with the pacing the plugin
// gave after its last Configure; zero (no preference) when it gave none.
func (p *Plugin) WritePacing() adapter.WritePacing {
	p.hmu.Lock()
	defer p.hmu.Unlock()
	if p.hints.Pacing == nil {
		return adapter.WritePacing{}
	}
	return *p.hints.Pacing
}

// DailyQuota implements adapter.QuotaReporter: it asks the running plugin
// (its remaining budget moves with every request), falling back to the
// last answer; Limit 0 and Remaining -1 when the plugin reports none.
func (p *Plugin) DailyQuota() adapter.Quota {
	p.mu.Lock()
	in := p.inst
	p.mu.Unlock()
	if in != nil && !in.exited() {
		p.refreshHints(context.Background(), in)
	}
	p.hmu.Lock()
	defer p.hmu.Unlock()
	if p.hints.Quota == nil {
		return adapter.Quota{Remaining: -1}
	}
	return *p.hints.Quota
}

// ObserveHTTP implements adapter.Observable: the plugin's HTTP reports
// (protocol 1.1) go to obs, from this process and from every restart.
func (p *Plugin) ObserveHTTP(obs adapter.HTTPObserver) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.obs = obs
	if p.inst != nil && !p.inst.exited() {
		p.watch(p.inst)
	}
}

// watch streams in's HTTP reports to the observer until in is killed.
// Called with p.mu held.
func (p *Plugin) watch(in *instance) {
	ext, ok := in.a.(wire.Extended)
	if p.obs == nil || !ok || in.watching {
		return
	}
	in.watching = true
	ctx, obs := in.watchCtx, p.obs
	go func() {
		if err := ext.WatchHTTP(ctx, obs); err != nil && ctx.Err() == nil && !in.exited() {
			p.log.Warn("plugin's HTTP reports stopped", "error", err)
		}
	}()
}

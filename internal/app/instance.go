package app

import (
	"context"
	"fmt"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// instanceAdapter runs an adapter as a named instance: every record it
// reads carries the instance's name as its platform, and every record the
// host hands it carries the adapter's own name again. So two WooCommerce
// shops keep their customers, cursors, ownership and write-back apart
// although one adapter (stamping "woocommerce") serves both, and a plugin
// may run under a name other than the platform it describes.
//
// It offers the optional interfaces the host asks for: when the adapter
// lacks one, the answer is what the host assumes without it (no pacing,
// no quota, the generic call estimate, erasure unsupported). Creating
// records changes plans and write-back by its mere presence, so an
// adapter that can create is wrapped by creatorInstance, one that cannot
// by instanceAdapter alone.
type instanceAdapter struct {
	inner    adapter.Adapter
	instance string // the name records carry in the host
	own      string // the name the adapter stamps (its Describe name)
	batch    int    // MaxPushBatch, for the generic estimate
}

// asInstance wraps a when the instance's name is not the one the adapter
// stamps on its records; otherwise a is returned as it is.
func asInstance(a adapter.Adapter, instance string, desc adapter.Descriptor) adapter.Adapter {
	if instance == desc.Name {
		return a
	}
	w := &instanceAdapter{inner: a, instance: instance, own: desc.Name, batch: desc.Capabilities.MaxPushBatch}
	if cr, ok := a.(adapter.Creator); ok {
		return &creatorInstance{instanceAdapter: w, cr: cr}
	}
	return w
}

// creatorInstance is an instanceAdapter whose adapter creates records.
type creatorInstance struct {
	*instanceAdapter
	cr adapter.Creator
}

var _ adapter.Creator = (*creatorInstance)(nil)

// CreatePolicy is the adapter's.
func (w *creatorInstance) CreatePolicy() adapter.CreatePolicy { return w.cr.CreatePolicy() }

// EstimateCreateCalls is the adapter's.
func (w *creatorInstance) EstimateCreateCalls(n int) int { return w.cr.EstimateCreateCalls(n) }

// Create creates through the adapter and renames the records it made or
// found.
func (w *creatorInstance) Create(ctx context.Context, req adapter.CreateRequest) ([]adapter.CreateResult, error) {
	res, err := w.cr.Create(ctx, req)
	for i := range res {
		w.toHost(&res[i].Ref)
	}
	return res, err
}

var (
	_ adapter.Adapter       = (*instanceAdapter)(nil)
	_ adapter.WritePacer    = (*instanceAdapter)(nil)
	_ adapter.QuotaReporter = (*instanceAdapter)(nil)
	_ adapter.CallEstimator = (*instanceAdapter)(nil)
	_ adapter.Eraser        = (*instanceAdapter)(nil)
)

// toHost renames a record reference the adapter made.
func (w *instanceAdapter) toHost(r *domain.ExternalRef) {
	if !r.IsZero() || r.Platform != "" {
		r.Platform = w.instance
	}
}

// toAdapter renames a record reference for the adapter.
func (w *instanceAdapter) toAdapter(r domain.ExternalRef) domain.ExternalRef {
	if !r.IsZero() || r.Platform != "" {
		r.Platform = w.own
	}
	return r
}

// change renames every reference inside a change, in place. The records
// a change points at were made by the adapter for this call alone.
func (w *instanceAdapter) change(ch *adapter.Change) {
	w.toHost(&ch.Ref)
	w.toHost(&ch.MergedInto)
	if c := ch.Contact; c != nil {
		w.toHost(&c.Ref)
		w.toHost(&c.CompanyRef)
		if c.Company != nil {
			w.toHost(&c.Company.Ref)
		}
	}
	if c := ch.Company; c != nil {
		w.toHost(&c.Ref)
	}
	if o := ch.Order; o != nil {
		w.toHost(&o.Ref)
		w.toHost(&o.CustomerRef)
	}
}

func (w *instanceAdapter) changes(chs []adapter.Change) {
	for i := range chs {
		w.change(&chs[i])
	}
}

// Describe answers with the adapter's descriptor.
func (w *instanceAdapter) Describe(ctx context.Context) (adapter.Descriptor, error) {
	return w.inner.Describe(ctx)
}

// ValidateConfig checks a section with the adapter.
func (w *instanceAdapter) ValidateConfig(ctx context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error) {
	return w.inner.ValidateConfig(ctx, cfg)
}

// Configure configures the adapter.
func (w *instanceAdapter) Configure(ctx context.Context, cfg adapter.Config) error {
	return w.inner.Configure(ctx, cfg)
}

// Pull pulls through the adapter and renames each page's records.
func (w *instanceAdapter) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	return w.inner.Pull(ctx, req, func(ctx context.Context, p adapter.Page) error {
		w.changes(p.Changes)
		for i := range p.Quarantined {
			w.toHost(&p.Quarantined[i].Ref)
		}
		return sink(ctx, p)
	})
}

// Fetch fetches through the adapter and renames the records.
func (w *instanceAdapter) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	chs, err := w.inner.Fetch(ctx, req)
	w.changes(chs)
	return chs, err
}

// EnsureTargets ensures targets through the adapter.
func (w *instanceAdapter) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	return w.inner.EnsureTargets(ctx, targets)
}

// Push hands the adapter its items under its own name.
func (w *instanceAdapter) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	items := make([]adapter.PushItem, len(req.Items))
	for i, it := range req.Items {
		it.Ref = w.toAdapter(it.Ref)
		items[i] = it
	}
	req.Items = items
	return w.inner.Push(ctx, req)
}

// VerifyWebhook verifies with the adapter (with this instance's secret,
// as it was configured) and renames the events' records.
func (w *instanceAdapter) VerifyWebhook(ctx context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	res, err := w.inner.VerifyWebhook(ctx, req)
	for i := range res.Events {
		ev := &res.Events[i]
		w.toHost(&ev.Ref)
		w.toHost(&ev.MergedInto)
		if ev.Record != nil {
			w.change(ev.Record)
		}
	}
	return res, err
}

// Close closes the adapter.
func (w *instanceAdapter) Close(ctx context.Context) error { return w.inner.Close(ctx) }

// WritePacing is the adapter's, or none.
func (w *instanceAdapter) WritePacing() adapter.WritePacing {
	if wp, ok := w.inner.(adapter.WritePacer); ok {
		return wp.WritePacing()
	}
	return adapter.WritePacing{}
}

// DailyQuota is the adapter's, or unknown.
func (w *instanceAdapter) DailyQuota() adapter.Quota {
	if qr, ok := w.inner.(adapter.QuotaReporter); ok {
		return qr.DailyQuota()
	}
	return adapter.Quota{Remaining: -1}
}

// EstimatePushCalls is the adapter's estimate, or the generic one.
func (w *instanceAdapter) EstimatePushCalls(req adapter.PushRequest) int {
	if est, ok := w.inner.(adapter.CallEstimator); ok {
		return est.EstimatePushCalls(req)
	}
	return pipeline.GenericPushCalls(req, w.batch)
}

// Erase erases through the adapter, under its own name.
func (w *instanceAdapter) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	er, ok := w.inner.(adapter.Eraser)
	if !ok {
		return "", fmt.Errorf("erasing on %s: the %s adapter cannot erase records; delete the record on the platform by hand: %w",
			w.instance, w.own, adapter.ErrUnsupported)
	}
	return er.Erase(ctx, w.toAdapter(ref))
}

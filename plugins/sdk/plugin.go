package sdk

import (
	"context"
	"fmt"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Plugin is what every adapter plugin implements: the four methods of a
// read-only adapter. Everything else is opt-in through the interfaces
// below, which Serve discovers with type assertions.
type Plugin interface {
	// Describe returns the name, version, capabilities and config schema.
	// It is called before Configure and must not need the configuration.
	Describe(ctx context.Context) (adapter.Descriptor, error)
	// Configure applies the plugin's config section (see DecodeConfig).
	// It may open connections. It is called again after a restart.
	Configure(ctx context.Context, cfg adapter.Config) error
	// Pull reads the changes of one object type from req.Cursor onwards
	// and hands them to sink page by page; see adapter.Adapter.Pull.
	Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error
	// Close releases connections. It is safe after a partial Configure.
	Close(ctx context.Context) error
}

// ConfigValidator is implemented by plugins that check their config
// section themselves (usually with DecodeConfig). Without it the host's
// check against ConfigSchema is all there is.
type ConfigValidator interface {
	ValidateConfig(ctx context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error)
}

// Fetcher is implemented by plugins that can read a few records by id,
// which the host does after a webhook announced them.
type Fetcher interface {
	Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error)
}

// Writer is implemented by plugins that write segment membership back to
// their platform. Announce the target kinds in Capabilities.Targets and
// the batch limit in Capabilities.MaxPushBatch.
type Writer interface {
	EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error)
	Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error)
}

// WebhookVerifier is implemented by plugins whose platform sends
// webhooks. Set Capabilities.Webhooks too.
type WebhookVerifier interface {
	VerifyWebhook(ctx context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error)
}

// The hints a plugin may give the host (protocol 1.1). A plugin that
// implements them is paced, reported and measured through the plugin
// boundary exactly as a built-in adapter is.
type (
	// WritePacer asks the host to pace live write-back; see
	// adapter.WritePacer. The host reads it after every Configure.
	WritePacer = adapter.WritePacer
	// QuotaReporter reports the platform's daily request budget; see
	// adapter.QuotaReporter. The host asks when it plans a write-back.
	QuotaReporter = adapter.QuotaReporter
	// Observable receives an observer for every HTTP request the plugin
	// sends; the host turns the reports into its request metrics. The
	// observer is given once, before Configure, and is always non-nil.
	Observable = adapter.Observable
)

// Eraser (protocol 1.2) deletes or anonymises one person's record for a
// privacy erasure; see adapter.Eraser. Return adapter.ErrRecordGone (in
// the error chain) for a record the platform no longer has. A plugin
// without it is recorded by the host as unable to erase, and the
// operator deletes the record by hand.
type Eraser = adapter.Eraser

// Unimplemented answers every opt-in method with adapter.ErrUnsupported
// (as a permanent error) and ValidateConfig with no diagnostics. Embed it
// so a plugin keeps compiling when a later SDK adds a method, and so only
// the methods it really offers need writing:
//
//	type Plugin struct {
//		sdk.Unimplemented
//		// ...
//	}
type Unimplemented struct{}

func unsupported(op string) error {
	return adapter.Permanent(fmt.Errorf("%s: %w", op, adapter.ErrUnsupported))
}

// ValidateConfig reports nothing: the host has checked the section against
// the plugin's ConfigSchema already.
func (Unimplemented) ValidateConfig(context.Context, adapter.Config) ([]adapter.Diagnostic, error) {
	return nil, nil
}

// Fetch is not supported.
func (Unimplemented) Fetch(context.Context, adapter.FetchRequest) ([]adapter.Change, error) {
	return nil, unsupported("fetch")
}

// EnsureTargets is not supported.
func (Unimplemented) EnsureTargets(context.Context, []adapter.Target) ([]adapter.EnsuredTarget, error) {
	return nil, unsupported("write-back")
}

// Push is not supported.
func (Unimplemented) Push(context.Context, adapter.PushRequest) ([]adapter.PushResult, error) {
	return nil, unsupported("write-back")
}

// VerifyWebhook is not supported.
func (Unimplemented) VerifyWebhook(context.Context, adapter.WebhookRequest) (adapter.WebhookResult, error) {
	return adapter.WebhookResult{}, unsupported("webhooks")
}

// Erase is not supported: the host records the platform as unable to
// erase.
func (Unimplemented) Erase(context.Context, domain.ExternalRef) (adapter.ErasureOutcome, error) {
	return "", unsupported("erasure")
}

// Adapt returns p as a full adapter.Adapter: the opt-in methods p has are
// called, the others answer as Unimplemented does. Serve uses it; tests
// use it to run a plugin through sdktest without a process. An
// adapter.Adapter given to Adapt is returned unchanged.
func Adapt(p Plugin) adapter.Adapter {
	if a, ok := p.(adapter.Adapter); ok {
		return a
	}
	return adapted{p}
}

// adapted fills in the methods a Plugin left out. Its hint methods are
// not forwarded: the wire server asks the plugin itself (Inner) for them.
type adapted struct{ Plugin }

// Inner returns the plugin, so the wire server finds its optional hints.
func (a adapted) Inner() any { return a.Plugin }

func (a adapted) ValidateConfig(ctx context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error) {
	if v, ok := a.Plugin.(ConfigValidator); ok {
		return v.ValidateConfig(ctx, cfg)
	}
	return Unimplemented{}.ValidateConfig(ctx, cfg)
}

func (a adapted) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if f, ok := a.Plugin.(Fetcher); ok {
		return f.Fetch(ctx, req)
	}
	return Unimplemented{}.Fetch(ctx, req)
}

func (a adapted) EnsureTargets(ctx context.Context, ts []adapter.Target) ([]adapter.EnsuredTarget, error) {
	if w, ok := a.Plugin.(Writer); ok {
		return w.EnsureTargets(ctx, ts)
	}
	return Unimplemented{}.EnsureTargets(ctx, ts)
}

func (a adapted) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	if w, ok := a.Plugin.(Writer); ok {
		return w.Push(ctx, req)
	}
	return Unimplemented{}.Push(ctx, req)
}

func (a adapted) VerifyWebhook(ctx context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	if v, ok := a.Plugin.(WebhookVerifier); ok {
		return v.VerifyWebhook(ctx, req)
	}
	return Unimplemented{}.VerifyWebhook(ctx, req)
}

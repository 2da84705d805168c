package app

import (
	"context"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// WatchWebhooks looks at the webhook subscriptions of every platform whose
// adapter can see them (adapter.WebhookWatcher) and records what it found
// in the health report. The adapters only read unless their configuration
// lets them manage webhooks. It returns what each platform reported; a
// platform whose look failed is left out (its health says why).
func (a *App) WatchWebhooks(ctx context.Context) map[string]adapter.WebhookHealth {
	out := map[string]adapter.WebhookHealth{}
	for _, name := range a.Platforms() {
		w, ok := a.Adapters[name].(adapter.WebhookWatcher)
		if !ok {
			continue
		}
		h, seen, err := w.WatchWebhooks(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil && a.Health != nil {
				a.Health.WebhooksUnseen(name, err)
			}
		case seen:
			out[name] = h
			if a.Health != nil {
				a.Health.WebhooksSeen(name, h)
			}
		}
	}
	return out
}

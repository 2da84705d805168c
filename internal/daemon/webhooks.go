package daemon

import (
	"context"
	"time"
)

// defaultWebhookCheck is how often the platforms' webhook subscriptions
// are looked at when Options.WebhookCheckInterval is not set.
const defaultWebhookCheck = 5 * time.Minute

// webhookWatchLoop looks at the platforms' webhook subscriptions at the
// start and every WebhookCheckInterval, so one a platform disabled after
// failed deliveries shows in the status (and, where the configuration
// allows, is re-enabled) instead of changes quietly arriving only with
// the scheduled pulls.
func (d *Daemon) webhookWatchLoop(ctx context.Context) {
	defer d.wg.Done()
	tick := time.NewTicker(d.opts.WebhookCheckInterval)
	defer tick.Stop()
	for {
		d.app.WatchWebhooks(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

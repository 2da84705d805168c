package app

import (
	"context"
	"errors"
	"time"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// observe feeds an operation's outcome on platform into the health
// tracker. Only what the platform answered counts: an error without an
// adapter kind (the store, a cancelled context) says nothing of the
// platform's health. worked says whether the operation reached the
// platform at all, so a drain with nothing queued is not a success.
func (a *App) observe(platform, op string, err error, worked bool) {
	if a.Health == nil {
		return
	}
	if err == nil {
		if worked {
			a.Health.Success(platform)
			a.Health.Done(platform, op)
		}
		return
	}
	var ae *adapter.Error
	if errors.As(err, &ae) && !errors.Is(err, context.Canceled) {
		a.Health.Failure(platform, op, err)
	}
}

// HealthReport is the connector's operational state: each platform's
// connection health and the depths of its queues.
type HealthReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Live is true when the report comes from a running process that has
	// been talking to the platforms; false when it was read from the
	// store alone (no state is known then).
	Live      bool            `json:"live"`
	Platforms []health.Status `json:"platforms"`
	Queues    QueueDepths     `json:"queues"`
}

// QueueDepths counts what waits in the store's queues.
type QueueDepths struct {
	// InboxPending counts stored webhook events not yet processed.
	InboxPending int `json:"inbox_pending"`
	// Outbox counts write-back items by status (pending, leased, done,
	// failed, …).
	Outbox map[string]int `json:"outbox"`
	// Quarantined counts records that failed to map, per platform (up to
	// the first 1000 per platform).
	Quarantined map[string]int `json:"quarantined"`
}

// PlatformHealth reports each platform's health as this process has seen
// it, and the queue depths read from the store; now stamps it. A queue
// that cannot be read is an error: the report is what an operator acts on.
func (a *App) PlatformHealth(ctx context.Context, now time.Time, live bool) (HealthReport, error) {
	r := HealthReport{GeneratedAt: now.UTC(), Live: live, Platforms: a.Health.Snapshot()}
	AdaptersOf(a.Config, r.Platforms)
	q, err := ReadQueues(ctx, a.Store, a.Platforms())
	if err != nil {
		return r, err
	}
	r.Queues = q
	return r, nil
}

// AdaptersOf fills in the adapter each status's instance runs.
func AdaptersOf(cfg *config.Loaded, sts []health.Status) {
	if cfg == nil {
		return
	}
	of := map[string]string{}
	for _, in := range cfg.Instances() {
		of[in.Name] = in.Adapter
	}
	for i := range sts {
		sts[i].Adapter = of[sts[i].Platform]
	}
}

// ReadQueues counts the store's queues for the named platforms.
func ReadQueues(ctx context.Context, st store.Store, platforms []string) (QueueDepths, error) {
	q := QueueDepths{Outbox: map[string]int{}, Quarantined: map[string]int{}}
	pending, err := st.InboxPending(ctx, 100000)
	if err != nil {
		return q, err
	}
	q.InboxPending = len(pending)
	stats, err := st.OutboxStats(ctx)
	if err != nil {
		return q, err
	}
	for k, v := range stats {
		q.Outbox[string(k)] = v
	}
	for _, p := range platforms {
		qs, err := st.Quarantined(ctx, p, 1000)
		if err != nil {
			return q, err
		}
		q.Quarantined[p] = len(qs)
	}
	return q, nil
}

// Quota returns a platform's daily request budget as its adapter knows
// it; false when the adapter does not report one.
func (a *App) Quota(platform string) (adapter.Quota, bool) {
	qr, ok := a.Adapters[platform].(adapter.QuotaReporter)
	if !ok {
		return adapter.Quota{}, false
	}
	return qr.DailyQuota(), true
}

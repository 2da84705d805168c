package daemon

import (
	"context"
	"time"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// drainLoop pushes one platform's outbox. Each platform has its own loop,
// so a slow or failing platform never holds up the others. With every
// set, it pushes one round at most that often, claiming the round only
// when it can be sent, so the round takes everything queued meanwhile;
// otherwise it drains rounds back to back.
func (d *Daemon) drainLoop(ctx context.Context, platform string, every time.Duration) {
	defer d.wg.Done()
	tick := time.NewTicker(d.opts.DrainInterval)
	defer tick.Stop()
	var last time.Time
	for {
		var st pipeline.DrainStats
		var err error
		if d.writebackHeld(ctx) {
			// Nothing is written until every platform was pulled once.
		} else if every > 0 {
			if !sleepUntil(ctx, last.Add(every)) {
				return
			}
			start := time.Now()
			st, err = d.app.DrainRound(ctx, platform)
			if st.Calls > 0 {
				last = start
			}
			d.drained(ctx, platform, st, err)
			if err == nil && st.Claimed > 0 {
				continue // more may be waiting
			}
		} else {
			st, err = d.app.Drain(ctx, platform)
			d.drained(ctx, platform, st, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.drainNudge[platform]:
		case <-tick.C:
		}
	}
}

// sleepUntil waits until t, reporting false if ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// pacing is how the platform's adapter wants live write-back paced; zero
// when it has no preference.
func (d *Daemon) pacing(platform string) adapter.WritePacing {
	if wp, ok := d.app.Adapters[platform].(adapter.WritePacer); ok {
		return wp.WritePacing()
	}
	return adapter.WritePacing{}
}

// drained records one drain's outcome in the metrics and the log.
func (d *Daemon) drained(ctx context.Context, platform string, st pipeline.DrainStats, err error) {
	if st.Calls > 0 {
		d.metrics.calls.WithLabelValues(platform, "push").Add(float64(st.Calls))
		d.metrics.pushed.WithLabelValues(platform, "ok").Add(float64(st.OK))
		d.metrics.pushed.WithLabelValues(platform, "retryable").Add(float64(st.Retryable))
		d.metrics.pushed.WithLabelValues(platform, "permanent").Add(float64(st.Permanent))
	}
	if err != nil && ctx.Err() == nil {
		kind := adapter.KindOf(err)
		d.metrics.errors.WithLabelValues(platform, "push", kind.String()).Inc()
		if ra := adapter.RetryAfterOf(err); ra > 0 {
			d.metrics.rateLimited.WithLabelValues(platform).Add(ra.Seconds())
		}
		d.log.Warn("write-back paused", "platform", platform, "kind", kind.String(), "err", err)
	}
}

// propertyLoop writes a paced platform's property changes as they come,
// one push at most every pace.PropertyEvery, and defers membership
// changes to membershipLoop.
func (d *Daemon) propertyLoop(ctx context.Context, platform string, pace adapter.WritePacing) {
	defer d.wg.Done()
	tick := time.NewTicker(d.opts.DrainInterval)
	defer tick.Stop()
	var last time.Time
	for {
		if !sleepUntil(ctx, last.Add(pace.PropertyEvery)) {
			return
		}
		if d.writebackHeld(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-d.drainNudge[platform]:
			case <-tick.C:
			}
			continue
		}
		start := time.Now()
		st, err := d.app.DrainProperties(ctx, platform, pace.MembershipEvery)
		d.drained(ctx, platform, st, err)
		if st.Calls > 0 {
			last = start
		}
		if err == nil && st.Claimed > 0 {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-d.drainNudge[platform]:
		case <-tick.C:
		}
	}
}

// membershipLoop writes a paced platform's deferred membership changes
// on multiples of pace.MembershipEvery, where DrainProperties made them
// due, so each list's changes of many records share one call. A round
// that made n calls skips the boundaries closer than n ×
// pace.MembershipCallEvery, keeping list calls to their budget share.
func (d *Daemon) membershipLoop(ctx context.Context, platform string, pace adapter.WritePacing) {
	defer d.wg.Done()
	var earliest time.Time
	for {
		now := time.Now()
		next := now.Truncate(pace.MembershipEvery).Add(pace.MembershipEvery)
		if next.Before(earliest) {
			next = earliest.Truncate(pace.MembershipEvery).Add(pace.MembershipEvery)
		}
		if !sleepUntil(ctx, next) {
			return
		}
		if d.writebackHeld(ctx) {
			continue
		}
		start := time.Now()
		st, err := d.app.DrainMemberships(ctx, platform)
		d.drained(ctx, platform, st, err)
		earliest = start.Add(time.Duration(st.Requests) * pace.MembershipCallEvery)
	}
}

package daemon

import (
	"context"
	"time"

	"github.com/segconn/connector/internal/alert"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/store"
)

// sample is one look at the counters the alert rules compare over time.
type sample struct {
	at                 time.Time
	done, failed, dead int
	sizes              map[string]int // nil when not counted this time
}

// alertLoop checks the alert rules every interval and sends what started
// or cleared. Write-back failures and dead letters are compared with a
// look about an hour old, segment sizes with one about a day old
// (recounted at most every ten minutes: counting reads every membership).
func (d *Daemon) alertLoop(ctx context.Context, mon *alert.Monitor, every time.Duration) {
	defer d.wg.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	var history []sample
	q := outbound.NewStoreQueue(d.app.Store)
	for {
		now := d.opts.Now()
		s := sample{at: now}
		if stats, err := d.app.Store.OutboxStats(ctx); err == nil {
			s.done, s.failed = stats[store.OutboxDone], stats[store.OutboxFailed]
		}
		if counts, err := q.Counts(ctx); err == nil {
			for _, c := range counts {
				if c.Status == outbound.StatusDead {
					s.dead += c.N
				}
			}
		}
		if len(history) == 0 || now.Sub(lastSized(history)) >= 10*time.Minute {
			if sizes, err := d.app.SegmentSizes(ctx); err == nil {
				s.sizes = sizes
			}
		}
		history = append(history, s)
		history = prune(history, now.Add(-25*time.Hour))
		snap := d.snapshot(now, history)
		if err := mon.Observe(ctx, snap); err != nil && ctx.Err() == nil {
			d.log.Warn("alerts: some could not be sent; retrying on the next check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// snapshot turns the app's health and the samples into what the rules read.
func (d *Daemon) snapshot(now time.Time, h []sample) alert.Snapshot {
	snap := alert.Snapshot{At: now}
	for _, p := range d.app.Health.Snapshot() {
		snap.Platforms = append(snap.Platforms, alert.Platform{Name: p.Platform, State: p.State, Since: p.Since, LastError: p.LastError})
	}
	cur := h[len(h)-1]
	hourAgo := oldestSince(h, now.Add(-time.Hour))
	snap.WriteBack = []alert.WriteBack{{Platform: "all platforms", Done: cur.done - hourAgo.done, Failed: cur.failed - hourAgo.failed}}
	snap.DeadLetters, snap.DeadLettersBefore = cur.dead, hourAgo.dead
	var latest, dayAgo *sample
	for i := range h {
		if h[i].sizes == nil {
			continue
		}
		if dayAgo == nil && !h[i].at.Before(now.Add(-24*time.Hour)) {
			dayAgo = &h[i]
		}
		latest = &h[i]
	}
	if latest != nil && dayAgo != nil && latest != dayAgo {
		for name, n := range latest.sizes {
			snap.Segments = append(snap.Segments, alert.Segment{Name: name, Size: n, Before: dayAgo.sizes[name], Period: latest.at.Sub(dayAgo.at)})
		}
	}
	return snap
}

func lastSized(h []sample) time.Time {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].sizes != nil {
			return h[i].at
		}
	}
	return time.Time{}
}

func oldestSince(h []sample, t time.Time) sample {
	for _, s := range h {
		if !s.at.Before(t) {
			return s
		}
	}
	return h[len(h)-1]
}

func prune(h []sample, before time.Time) []sample {
	i := 0
	for i < len(h)-1 && h[i].at.Before(before) {
		i++
	}
	return h[i:]
}

// startAlerts starts the alert loop when a destination is configured.
func (d *Daemon) startAlerts(ctx context.Context) {
	c := d.app.Config.Alerts
	if !c.Enabled() {
		return
	}
	every := c.Interval
	if d.opts.AlertInterval > 0 {
		every = d.opts.AlertInterval
	}
	rules, ns, err := alert.FromConfig(c)
	if err != nil {
		d.log.Error("alerts are off", "err", err)
		return
	}
	mon := alert.NewMonitor(rules, d.log.With("component", "alerts"), ns...)
	d.wg.Add(1)
	go d.alertLoop(ctx, mon, every)
}

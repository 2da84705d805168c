package daemon

import (
	"context"
	"slices"
	"sync"
)

// firstPullGate holds write-back until every platform's first pull has
// run to its end. On a first start, segments computed while some
// platforms are still pulling see only part of people's data; their
// write-back waits in the outbox, where newer states replace older ones,
// so what is finally written is computed from everything. Once open, the
// gate stays open for the life of the process.
//
// A platform whose pull failed does not hold the others: one that is down
// from the start would otherwise stop write-back everywhere.
type firstPullGate struct {
	mu      sync.Mutex
	open    bool
	failed  map[string]string // platform → why its pull failed, this run
	waiting []string          // platforms still on their first pull, when last asked
	told    bool              // the hold was logged
}

// writebackHeld reports whether write-back must still wait, logging when
// the hold begins and ends.
func (d *Daemon) writebackHeld(ctx context.Context) bool {
	g := &d.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return false
	}
	waiting, err := d.app.AwaitingFirstPull(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("checking whether every platform was pulled; write-back waits", "err", err)
		}
		return true
	}
	var skipped []string
	waiting = slices.DeleteFunc(waiting, func(p string) bool {
		_, failed := g.failed[p]
		if failed {
			skipped = append(skipped, p)
		}
		return failed
	})
	g.waiting = waiting
	if len(waiting) == 0 {
		g.open = true
		switch {
		case len(skipped) > 0:
			d.log.Warn("write-back starts although the first pull of some platforms failed; their data will change segments later",
				"failed", skipped)
		case g.told:
			d.log.Info("every platform's first pull has finished; write-back starts")
		}
		return false
	}
	if !g.told {
		g.told = true
		d.log.Info("write-back held until the first pull of every platform has finished", "waiting_for", waiting)
	}
	return true
}

// WritebackHeld lists the platforms whose first pull write-back is
// waiting for; empty once write-back runs.
func (d *Daemon) WritebackHeld() []string {
	d.gate.mu.Lock()
	defer d.gate.mu.Unlock()
	if d.gate.open {
		return nil
	}
	return append([]string(nil), d.gate.waiting...)
}

// pullFailed records that a pull of platform failed, so the platform no
// longer holds write-back (see firstPullGate).
func (d *Daemon) pullFailed(platform string, err error) {
	d.gate.mu.Lock()
	defer d.gate.mu.Unlock()
	if d.gate.failed == nil {
		d.gate.failed = map[string]string{}
	}
	d.gate.failed[platform] = err.Error()
}

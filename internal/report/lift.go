package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/segconn/connector/core/lift"
	"github.com/segconn/connector/internal/store"
)

// LiftSource is what the lift report reads.
type LiftSource interface {
	MembershipHistorySince(ctx context.Context, after int64, limit int) ([]store.MembershipEvent, error)
	EachProfile(ctx context.Context, fn func(store.ProfileOrders) error) error
}

// LiftOptions configure Lift.
type LiftOptions struct {
	AsOf   time.Time     // required: windows must have ended by then
	Window time.Duration // after entry; default 30 days
	// Segments limits the report; empty means every segment whose history
	// has holdout entries.
	Segments []string
	// Currency of the revenue figures; empty means the most common
	// currency of the orders involved. Orders in other currencies are
	// left out and counted, never converted or summed.
	Currency string
	Lift     lift.Options
}

// SegmentLift is one segment's members against its holdout.
type SegmentLift struct {
	Segment    string      `json:"segment"`
	WindowDays int         `json:"window_days"`
	Currency   string      `json:"currency"`
	Pending    int         `json:"pending"`         // entered, window not over yet
	Excluded   int         `json:"excluded_orders"` // orders in another currency
	Result     lift.Result `json:"result"`
}

// Lift measures every segment with a holdout. A person counts from their
// first entry into the segment in the history; their orders are the
// purchases (net of refunds) placed in the window after it.
func Lift(ctx context.Context, src LiftSource, opts LiftOptions) ([]SegmentLift, error) {
	if opts.AsOf.IsZero() {
		return nil, fmt.Errorf("lift report: as-of time is required")
	}
	if opts.Window <= 0 {
		opts.Window = 30 * 24 * time.Hour
	}
	entries := map[string][]lift.Entry{}
	hasHoldout := map[string]bool{}
	for after := int64(0); ; {
		page, err := src.MembershipHistorySince(ctx, after, 5000)
		if err != nil {
			return nil, fmt.Errorf("lift report: reading the membership history: %w", err)
		}
		for _, e := range page {
			after = e.Seq
			if !e.Entered {
				continue
			}
			entries[e.Segment] = append(entries[e.Segment], lift.Entry{Person: e.ProfileID, At: e.At, Control: e.Control})
			if e.Control {
				hasHoldout[e.Segment] = true
			}
		}
		if len(page) < 5000 {
			break
		}
	}
	segments := opts.Segments
	if len(segments) == 0 {
		for s := range hasHoldout {
			segments = append(segments, s)
		}
	}
	slices.Sort(segments)
	people := map[string]bool{}
	for _, s := range segments {
		for _, e := range entries[s] {
			people[e.Person] = true
		}
	}
	var orders []lift.Order
	currencies := map[string]int{}
	type raw struct {
		person, currency string
		at               time.Time
		net              int64
	}
	var all []raw
	err := src.EachProfile(ctx, func(po store.ProfileOrders) error {
		if !people[po.Profile.ID] {
			return nil
		}
		for _, o := range po.Orders {
			if !o.Status.IsPurchase() {
				continue
			}
			n := o.Net()
			all = append(all, raw{person: po.Profile.ID, currency: n.Currency, at: o.CreatedAt, net: n.Amount})
			currencies[n.Currency]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lift report: reading orders: %w", err)
	}
	currency := opts.Currency
	if currency == "" {
		best := 0
		for c, n := range currencies {
			if n > best || (n == best && cmp.Less(c, currency)) {
				currency, best = c, n
			}
		}
	}
	excluded := map[string]int{}
	for _, r := range all {
		if r.currency != currency {
			excluded[r.person]++
			continue
		}
		orders = append(orders, lift.Order{Person: r.person, At: r.at, Revenue: r.net})
	}
	out := make([]SegmentLift, 0, len(segments))
	for _, s := range segments {
		c := lift.Outcomes(entries[s], orders, opts.Window, opts.AsOf)
		ex, seen := 0, map[string]bool{}
		for _, e := range entries[s] {
			if !seen[e.Person] {
				seen[e.Person] = true
				ex += excluded[e.Person]
			}
		}
		out = append(out, SegmentLift{Segment: s, WindowDays: int(opts.Window / (24 * time.Hour)), Currency: currency,
			Pending: c.Pending, Excluded: ex, Result: lift.Measure(c.Outcomes, opts.Lift)})
	}
	return out, nil
}

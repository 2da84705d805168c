package daemon

import (
	"context"
	"fmt"

	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pipeline"
)

// ApplyPlan records a plan, queues its write-back (marking the webhook
// events inboxDone processed with it) and publishes its membership
// changes to the outbound webhooks.
func (e *Env) ApplyPlan(ctx context.Context, plan *pipeline.Plan, inboxDone ...int64) error {
	if err := e.Pipeline.Apply(ctx, plan, inboxDone...); err != nil {
		return err
	}
	if e.Outbound == nil || len(plan.Memberships) == 0 {
		return nil
	}
	kinds := map[string]string{}
	if res := e.Pipeline.LastResult(); res != nil {
		for _, s := range res.Segments {
			kinds[s.Name] = string(s.Kind)
		}
	}
	events := make([]outbound.Event, 0, len(plan.Memberships))
	for _, m := range plan.Memberships {
		typ := outbound.EventEntered
		if !m.Entered {
			typ = outbound.EventLeft
		}
		events = append(events, outbound.Event{Type: typ, OccurredAt: m.At, Segment: m.Segment,
			SegmentKind: kinds[m.Segment], ProfileID: m.ProfileID, Reason: m.Reason})
	}
	if _, err := e.Outbound.Publish(ctx, events); err != nil {
		return fmt.Errorf("publishing %d segment events: %w", len(events), err)
	}
	return nil
}

package pipeline

import (
	"context"
	"fmt"
	"strings"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// dropEchoes sets aside the events that only announce a value the
// connector itself wrote: a property change whose property is one of the
// platform's write-back properties and whose new value is the one the
// connector owns on that record. Every write-back comes back this way
// (HubSpot sends a propertyChange for each property written); fetching
// and rescoring the record would find nothing new. Any other event is
// kept, and so is an echo that arrives before its write was recorded.
func (p *Pipeline) dropEchoes(ctx context.Context, platform string, events []adapter.WebhookEvent) ([]adapter.WebhookEvent, error) {
	var refs []domain.ExternalRef
	for _, ev := range events {
		if ev.Property != "" && ev.Record == nil && ev.Kind == adapter.ChangeUpsert {
			refs = append(refs, ev.Ref)
		}
	}
	if len(refs) == 0 {
		return events, nil
	}
	// Platform property name → target key, for the properties we write.
	targetOf := map[string]string{}
	for key, id := range p.TargetIDs(platform) {
		if strings.HasPrefix(key, "prop:") {
			targetOf[id] = key
		}
	}
	if len(targetOf) == 0 {
		return events, nil
	}
	owned, err := p.store.OwnershipMany(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("checking %s webhook events for echoes: %w", platform, err)
	}
	kept := events[:0:0]
	echoes := 0
	for _, ev := range events {
		if key, ours := targetOf[ev.Property]; ours && ev.Property != "" && ev.Record == nil && ev.Kind == adapter.ChangeUpsert {
			mine := false
			for _, o := range owned[ev.Ref.Key()] {
				mine = mine || (o.Target == key && o.Value == ev.Value)
			}
			if mine {
				echoes++
				continue
			}
		}
		kept = append(kept, ev)
	}
	if echoes > 0 {
		p.log.DebugContext(ctx, "webhook events echoing the connector's own writes", "platform", platform, "events", echoes)
	}
	return kept, nil
}

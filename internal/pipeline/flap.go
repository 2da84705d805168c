package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segconn/connector/internal/store"
)

// The flap guard: a record written back flapLimit times within
// flapWindow has its next write-back held for flapHold. Its segments keep
// changing (platforms that disagree about a field, a value edited back and
// forth); rather than writing every swing, the outbox keeps the newest
// state, replacing the held item in place, and writes it once the hold
// ends.
const (
	flapLimit  = 4
	flapWindow = time.Hour
	flapHold   = time.Hour
)

// holdFlapping delays the items of records that were written back
// flapLimit times in the last flapWindow, and returns how many it held.
func (p *Pipeline) holdFlapping(ctx context.Context, items []store.OutboxItem) (int, error) {
	type acct struct{ platform, account string }
	keys := map[acct][]string{}
	for _, it := range items {
		a := acct{it.Platform, it.Account}
		keys[a] = append(keys[a], it.Key)
	}
	now := p.now()
	recent := map[acct]map[string]int{}
	for a, ks := range keys {
		n, err := p.store.OutboxRecentWrites(ctx, a.platform, a.account, ks, now.Add(-flapWindow))
		if err != nil {
			return 0, fmt.Errorf("checking %s records for flapping segments: %w", a.platform, err)
		}
		recent[a] = n
	}
	held := 0
	var sample []string
	for i := range items {
		it := &items[i]
		if recent[acct{it.Platform, it.Account}][it.Key] >= flapLimit {
			it.NotBefore = now.Add(flapHold)
			held++
			if len(sample) < 5 {
				sample = append(sample, it.Key)
			}
		}
	}
	if held > 0 {
		p.log.WarnContext(ctx, "holding write-back of records whose segments keep changing", "records", held,
			"writes_within", flapWindow, "limit", flapLimit, "held_for", flapHold, "e.g.", sample)
	}
	return held, nil
}

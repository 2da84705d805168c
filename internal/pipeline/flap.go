package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/segconn/connector/internal/store"
)

// The flap guard. A record whose desired state keeps swinging back to a
// state written before (A, B, A, B: platforms that disagree about a field,
// a value edited back and forth) is written on its first return, and its
// next return within flapWindow is held for flapHold: the outbox keeps the
// newest state, replacing the held item in place, and writes it once the
// hold ends. States that move on (new orders making a customer repeat,
// then loyal) never return and are never held.
const (
	flapReturns = 2
	flapWindow  = time.Hour
	flapHold    = time.Hour
)

// holdFlapping delays the items of records that are flapping and returns
// how many it held.
func (p *Pipeline) holdFlapping(ctx context.Context, items []store.OutboxItem) (int, error) {
	type acct struct{ platform, account string }
	keys := map[acct][]string{}
	for _, it := range items {
		a := acct{it.Platform, it.Account}
		keys[a] = append(keys[a], it.Key)
	}
	now := p.now()
	recent := map[acct]map[string][]store.OutboxItem{}
	for a, ks := range keys {
		got, err := p.store.OutboxRecentWrites(ctx, a.platform, a.account, ks, now.Add(-flapWindow))
		if err != nil {
			return 0, fmt.Errorf("checking %s records for flapping segments: %w", a.platform, err)
		}
		recent[a] = got
	}
	held := 0
	var sample []string
	for i := range items {
		it := &items[i]
		past := recent[acct{it.Platform, it.Account}][it.Key]
		if len(past) < 2 {
			continue
		}
		seq := make([]string, 0, len(past)+1)
		for _, ob := range past {
			seq = append(seq, wantOf(ob.Payload))
		}
		seq = append(seq, wantOf(it.Payload))
		if returns(seq) >= flapReturns {
			it.NotBefore = now.Add(flapHold)
			held++
			if len(sample) < 5 {
				sample = append(sample, it.Key)
			}
		}
	}
	if held > 0 {
		p.log.WarnContext(ctx, "holding write-back of records whose segments keep swinging back and forth", "records", held,
			"window", flapWindow, "held_for", flapHold, "e.g.", sample)
	}
	return held, nil
}

// wantOf is the desired state an outbox payload carries, as comparable
// text; "" when it carries none.
func wantOf(payload []byte) string {
	var pay outboxPayload
	if json.Unmarshal(payload, &pay) != nil || pay.Want == nil {
		return ""
	}
	b, err := json.Marshal(pay.Want) // map keys sorted: equal states, equal text
	if err != nil {
		return ""
	}
	return string(b)
}

// returns counts the states in seq that go back to a state seen before
// the one just preceding them.
func returns(seq []string) int {
	n := 0
	for i := 2; i < len(seq); i++ {
		if seq[i] == "" || seq[i] == seq[i-1] {
			continue
		}
		for j := 0; j < i-1; j++ {
			if seq[j] == seq[i] {
				n++
				break
			}
		}
	}
	return n
}

package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
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

// flapBatch is how many records of one account flapping looks up at a
// time.
const flapBatch = 500

// flapping finds the records of the plan's write-back that are flapping,
// whose items Apply holds, and returns them with the number of items
// held. It reads the plan's records a batch at a time, and looks at the
// desired state only of those with recent writes to compare with.
func (p *Pipeline) flapping(ctx context.Context, plan *Plan, now time.Time) (map[recordKey]bool, int, error) {
	type acct struct{ platform, account string }
	held := map[recordKey]bool{}
	n := 0
	var sample []string
	check := func(a acct, batch []queued) error {
		keys := make([]string, len(batch))
		for i, q := range batch {
			keys[i] = q.key()
		}
		recent, err := p.store.OutboxRecentWrites(ctx, a.platform, a.account, keys, now.Add(-flapWindow))
		if err != nil {
			return fmt.Errorf("checking %s records for flapping segments: %w", a.platform, err)
		}
		for i, q := range batch {
			past := recent[keys[i]]
			if len(past) < 2 {
				continue
			}
			seq := make([]string, 0, len(past)+1)
			for _, ob := range past {
				seq = append(seq, wantOf(ob.Payload))
			}
			seq = append(seq, wantText(q.payload()))
			if returns(seq) >= flapReturns {
				held[recordKey{a.platform, a.account, keys[i]}] = true
				n++
				if len(sample) < 5 {
					sample = append(sample, keys[i])
				}
			}
		}
		return nil
	}
	batches := map[acct][]queued{}
	for q := range p.queue(plan) {
		a := acct{q.pp.Platform, q.account}
		batches[a] = append(batches[a], q)
		if len(batches[a]) == flapBatch {
			if err := check(a, batches[a]); err != nil {
				return nil, 0, err
			}
			batches[a] = batches[a][:0]
		}
	}
	for a, batch := range batches {
		if len(batch) > 0 {
			if err := check(a, batch); err != nil {
				return nil, 0, err
			}
		}
	}
	if n > 0 {
		p.log.WarnContext(ctx, "holding write-back of records whose segments keep swinging back and forth", "records", n,
			"window", flapWindow, "held_for", flapHold, "e.g.", sample)
	}
	return held, n, nil
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

// wantText is wantOf the payload's encoding, encoding only its desired
// state (through wantOf, as encoding once more can change the text:
// invalid UTF-8 becomes an escape, then the character).
func wantText(pay outboxPayload) string {
	if pay.Want == nil {
		return ""
	}
	b, err := json.Marshal(outboxPayload{Want: pay.Want})
	if err != nil {
		return ""
	}
	return wantOf(b)
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

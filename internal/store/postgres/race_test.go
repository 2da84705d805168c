package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// TestDeferRacesANewerItem defers leased write-back items while another
// writer enqueues a newer item for the same records. Under READ
// COMMITTED the deferral's "no newer item" check can miss a row inserted
// between its check and its write, and the write then broke the unique
// pending key ("duplicate key value violates unique constraint
// outbox_pending_key"), leaving items leased until their lease ran out.
// The store runs such a transaction again, and its check then sees the
// newer item.
func TestDeferRacesANewerItem(t *testing.T) {
	ctx := context.Background()
	st := open(t, store.Options{})
	rounds := 60
	if testing.Short() {
		rounds = 20
	}
	for r := range rounds {
		var items []store.OutboxItem
		for k := range 20 {
			items = append(items, store.OutboxItem{Platform: "hubspot", Key: fmt.Sprintf("r%d-k%d", r, k), Payload: []byte(`{"v":1}`)})
		}
		if err := st.OutboxEnqueue(ctx, items); err != nil {
			t.Fatal(err)
		}
		leased, err := st.OutboxClaim(ctx, "hubspot", "", 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, len(leased))
		for i, it := range leased {
			ids[i] = it.ID
		}
		newer := make([]store.OutboxItem, len(items))
		for i, it := range items {
			it.Payload = []byte(`{"v":2}`)
			newer[i] = it
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() { defer wg.Done(); errs[0] = st.OutboxDefer(ctx, ids, time.Now().Add(time.Second)) }()
		go func() { defer wg.Done(); errs[1] = st.OutboxEnqueue(ctx, newer) }()
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
		}
		stats, err := st.OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if stats[store.OutboxLeased] != 0 {
			t.Fatalf("round %d: %d items still leased", r, stats[store.OutboxLeased])
		}
		// Drain the round so the next starts clean.
		left, err := st.OutboxClaim(ctx, "hubspot", "", 1000, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		done := make([]int64, len(left))
		for i, it := range left {
			done[i] = it.ID
		}
		if err := st.OutboxDone(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
}

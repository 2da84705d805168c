package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// testOutboxRequeue: parked items are listed newest failure first, and
// requeueing makes a record's newest one due again while older ones of
// the same record, and one whose record has a newer pending item, are
// superseded (settled by the newer write) rather than sent over it.
func testOutboxRequeue(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	ob := hubspotOutbox{t, s}
	park := func(key, payload string) int64 {
		t.Helper()
		ob.enq(key, payload)
		c := ob.claim(store.LaneAny)
		if len(c) != 1 {
			t.Fatalf("claimed %d items, want 1", len(c))
		}
		if err := s.OutboxFailed(ctx, c[0].ID, "refused: "+payload, true, time.Time{}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		return c[0].ID
	}
	a1 := park("a", "a-1")
	a2 := park("a", "a-2")
	b := park("b", "b-1")
	c := park("c", "c-1")
	ob.enq("c", "c-2") // a newer state of c waits already

	parked, err := s.OutboxParked(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 4 || parked[0].ID != c || parked[3].ID != a1 || parked[0].LastError != "refused: c-1" || parked[0].UpdatedAt.IsZero() {
		t.Fatalf("parked = %+v; want c, b, a-2, a-1 with their errors and times", parked)
	}
	if only, _ := s.OutboxParked(ctx, "salesforce", 0); len(only) != 0 {
		t.Fatalf("salesforce has no parked items, listed %d", len(only))
	}

	n, err := s.OutboxRequeue(ctx, []int64{a1, a2, b, c, 999})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("requeued %d, want 2 (a-2 and b)", n)
	}
	if left, _ := s.OutboxParked(ctx, "", 0); len(left) != 0 {
		t.Fatalf("still parked after requeue: %+v", left)
	}
	got := map[string]string{}
	for _, it := range ob.claim(store.LaneAny) {
		got[it.Key] = string(it.Payload)
		if it.Key != "c" && it.Attempts != 1 {
			t.Errorf("%s: attempts %d after requeue and one claim, want 1", it.Key, it.Attempts)
		}
	}
	if len(got) != 3 || got["a"] != "a-2" || got["b"] != "b-1" || got["c"] != "c-2" {
		t.Fatalf("claimed after requeue %v; want a-2, b-1 and the newer c-2", got)
	}
	priors, err := s.OutboxPriors(ctx, "hubspot", "", []string{"a", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(priors["a"]) != 1 || string(priors["a"][0].Payload) != "a-1" || len(priors["c"]) != 1 || string(priors["c"][0].Payload) != "c-1" {
		t.Fatalf("priors %+v; want a-1 and c-1 superseded", priors)
	}
}

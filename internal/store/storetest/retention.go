package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// testPrune: pruning deletes done write-back items and processed webhook
// events older than the window, and keeps recent done items, failed and
// unsettled items, unprocessed events and ownership.
func testPrune(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	ob := hubspotOutbox{t, s}
	finish := func(key string, permanent bool) {
		t.Helper()
		ob.enq(key, "state of "+key)
		c := ob.claim(store.LaneAny)
		if len(c) != 1 {
			t.Fatalf("claimed %d items, want 1", len(c))
		}
		var err error
		if permanent {
			err = s.OutboxFailed(ctx, c[0].ID, "refused", true, time.Time{})
		} else {
			err = s.OutboxDone(ctx, []int64{c[0].ID})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	event := func(id string, processed bool) {
		t.Helper()
		n, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "hubspot", EventID: id, Payload: []byte("{}")})
		if err != nil {
			t.Fatal(err)
		}
		if processed {
			if err := s.InboxDone(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	ref := domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: "old-1"}
	if err := s.RecordOwnership(ctx, []store.Ownership{{Ref: ref, Target: "list:vip"}}); err != nil {
		t.Fatal(err)
	}
	finish("old-1", false)
	finish("old-2", false)
	finish("old-3", true)
	event("old-done", true)
	event("old-open", false)
	if err := s.OutboxEnqueue(ctx, []store.OutboxItem{{Platform: "hubspot", Key: "old-pending", Payload: []byte("waits"), NotBefore: clock.Now().Add(30 * 24 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(8 * 24 * time.Hour)
	finish("new-1", false)
	event("new-done", true)

	week := clock.Now().Add(-7 * 24 * time.Hour)
	got, err := s.Prune(ctx, store.Prune{OutboxBefore: week, InboxBefore: week})
	if err != nil {
		t.Fatal(err)
	}
	if got.Outbox != 2 || got.Inbox != 1 {
		t.Fatalf("pruned %+v; want the 2 old done items and the 1 old processed event", got)
	}
	stats, _ := s.OutboxStats(ctx)
	if stats[store.OutboxDone] != 1 || stats[store.OutboxFailed] != 1 || stats[store.OutboxPending] != 1 {
		t.Fatalf("left %v; want the recent done item, the failed one and the pending one", stats)
	}
	if pending, _ := s.InboxPending(ctx, 10); len(pending) != 1 || pending[0].EventID != "old-open" {
		t.Fatalf("unprocessed events after pruning: %+v; want old-open", pending)
	}
	if own, _ := s.Ownership(ctx, ref); len(own) != 1 {
		t.Fatalf("ownership after pruning: %+v; want it kept", own)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Prune(ctx, store.Prune{}); err != nil || again != (store.Pruned{}) {
		t.Fatalf("a prune with no cutoffs deleted %+v (%v)", again, err)
	}
}

// testPruneHistoryAndQuarantine: pruning deletes membership history
// entries older than the window but only up to the given number (the
// outbound relay's place), and quarantined records older than their
// window; current memberships and newer entries and records stay.
func testPruneHistoryAndQuarantine(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	change := func(profile, seg string, entered bool) {
		t.Helper()
		if err := s.ApplyMemberships(ctx, []store.MembershipChange{{ProfileID: profile, Segment: seg, Entered: entered, At: clock.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	quarantine := func(id string) {
		t.Helper()
		rej := []adapter.Rejected{{Ref: domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: id}, Reason: "bad email", Raw: []byte(`{"email":"x"}`)}}
		if _, err := s.ApplyPage(ctx, "hubspot", "", domain.ObjectContact, nil, rej, "c-"+id); err != nil {
			t.Fatal(err)
		}
	}
	change("p1", "rfm:champions", true)
	change("p2", "rfm:champions", true)
	change("p1", "rfm:champions", false)
	quarantine("q-old")
	relayed, err := s.MembershipHistoryHead(ctx) // the relay published these three
	if err != nil {
		t.Fatal(err)
	}
	change("p3", "rfm:champions", true) // old, but not published yet
	clock.Advance(40 * 24 * time.Hour)
	change("p4", "rfm:loyal", true)
	quarantine("q-new")

	month := clock.Now().Add(-30 * 24 * time.Hour)
	got, err := s.Prune(ctx, store.Prune{HistoryBefore: month, HistoryUpTo: relayed, QuarantineBefore: month})
	if err != nil {
		t.Fatal(err)
	}
	if got.History != 3 || got.Quarantine != 1 || got.Outbox != 0 || got.Inbox != 0 {
		t.Fatalf("pruned %+v; want the 3 old published history entries and the 1 old quarantined record", got)
	}
	left, err := s.MembershipHistorySince(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, e := range left {
		who = append(who, e.ProfileID)
	}
	if len(who) != 2 || who[0] != "p3" || who[1] != "p4" {
		t.Fatalf("history left: %v; want p3 (not yet published) and p4 (recent)", who)
	}
	for _, p := range []string{"p2", "p3", "p4"} {
		if ms, _ := s.Memberships(ctx, p); len(ms) != 1 {
			t.Fatalf("%s's current memberships after pruning: %+v; want them kept", p, ms)
		}
	}
	q, err := s.Quarantined(ctx, "hubspot", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].Ref.ID != "q-new" {
		t.Fatalf("quarantine left: %+v; want only q-new", q)
	}
	// Without a relay place nothing of the history goes.
	if got, err := s.Prune(ctx, store.Prune{HistoryBefore: clock.Now().Add(time.Hour)}); err != nil || got.History != 0 {
		t.Fatalf("a history prune up to entry 0 deleted %d (%v)", got.History, err)
	}
}

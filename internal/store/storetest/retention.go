package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/store"
)

// testPurge: retention deletes processed webhook events, written
// write-back items, relayed history and quarantined records older than
// their cut-offs, and keeps pending work, newer rows and history the
// relay has not reached.
func testPurge(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	old := clock.Now()
	// Old: two events (one processed), two outbox items (one written),
	// two history rows, a quarantined record.
	for _, ev := range []string{"old-done", "old-pending"} {
		if _, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "hubspot", EventID: ev, ReceivedAt: old, Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.InboxClaim(ctx, 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("InboxClaim = %v, %v", got, err)
	}
	if err := s.InboxDone(ctx, got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.OutboxEnqueue(ctx, []store.OutboxItem{{Platform: "hubspot", Key: "a", Payload: []byte(`{}`)}, {Platform: "hubspot", Key: "b", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	items, err := s.OutboxClaim(ctx, "hubspot", "", 1, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("OutboxClaim = %v, %v", items, err)
	}
	if err := s.OutboxDone(ctx, []int64{items[0].ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyMemberships(ctx, []store.MembershipChange{
		{ProfileID: "p1", Segment: "vip", Entered: true, At: old},
		{ProfileID: "p2", Segment: "vip", Entered: true, At: old},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPage(ctx, "hubspot", "", "contact", nil, []adapter.Rejected{{Ref: domain.ExternalRef{Platform: "hubspot", ObjectType: "contact", ID: "9"}, Reason: "bad", Raw: []byte(`{}`)}}, "c"); err != nil {
		t.Fatal(err)
	}
	relayed, err := s.MembershipHistoryHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Newer rows and one history row the relay has not published.
	clock.Advance(10 * 24 * time.Hour)
	if _, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "hubspot", EventID: "new", ReceivedAt: clock.Now(), Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	cut := clock.Now().Add(-24 * time.Hour)
	res, err := s.Purge(ctx, store.PurgeRequest{InboxBefore: cut, OutboxBefore: cut, HistoryBefore: cut, HistoryUpTo: relayed - 1, QuarantineBefore: cut})
	if err != nil {
		t.Fatal(err)
	}
	if res != (store.PurgeResult{Inbox: 1, Outbox: 1, History: 1, Quarantine: 1}) {
		t.Errorf("Purge = %+v; want one of each", res)
	}
	if pending, _ := s.InboxPending(ctx, 10); len(pending) != 2 {
		t.Errorf("inbox pending after purge = %d; want the old unprocessed and the new event", len(pending))
	}
	if stats, _ := s.OutboxStats(ctx); stats[store.OutboxPending] != 1 || stats[store.OutboxDone] != 0 {
		t.Errorf("outbox after purge = %v; want the pending item only", stats)
	}
	if h, _ := s.MembershipHistorySince(ctx, 0, 10); len(h) != 1 || h[0].Seq != relayed {
		t.Errorf("history after purge = %+v; want the entry the relay has not published", h)
	}
	if ms, _ := s.SegmentMembers(ctx, "vip"); len(ms) != 2 {
		t.Errorf("current members after purge = %d; want 2 (history retention never touches them)", len(ms))
	}
	if q, _ := s.Quarantined(ctx, "hubspot", 10); len(q) != 0 {
		t.Errorf("quarantine after purge = %+v", q)
	}
}

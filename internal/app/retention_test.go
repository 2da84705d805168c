package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
)

// TestRetentionKeepsWhatTheRelayHasNotPublished: with outbound webhooks
// configured, retention deletes old history only up to the relay's
// place, and old processed webhook payloads, not pending ones.
func TestRetentionKeepsWhatTheRelayHasNotPublished(t *testing.T) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Store.Path = filepath.Join(t.TempDir(), "c.db")
	l := &config.Loaded{Config: cfg}
	l.Outbound = []config.Outbound{{URL: "http://127.0.0.1:9/segments", Secret: "whsec-retention-test"}}
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), nil, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	now := time.Now().UTC()
	old := now.Add(-40 * 24 * time.Hour)
	if err := a.Store.ApplyMemberships(ctx, []store.MembershipChange{{ProfileID: "p1", Segment: "vip", Entered: true, At: old}}); err != nil {
		t.Fatal(err)
	}
	if n, err := a.RelaySegmentEvents(ctx); err != nil || n != 1 {
		t.Fatalf("relayed %d, %v; want the one change", n, err)
	}
	// Recorded after the relay ran: not published yet.
	if err := a.Store.ApplyMemberships(ctx, []store.MembershipChange{{ProfileID: "p2", Segment: "vip", Entered: true, At: old}}); err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"done", "pending"} {
		if _, _, err := a.Store.InboxAdd(ctx, store.InboxItem{Platform: "hubspot", EventID: ev, ReceivedAt: old, Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, _ := a.Store.InboxClaim(ctx, 1, time.Minute)
	if len(claimed) != 1 {
		t.Fatal("no event to claim")
	}
	if err := a.Store.InboxDone(ctx, claimed[0].ID); err != nil {
		t.Fatal(err)
	}
	rep, err := a.EnforceRetention(ctx, app.RetentionPolicy{Payloads: 7 * 24 * time.Hour, History: 30 * 24 * time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inbox != 1 || rep.History != 1 {
		t.Errorf("retention deleted %+v; want one inbox event and one history entry", rep)
	}
	h, _ := a.Store.MembershipHistorySince(ctx, 0, 10)
	if len(h) != 1 || h[0].ProfileID != "p2" {
		t.Errorf("history after retention = %+v; want p2's entry, which the relay has not published", h)
	}
	if p, _ := a.Store.InboxPending(ctx, 10); len(p) != 1 {
		t.Errorf("pending webhook events after retention = %d; want 1", len(p))
	}
}

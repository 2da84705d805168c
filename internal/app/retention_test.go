package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/domain"
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

// TestStatusShowsPendingErasures: an erasure whose platforms have not
// confirmed (here: not configured) is counted and warned about in the
// status, and the status names nobody.
func TestStatusShowsPendingErasures(t *testing.T) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.Store.Path = filepath.Join(t.TempDir(), "c.db")
	a, err := app.Open(ctx, &config.Loaded{Config: cfg}, slog.New(slog.DiscardHandler), nil, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	c := &domain.Contact{Ref: domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: "5"}, Emails: []string{"pending@example.com"}, UpdatedAt: time.Now()}
	if _, err := a.Store.ApplyPage(ctx, "hubspot", "", "contact", []adapter.Change{{Kind: adapter.ChangeUpsert, Ref: c.Ref, Contact: c}}, nil, "c"); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Status(ctx, time.Now()); err != nil || s.ErasuresPending != 0 {
		t.Fatalf("status before = %+v, %v", s, err)
	}
	er, err := a.Erase(ctx, "pending@example.com", "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(er.Tasks) != 1 || er.Tasks[0].Status != store.ErasurePending || !strings.Contains(er.Tasks[0].Answer, "not configured") {
		t.Fatalf("erasure %+v; want one pending task for the unconfigured platform", er)
	}
	s, err := a.Status(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if s.ErasuresPending != 1 || !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, "privacy") }) {
		t.Errorf("status %+v; want one pending erasure and a warning", s)
	}
}

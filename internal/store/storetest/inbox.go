package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

func testInbox(t *testing.T, open Factory) {
	ctx := context.Background()
	clock := NewClock()
	s := open(t, store.Options{Now: clock.Now})
	id1, isNew, err := s.InboxAdd(ctx, store.InboxItem{Platform: "hubspot", EventID: "e1", Payload: []byte(`{"a":1}`)})
	if err != nil || !isNew {
		t.Fatalf("first InboxAdd = %d, %v, %v", id1, isNew, err)
	}
	id2, isNew, err := s.InboxAdd(ctx, store.InboxItem{Platform: "hubspot", EventID: "e1", Payload: []byte(`{"a":2}`)})
	if err != nil || isNew || id2 != id1 {
		t.Fatalf("duplicate InboxAdd = %d, %v, %v; want the first id and not new", id2, isNew, err)
	}
	// The same event id on another platform is a different event.
	if _, isNew, _ := s.InboxAdd(ctx, store.InboxItem{Platform: "woocommerce", EventID: "e1"}); !isNew {
		t.Error("event e1 of woocommerce was taken for hubspot's")
	}
	if _, _, err := s.InboxAdd(ctx, store.InboxItem{Platform: "hubspot"}); err == nil {
		t.Error("InboxAdd without an event id succeeded")
	}
	got, err := s.InboxClaim(ctx, 10, time.Minute)
	if err != nil || len(got) != 2 || string(got[0].Payload) != `{"a":1}` || got[0].Attempts != 1 {
		t.Fatalf("InboxClaim = %+v, %v", got, err)
	}
	if again, _ := s.InboxClaim(ctx, 10, time.Minute); len(again) != 0 {
		t.Errorf("leased events claimed again: %+v", again)
	}
	if err := s.InboxDone(ctx, got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.InboxFailed(ctx, got[1].ID, "fetch failed: 503", clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	pending, _ := s.InboxPending(ctx, 10)
	if len(pending) != 1 || pending[0].ID != got[1].ID || pending[0].LastError != "fetch failed: 503" {
		t.Errorf("pending = %+v", pending)
	}
	if c, _ := s.InboxClaim(ctx, 10, time.Minute); len(c) != 0 {
		t.Errorf("failed event claimed before its retry time: %+v", c)
	}
	clock.Advance(2 * time.Minute)
	c, _ := s.InboxClaim(ctx, 10, time.Minute)
	if len(c) != 1 || c[0].Attempts != 2 {
		t.Errorf("retry claim = %+v", c)
	}
	// A lease that runs out makes the event claimable again.
	clock.Advance(2 * time.Minute)
	if c, _ := s.InboxClaim(ctx, 10, time.Minute); len(c) != 1 {
		t.Errorf("expired lease not reclaimed: %+v", c)
	}
}

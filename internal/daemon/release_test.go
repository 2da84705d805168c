package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestShutdownReleasesInFlightEvents: webhook events whose processing
// shutdown interrupted are handed back at once and without an error,
// although the context they were processed with is cancelled: the next
// run claims them straight away instead of waiting out their lease.
func TestShutdownReleasesInFlightEvents(t *testing.T) {
	ctx := context.Background()
	_, env, _ := apptest.StartSandbox(t, 20, time.Now().UTC(), app.Options{})
	var logs bytes.Buffer
	env.Log = slog.New(slog.NewTextHandler(&logs, nil))
	d := New(env, Options{})

	ev := adapter.WebhookEvent{ID: "e1", Kind: adapter.ChangeUpsert,
		Ref: domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: "1001"}}
	payload, _ := json.Marshal(ev)
	if _, _, err := env.Store.InboxAdd(ctx, store.InboxItem{Platform: "hubspot", EventID: ev.ID, Payload: payload}); err != nil {
		t.Fatal(err)
	}
	claimed, err := env.Store.InboxClaim(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %d events", err, len(claimed))
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel() // shutdown began while the event was in flight
	d.handleEvents(stopped, "hubspot", claimed)

	again, err := env.Store.InboxClaim(ctx, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].EventID != "e1" {
		t.Fatalf("after the interrupted run the event cannot be claimed again (%d claimed): its lease was not released", len(again))
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("releasing interrupted events logged errors:\n%s", logs.String())
	}
}

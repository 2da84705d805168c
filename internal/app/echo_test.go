package app_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// requestCounter counts one platform's HTTP requests.
type requestCounter struct{ n atomic.Int64 }

func (c *requestCounter) HTTPRequest(string, int, time.Duration) { c.n.Add(1) }
func (c *requestCounter) RateWait(time.Duration)                 {}

// TestEchoesOfOwnWritesCostNoFetch: HubSpot announces every property the
// connector wrote as a propertyChange event. An event whose value is the
// one the connector owns costs no platform call and plans nothing; an
// event with any other value is fetched as before.
func TestEchoesOfOwnWritesCostNoFetch(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	hs := &requestCounter{}
	_, env, _ := apptest.StartSandbox(t, 60, now, app.Options{ObserveHTTP: func(p string) adapter.HTTPObserver {
		if p == sandbox.HubSpot {
			return hs
		}
		return nil
	}})
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	prop := env.Pipeline.TargetIDs(sandbox.HubSpot)["prop:rfm_segment"]
	if prop == "" {
		t.Fatal("no HubSpot property for rfm_segment")
	}
	// A contact the connector wrote rfm_segment on, and the value.
	var ref domain.ExternalRef
	var value string
	ps, _ := env.Store.ListProfiles(ctx, "", 60)
	for _, p := range ps {
		for _, r := range p.Refs {
			if r.Platform != sandbox.HubSpot || r.ObjectType != domain.ObjectContact || value != "" {
				continue
			}
			owned, _ := env.Store.Ownership(ctx, r)
			for _, o := range owned {
				if o.Target == "prop:rfm_segment" && o.Value != "" {
					ref, value = r, o.Value
				}
			}
		}
	}
	if value == "" {
		t.Fatal("the connector owns no rfm_segment value on HubSpot")
	}
	send := func(id, v string) *int64 {
		t.Helper()
		n, _, err := env.Store.InboxAdd(ctx, store.InboxItem{Platform: sandbox.HubSpot, EventID: id, Payload: []byte("{}")})
		if err != nil {
			t.Fatal(err)
		}
		before := hs.n.Load()
		ev := adapter.WebhookEvent{ID: id, Kind: adapter.ChangeUpsert, Ref: ref, Property: prop, Value: v}
		if _, err := env.HandleWebhookEvents(ctx, sandbox.HubSpot, []adapter.WebhookEvent{ev}, []int64{n}, now); err != nil {
			t.Fatal(err)
		}
		calls := hs.n.Load() - before
		return &calls
	}
	if calls := send("echo", value); *calls != 0 {
		t.Fatalf("the echo of the connector's own %s=%q cost %d HubSpot requests; want none", prop, value, *calls)
	}
	if pending, _ := env.Store.InboxPending(ctx, 10); len(pending) != 0 {
		t.Fatalf("the echo event was not marked processed: %+v", pending)
	}
	if calls := send("by-hand", value+" (edited)"); *calls == 0 {
		t.Fatal("a value the connector did not write was not fetched")
	}
}

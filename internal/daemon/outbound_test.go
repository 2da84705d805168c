package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// receiver is an outbound webhook endpoint on loopback that checks each
// delivery's signature and keeps the events by id.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	events map[string]outbound.Event
	dups   int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := outbound.Verify(rc.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		rc.t.Errorf("outbound delivery does not verify: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var b outbound.Batch
	if err := json.Unmarshal(body, &b); err != nil {
		rc.t.Errorf("outbound delivery is not a batch: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, e := range b.Events {
		if _, seen := rc.events[e.ID]; seen {
			rc.dups++
		}
		rc.events[e.ID] = e
	}
}

func (rc *receiver) snapshot() (map[string]outbound.Event, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string]outbound.Event, len(rc.events))
	for k, v := range rc.events {
		out[k] = v
	}
	return out, rc.dups
}

// TestSegmentEventsSurviveACrash: the membership changes of a plan whose
// process died before publishing them reach the outbound webhook once the
// daemon runs, each exactly once; and a webhook that makes someone a
// Champion is announced with their email.
func TestSegmentEventsSurviveACrash(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end outbound path against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	rc := &receiver{t: t, secret: "whsec-outbound-test-secret", events: map[string]outbound.Event{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 150, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(t.TempDir())
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	l.Outbound = []config.Outbound{{URL: srv.URL + "/segments", Secret: rc.secret}}
	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(ctx)

	// The full cycle records its plan, and the process "dies" before
	// relaying it: it runs with the outbound side switched off.
	dispatcher := env.Outbound
	env.Outbound = nil
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	env.Outbound = dispatcher
	head, err := env.Store.MembershipHistoryHead(ctx)
	if err != nil || head == 0 {
		t.Fatalf("the cycle recorded no membership history (head %d, %v)", head, err)
	}
	recorded, err := env.Store.MembershipHistorySince(ctx, 0, int(head)+1)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rc.snapshot(); len(got) != 0 {
		t.Fatalf("%d events were delivered before the daemon ran", len(got))
	}
	// People who opted out of marketing email get no outbound event.
	kept := recorded[:0]
	for _, m := range recorded {
		p, err := env.Store.Profile(ctx, m.ProfileID)
		if err != nil {
			t.Fatal(err)
		}
		if !pipeline.OptedOut(&p) {
			kept = append(kept, m)
		}
	}
	recorded = kept

	_, base := startDaemon(t, env)
	want := map[[3]string]bool{}
	for _, m := range recorded {
		typ := outbound.EventLeft
		if m.Entered {
			typ = outbound.EventEntered
		}
		want[[3]string{typ, m.Segment, m.ProfileID}] = true
	}
	testenv.Await(t, 30*time.Second, "every recorded change at the outbound webhook after the restart", func() error {
		if got, _ := rc.snapshot(); len(got) < len(recorded) {
			return fmt.Errorf("%d of %d arrived", len(got), len(recorded))
		}
		return nil
	})
	got, dups := rc.snapshot()
	if dups != 0 || len(got) != len(recorded) {
		t.Fatalf("received %d events (%d twice) for %d recorded changes", len(got), dups, len(recorded))
	}
	for _, e := range got {
		if !want[[3]string{e.Type, e.Segment, e.ProfileID}] {
			t.Fatalf("received %s %s for %s, which was never recorded", e.Type, e.Segment, e.ProfileID)
		}
		if e.SegmentKind == "" {
			t.Fatalf("event %s %s has no segment kind", e.Type, e.Segment)
		}
	}

	// Live: a WooCommerce order webhook makes someone a Champion.
	wooID, _, profileID := apptest.NotYetChampion(t, env.App)
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("test order.created", "order.created", base+"/webhooks/woocommerce", secret)
	for range 8 {
		oid := sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile")
		for _, d := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			if d.Status != 200 {
				t.Fatalf("webhook delivery for order %d got HTTP %d", oid, d.Status)
			}
		}
	}
	p, err := env.Store.Profile(ctx, profileID)
	if err != nil {
		t.Fatal(err)
	}
	var champion *outbound.Event
	testenv.Eventually(t, 20*time.Second, fmt.Sprintf("a segment.entered rfm:champions event for %s after their orders", profileID), func() bool {
		got, _ := rc.snapshot()
		for _, e := range got {
			if e.ProfileID == profileID && e.Segment == "rfm:champions" && e.Type == outbound.EventEntered {
				champion = &e
			}
		}
		return champion != nil
	})
	if champion.Email == "" || champion.Email != p.PrimaryEmail() || champion.SegmentKind != "rfm" {
		t.Fatalf("the Champion's event is %+v; want their email %q and kind rfm", *champion, p.PrimaryEmail())
	}
	if _, dups := rc.snapshot(); dups != 0 {
		t.Errorf("%d events were delivered twice", dups)
	}
}

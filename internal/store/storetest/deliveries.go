package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// testDeliveries: outbound deliveries are stored once per (endpoint,
// event), claimed oldest first and in order per endpoint, retried,
// dead-lettered, re-queued and purged, with times kept to the microsecond.
func testDeliveries(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	at := time.Date(2026, 3, 1, 12, 0, 0, 123_456_000, time.UTC)
	const a, b = "https://a.example.com/hook", "https://b.example.com/hook"
	var ds []store.Delivery
	for i := range 5 {
		for _, ep := range []string{a, b} {
			ds = append(ds, store.Delivery{Endpoint: ep, EventID: fmt.Sprintf("ev%d", i), EventType: "segment.entered",
				Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: at.Add(time.Duration(i) * time.Microsecond)})
		}
	}
	if n, err := s.DeliveriesEnqueue(ctx, ds); err != nil || n != 10 {
		t.Fatalf("DeliveriesEnqueue = %d, %v; want 10", n, err)
	}
	if n, err := s.DeliveriesEnqueue(ctx, ds[:4]); err != nil || n != 0 {
		t.Fatalf("DeliveriesEnqueue again = %d, %v; want 0 (already stored)", n, err)
	}

	// A delivery not yet due holds back the later ones of its endpoint,
	// so claim once all five are due.
	now := at.Add(time.Second)
	got, err := s.DeliveriesClaim(ctx, a, now, time.Minute, 2)
	if err != nil || len(got) != 2 || got[0].EventID != "ev0" || got[1].EventID != "ev1" {
		t.Fatalf("DeliveriesClaim = %+v, %v; want ev0 and ev1 of %s", got, err, a)
	}
	if got[1].CreatedAt != at.Add(time.Microsecond) || got[0].Attempts != 1 || got[0].LastAttemptAt != now || string(got[1].Payload) != `{"n":1}` {
		t.Fatalf("claimed delivery = %+v; want its microseconds, one attempt and its payload", got[1])
	}
	// In order per endpoint: nothing more of a while its batch is leased;
	// the other endpoint is not held up.
	if more, err := s.DeliveriesClaim(ctx, a, now, time.Minute, 10); err != nil || len(more) != 0 {
		t.Fatalf("second claim while leased = %d, %v; want none", len(more), err)
	}
	if other, err := s.DeliveriesClaim(ctx, b, now, time.Minute, 10); err != nil || len(other) != 5 {
		t.Fatalf("claim of the other endpoint = %d, %v; want 5", len(other), err)
	}

	retry := now.Add(30 * time.Second)
	if err := s.DeliveriesFailed(ctx, []store.DeliveryFailure{{ID: got[0].ID, Error: "HTTP 503", NextAttemptAt: retry}, {ID: got[1].ID, Error: "HTTP 410", Dead: true}}, now); err != nil {
		t.Fatal(err)
	}
	if early, err := s.DeliveriesClaim(ctx, a, retry.Add(-time.Microsecond), time.Minute, 10); err != nil || len(early) != 0 {
		t.Fatalf("claim before the retry is due = %d, %v; want none", len(early), err)
	}
	again, err := s.DeliveriesClaim(ctx, a, retry, time.Minute, 10)
	if err != nil || len(again) != 4 || again[0].ID != got[0].ID || again[0].Attempts != 2 || again[0].LastError != "HTTP 503" {
		t.Fatalf("claim at the retry = %+v, %v; want ev0 (second attempt) first, then ev2..ev4", again, err)
	}
	ids := make([]int64, len(again))
	for i, d := range again {
		ids[i] = d.ID
	}
	if err := s.DeliveriesDone(ctx, ids, retry); err != nil {
		t.Fatal(err)
	}
	dead, err := s.DeliveriesList(ctx, store.DeliveryFilter{Status: store.DeliveryDead})
	if err != nil || len(dead) != 1 || dead[0].EventID != "ev1" || dead[0].DoneAt != now {
		t.Fatalf("dead letters = %+v, %v; want ev1", dead, err)
	}
	counts, err := s.DeliveriesCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{a + " dead": 1, a + " delivered": 4, b + " pending": 5}
	for _, c := range counts {
		if want[c.Endpoint+" "+string(c.Status)] != c.N {
			t.Errorf("count %s %s = %d, want %d", c.Endpoint, c.Status, c.N, want[c.Endpoint+" "+string(c.Status)])
		}
	}
	if len(counts) != len(want) {
		t.Errorf("counts = %+v, want %v", counts, want)
	}
	if n, err := s.DeliveriesRequeue(ctx, []int64{dead[0].ID}, retry); err != nil || n != 1 {
		t.Fatalf("DeliveriesRequeue = %d, %v; want 1", n, err)
	}
	if n, err := s.DeliveriesPurge(ctx, retry); err != nil || n != 0 {
		t.Fatalf("DeliveriesPurge before their time = %d, %v; want 0", n, err)
	}
	if n, err := s.DeliveriesPurge(ctx, retry.Add(time.Microsecond)); err != nil || n != 4 {
		t.Fatalf("DeliveriesPurge = %d, %v; want the 4 delivered", n, err)
	}
	left, err := s.DeliveriesList(ctx, store.DeliveryFilter{Endpoint: a})
	if err != nil || len(left) != 1 || left[0].Status != store.DeliveryPending || left[0].Attempts != 0 {
		t.Fatalf("left of %s = %+v, %v; want ev1 pending again with a fresh budget", a, left, err)
	}
}

package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/internal/store/sqlstore"
)

// TestQueuePlans checks that the queue statements every drain round and
// inbox worker runs find their rows through the queue indexes on SQLite,
// so their cost does not grow with the history of done items. (A claim
// that walked every done item of its platform held SQLite's one writer
// for 10–25 ms a round under load.)
func TestQueuePlans(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A history of done items, a few live ones, no ANALYZE statistics:
	// what a daemon's file looks like.
	var items []store.OutboxItem
	for i := range 3000 {
		items = append(items, store.OutboxItem{Platform: "hubspot", Account: "1", Key: fmt.Sprintf("contact/%d", i), Payload: []byte("{}")})
	}
	if err := s.OutboxEnqueue(ctx, items); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.OutboxClaim(ctx, "hubspot", "1", len(items), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(claimed))
	for i, it := range claimed {
		ids[i] = it.ID
	}
	if err := s.OutboxDone(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if err := s.OutboxEnqueue(ctx, items[:20]); err != nil {
		t.Fatal(err)
	}
	// Outbound deliveries: a history of delivered rows, a few pending.
	const ep = "https://hooks.example.com/in"
	var ds []store.Delivery
	for i := range 3000 {
		ds = append(ds, store.Delivery{Endpoint: ep, EventID: fmt.Sprintf("ev%d", i), EventType: "segment.entered", Payload: []byte("{}"), CreatedAt: time.Now()})
	}
	if _, err := s.DeliveriesEnqueue(ctx, ds); err != nil {
		t.Fatal(err)
	}
	sent, err := s.DeliveriesClaim(ctx, ep, time.Now(), time.Minute, 2980)
	if err != nil || len(sent) != 2980 {
		t.Fatalf("DeliveriesClaim = %d, %v", len(sent), err)
	}
	dids := make([]int64, len(sent))
	for i, d := range sent {
		dids[i] = d.ID
	}
	if err := s.DeliveriesDone(ctx, dids, time.Now()); err != nil {
		t.Fatal(err)
	}

	plan := func(t *testing.T, query string, args ...any) string {
		t.Helper()
		rows, err := s.Database().SQL.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	now := time.Now().UnixMicro()
	check := func(t *testing.T, got, index string) {
		t.Helper()
		if !strings.Contains(got, "USING INDEX "+index) && !strings.Contains(got, "USING COVERING INDEX "+index) {
			t.Errorf("plan does not use %s:\n%s", index, got)
		}
		for _, line := range strings.Split(got, "\n") {
			// A whole-table walk, or outbox_record used for anything but
			// one record's items, grows with the history.
			if (strings.HasPrefix(line, "SCAN ") && line != "SCAN pending" && line != "SCAN leased") || (strings.Contains(line, "outbox_record") && !strings.Contains(line, "item_key=?")) {
				t.Errorf("plan walks the history: %q in\n%s", line, got)
			}
		}
	}
	for _, lane := range []store.OutboxLane{store.LaneAny, store.LaneFresh, store.LaneDeferred} {
		t.Run(fmt.Sprintf("outbox claim lane %d", lane), func(t *testing.T) {
			got := plan(t, s.Engine.OutboxClaimSQL(lane), sqlstore.OutboxClaimArgs(now+1, now, "hubspot", "1", 100)...)
			check(t, got, "outbox_claim")
			// Both arms walk the index in id order and stop at the batch:
			// neither sorts every due item of the platform.
			if n := strings.Count(got, "SEARCH outbox USING INDEX outbox_claim (platform=? AND account=? AND status=?)"); n != 2 {
				t.Errorf("%d arms walk outbox_claim by status, want 2:\n%s", n, got)
			}
			// A sort inside an arm (before the arm's rows are read out
			// for the merge) would sort every due item.
			inArm := false
			for _, line := range strings.Split(got, "\n") {
				switch {
				case strings.HasPrefix(line, "CO-ROUTINE "):
					inArm = true
				case line == "SCAN pending" || line == "SCAN leased":
					inArm = false
				case inArm && strings.Contains(line, "TEMP B-TREE"):
					t.Errorf("an arm sorts its due items:\n%s", got)
				}
			}
		})
	}
	t.Run("outbox supersede", func(t *testing.T) {
		check(t, plan(t, sqlstore.OutboxSupersedeSQL, now, "hubspot", "1", now), "outbox_claim")
	})
	t.Run("deliveries claim", func(t *testing.T) {
		check(t, plan(t, sqlstore.DeliveriesClaimSQL, now+1, now, ep, 100, now, ep, now, now), "outbound_deliveries_queue")
	})
	t.Run("inbox claim", func(t *testing.T) {
		check(t, plan(t, sqlstore.InboxClaimSQL+") RETURNING id", now+1, now, now, 100), "inbox_pending")
	})
}

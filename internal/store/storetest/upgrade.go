package storetest

import (
	"context"
	"database/sql"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// upgradeAt is the time of the delivery SeedBeforeDeliveries stores.
var upgradeAt = time.Date(2026, 11, 30, 9, 15, 42, 123_000_000, time.UTC)

// SeedBeforeDeliveries makes db look like a database of a connector from
// before the store owned outbound_deliveries: the store's migrations up to
// 0004, and the table as the outbound queue created it itself, holding one
// dead-lettered delivery with its times in milliseconds. rebind turns '?'
// into the database's placeholders; idCol is the dialect's identity column.
func SeedBeforeDeliveries(t *testing.T, db *sql.DB, migrations fs.FS, rebind func(string) string, idCol string) {
	t.Helper()
	ctx := context.Background()
	entries, err := fs.ReadDir(migrations, ".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		num, _, _ := strings.Cut(en.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil || v > 4 {
			continue
		}
		body, err := fs.ReadFile(migrations, en.Name())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("applying %s: %v", en.Name(), err)
		}
		if _, err := db.ExecContext(ctx, rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)`), v, en.Name()); err != nil {
			t.Fatal(err)
		}
	}
	// The outbound queue's own DDL and time unit before it moved into the store.
	for _, s := range []string{`CREATE TABLE outbound_deliveries (
	` + idCol + `,
	endpoint TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	payload TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending',
	attempts INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	next_attempt_at BIGINT NOT NULL,
	claimed_until BIGINT NOT NULL DEFAULT 0,
	last_attempt_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	done_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (endpoint, event_id)
)`,
		`CREATE INDEX outbound_deliveries_queue ON outbound_deliveries (endpoint, status, id)`,
		`CREATE INDEX outbound_deliveries_status ON outbound_deliveries (status, id)`,
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ms := upgradeAt.UnixMilli()
	if _, err := db.ExecContext(ctx, rebind(`INSERT INTO outbound_deliveries (endpoint, event_id, event_type, payload, status, attempts, created_at, next_attempt_at, claimed_until, last_attempt_at, last_error, done_at)
VALUES ('https://hooks.example.com/in', 'ev1', 'segment.entered', '{"id":"ev1"}', 'dead', 8, ?, ?, 0, ?, 'HTTP 500', ?)`),
		ms, ms+60_000, ms+120_000, ms+180_000); err != nil {
		t.Fatal(err)
	}
}

// CheckUpgradedDeliveries asserts that a store opened on a database
// SeedBeforeDeliveries prepared kept the delivery, its times converted to
// the store's unit, and that it can be re-queued and claimed.
func CheckUpgradedDeliveries(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	ds, err := s.DeliveriesList(ctx, store.DeliveryFilter{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("DeliveriesList after the upgrade = %+v, %v; want the one delivery", ds, err)
	}
	d := ds[0]
	if !d.CreatedAt.Equal(upgradeAt) || !d.NextAttemptAt.Equal(upgradeAt.Add(time.Minute)) ||
		!d.LastAttemptAt.Equal(upgradeAt.Add(2*time.Minute)) || !d.DoneAt.Equal(upgradeAt.Add(3*time.Minute)) {
		t.Fatalf("times after the upgrade: created %v next %v last %v done %v; want %v and 1, 2, 3 minutes later",
			d.CreatedAt, d.NextAttemptAt, d.LastAttemptAt, d.DoneAt, upgradeAt)
	}
	if d.Status != store.DeliveryDead || d.Attempts != 8 || d.LastError != "HTTP 500" || string(d.Payload) != `{"id":"ev1"}` {
		t.Fatalf("delivery after the upgrade: %+v", d)
	}
	now := upgradeAt.Add(time.Hour)
	if n, err := s.DeliveriesRequeue(ctx, nil, now); err != nil || n != 1 {
		t.Fatalf("DeliveriesRequeue = %d, %v", n, err)
	}
	claimed, err := s.DeliveriesClaim(ctx, d.Endpoint, now, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Attempts != 1 {
		t.Fatalf("DeliveriesClaim after requeue = %+v, %v", claimed, err)
	}
}

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/testenv"
)

// TestHeldLocksLeaveTheWorkItsConnections: a process holding as many
// session locks as its pool has connections (the three pull locks and the
// segment lock, as a daemon does when its three pulls and an inbox worker
// overlap) still gets connections for the work under them, and the locks
// still exclude another process. While locks took their connections from
// the work's pool, every call here waited for a connection that no holder
// would give back.
func TestHeldLocksLeaveTheWorkItsConnections(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	schema := newSchema(t, dsn)
	const conns = 4
	open := func() *postgres.Store {
		s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, MaxConns: conns})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open()
	names := []string{"pull:hubspot", "pull:salesforce", "pull:woocommerce", "segments"}
	for _, name := range names[:conns-1] {
		unlock, ok, err := s.TryLock(ctx, name)
		if err != nil || !ok {
			t.Fatalf("TryLock(%s) = %v, %v; want it taken", name, ok, err)
		}
		defer unlock()
	}
	unlock, err := s.Lock(ctx, names[conns-1])
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	// A generous bound: each call takes milliseconds when it gets a
	// connection, and never returns when it does not.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, _, err := s.InboxAdd(wctx, store.InboxItem{Platform: "woocommerce", EventID: "e1", Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("storing a webhook event while %d locks are held: %v", conns, err)
	}
	if items, err := s.InboxClaim(wctx, 10, time.Minute); err != nil || len(items) != 1 {
		t.Fatalf("claiming webhook events while %d locks are held: %d, %v", conns, len(items), err)
	}
	if _, err := s.CountProfiles(wctx); err != nil {
		t.Fatalf("counting profiles while %d locks are held: %v", conns, err)
	}

	other := open() // another replica
	for _, name := range names {
		if u, ok, err := other.TryLock(wctx, name); err != nil || ok {
			if ok {
				u()
			}
			t.Errorf("another replica's TryLock(%s) = %v, %v while this one holds it; want false", name, ok, err)
		}
	}
}

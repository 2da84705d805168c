package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
)

// TestNoPullWhileAnotherReplicaPulls: two replicas (two Apps, each with
// its own store, on one PostgreSQL schema) share a HubSpot account. While
// the first pulls it, the second does not start a pull of it (and sends
// HubSpot nothing); once the first has finished, the second pulls.
func TestNoPullWhileAnotherReplicaPulls(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	schema := testenv.PostgresSchema(t, dsn, "apptest")
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 3, Customers: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	open := func() *app.App {
		l := sb.ConnectorConfig(t.TempDir())
		l.Store.Driver, l.Store.DSN, l.Store.Schema = "postgres", dsn, schema
		a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close(context.Background()) })
		return a
	}
	first, second := open(), open()

	// The first replica's pull stops at its first HubSpot request until
	// released.
	var requests atomic.Int32
	blocked, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sb.Observe(sandbox.HubSpot, func(*http.Request) {
		requests.Add(1)
		once.Do(func() {
			close(blocked)
			<-release
		})
	})
	done := make(chan error, 1)
	go func() {
		_, ran, err := first.SyncIfFree(ctx, sandbox.HubSpot, true)
		if err == nil && !ran {
			t.Error("the first replica did not pull though nobody else was")
		}
		done <- err
	}()
	select {
	case <-blocked:
	case <-time.After(30 * time.Second):
		t.Fatal("the first replica's pull never reached HubSpot")
	}
	_, ran, err := second.SyncIfFree(ctx, sandbox.HubSpot, false)
	if err != nil || ran {
		t.Fatalf("second replica during the first's pull: ran=%v err=%v, want it not to pull", ran, err)
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("HubSpot saw %d requests while the first pull waited, want only its 1", n)
	}
	// Another platform is free meanwhile.
	if _, ran, err := second.SyncIfFree(ctx, sandbox.WooCommerce, false); err != nil || !ran {
		t.Fatalf("second replica pulling WooCommerce meanwhile: ran=%v err=%v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ran, err := second.SyncIfFree(ctx, sandbox.HubSpot, false); err != nil || !ran {
		t.Fatalf("second replica after the first's pull: ran=%v err=%v, want it to pull", ran, err)
	}
}

package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/storetest"
	"github.com/segconn/connector/internal/testenv"
)

// open creates a store in a fresh schema of the test database and drops
// the schema when the test ends.
func open(t testing.TB, opts store.Options) store.Store {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "storetest_" + hex.EncodeToString(b)
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Options: opts, Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return s
}

func TestStore(t *testing.T) { storetest.Run(t, open) }

func BenchmarkUpsertProfiles(b *testing.B) { storetest.BenchmarkUpsertProfiles(b, open) }
func BenchmarkUpsertOrders(b *testing.B)   { storetest.BenchmarkUpsertOrders(b, open) }

package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/sqlstore"
	"github.com/segconn/connector/internal/store/storetest"
	"github.com/segconn/connector/internal/testenv"
)

// open creates a store in a fresh schema of the test database and drops
// the schema when the test ends.
func open(t testing.TB, opts store.Options) store.Store {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	schema := newSchema(t, dsn)
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Options: opts, Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newSchema names a fresh schema and drops it, if it was made, when the
// test ends: a test may skip before anything creates it.
func newSchema(t testing.TB, dsn string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "storetest_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

func TestStore(t *testing.T) { storetest.Run(t, open) }

func BenchmarkUpsertProfiles(b *testing.B) { storetest.BenchmarkUpsertProfiles(b, open) }
func BenchmarkUpsertOrders(b *testing.B)   { storetest.BenchmarkUpsertOrders(b, open) }

// TestCrashChild is the child process of TestCrashAtomicity.
func TestCrashChild(t *testing.T) {
	target := os.Getenv(storetest.CrashEnv)
	if target == "" {
		t.Skip("helper process of TestCrashAtomicity")
	}
	dsn, schema, _ := strings.Cut(target, " schema=")
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CrashChild(t, s)
}

func TestCrashAtomicity(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	schema := newSchema(t, dsn)
	storetest.RunCrash(t, "TestCrashChild", dsn+" schema="+schema, func(t *testing.T) store.Store {
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func BenchmarkBaselineRowInserts(b *testing.B) {
	s := open(b, store.Options{}).(*postgres.Store)
	db := stdlib.OpenDBFromPool(s.PgxPool())
	defer db.Close()
	storetest.BenchmarkBaselineRowInserts(b, db, sqlstore.DollarRebind)
}

// TestReplicasOpenTogether opens three stores on one fresh schema at once,
// as replicas starting together do: the migrations run once, all succeed.
func TestReplicasOpenTogether(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	schema := newSchema(t, dsn)
	errs := make(chan error, 3)
	stores := make(chan *postgres.Store, 3)
	for i := 0; i < 3; i++ {
		go func() {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, MaxConns: 2})
			errs <- err
			stores <- s
		}()
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
		if s := <-stores; s != nil {
			v, err := s.Migrate(context.Background())
			if err != nil || v < 2 {
				t.Errorf("Migrate = %d, %v; want every embedded migration applied", v, err)
			}
			if s.Schema() != schema || s.PgxPool() == nil {
				t.Errorf("handles: schema %q pool %v", s.Schema(), s.PgxPool())
			}
			s.Close()
		}
	}
}

func BenchmarkEachProfile(b *testing.B) { storetest.BenchmarkEachProfile(b, open) }

func TestCDNOW(t *testing.T) { storetest.RunCDNOW(t, open) }

func TestBadDSNHidesPassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://u:s3cret@127.0.0.1:notaport/db", postgres.Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Open with a bad DSN: %v; want an error without the password", err)
	}
}

func BenchmarkUpsertProfilesOneByOne(b *testing.B) {
	storetest.BenchmarkUpsertProfilesOneByOne(b, open)
}

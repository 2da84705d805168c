package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

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
	t.Helper()
	return testenv.PostgresSchema(t, dsn, "storetest")
}

func TestStore(t *testing.T) { storetest.Run(t, open) }

func BenchmarkUpsertProfiles(b *testing.B) { storetest.BenchmarkUpsertProfiles(b, open) }
func BenchmarkUpsertOrders(b *testing.B)   { storetest.BenchmarkUpsertOrders(b, open) }
func BenchmarkOutboxClaim(b *testing.B)    { storetest.BenchmarkOutboxClaim(b, open) }

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
	s := open(b, store.Options{})
	storetest.BenchmarkBaselineRowInserts(b, s.Database().SQL, sqlstore.DollarRebind)
}

// TestReplicasOpenTogether opens three stores on one fresh schema at once,
// as replicas starting together do, ten times over: the migrations (the
// store's, the outbound deliveries' and River's) run once, and every
// replica comes up. Before they ran under one lock, River's migration
// failed on most rounds with a duplicate key in pg_type.
func TestReplicasOpenTogether(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	const replicas = 3
	for round := 0; round < 10; round++ {
		schema := newSchema(t, dsn)
		errs := make(chan error, replicas)
		stores := make(chan *postgres.Store, replicas)
		for i := 0; i < replicas; i++ {
			go func() {
				s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, MaxConns: 2})
				errs <- err
				stores <- s
			}()
		}
		for i := 0; i < replicas; i++ {
			if err := <-errs; err != nil {
				t.Errorf("round %d, replica %d: %v", round, i, err)
			}
			s := <-stores
			if s == nil {
				continue
			}
			v, err := s.Migrate(context.Background())
			if err != nil || v < 5 {
				t.Errorf("Migrate = %d, %v; want every embedded migration applied", v, err)
			}
			if db := s.Database(); db.Schema != schema || db.Pool == nil || db.SQL == nil || db.Driver != "postgres" {
				t.Errorf("Database() = %+v; want the pool on schema %s", db, schema)
			}
			for _, table := range []string{"river_job", "river_migration", "outbound_deliveries", "profiles"} {
				var n int
				err := s.Database().SQL.QueryRowContext(context.Background(),
					`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`, schema, table).Scan(&n)
				if err != nil || n != 1 {
					t.Errorf("round %d: table %s.%s: %d, %v; want it created", round, schema, table, n, err)
				}
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

// TestUpgradeKeepsOutboundDeliveries opens a schema from before the store
// owned outbound_deliveries (its rows in milliseconds): migration 0005
// keeps the rows and converts their times.
func TestUpgradeKeepsOutboundDeliveries(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	schema := newSchema(t, dsn)
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := sql.Open("pgx", dsn+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SeedBeforeDeliveries(t, db, sqlstore.Migrations("postgres"), sqlstore.DollarRebind, "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
	db.Close()
	s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckUpgradedDeliveries(t, s)
}

// BenchmarkIngest compares ApplyPage with COPY of the same records (see
// storetest.BenchmarkIngest).
func BenchmarkIngest(b *testing.B) { storetest.BenchmarkIngest(b, open, storetest.CopyBaseline()) }

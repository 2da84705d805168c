package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/internal/store/sqlstore"
	"github.com/segconn/connector/internal/store/storetest"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func open(t testing.TB, opts store.Options) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), sqlite.FileName), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) { storetest.Run(t, open) }

func BenchmarkUpsertProfiles(b *testing.B) { storetest.BenchmarkUpsertProfiles(b, open) }
func BenchmarkUpsertOrders(b *testing.B)   { storetest.BenchmarkUpsertOrders(b, open) }
func BenchmarkOutboxClaim(b *testing.B)    { storetest.BenchmarkOutboxClaim(b, open) }

// TestCrashChild is the child process of TestCrashAtomicity.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(storetest.CrashEnv)
	if path == "" {
		t.Skip("helper process of TestCrashAtomicity")
	}
	s, err := sqlite.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CrashChild(t, s)
}

func TestCrashAtomicity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	storetest.RunCrash(t, "TestCrashChild", path, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func BenchmarkBaselineRowInserts(b *testing.B) {
	s := open(b, store.Options{}).(*sqlite.Store)
	storetest.BenchmarkBaselineRowInserts(b, s.Database().SQL, sqlstore.QuestionRebind)
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	s, err := sqlite.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Database().SQL.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = sqlite.Open(ctx, path, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "version 999") {
		t.Fatalf("opening a database from a newer connector: %v; want an error naming version 999", err)
	}
}

func TestWALAndSingleFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, filepath.Join(dir, "data", sqlite.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.Database().SQL.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "data", sqlite.FileName))
	if err != nil {
		t.Fatalf("database file not created in the data directory: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode %v; it holds personal data and must be 0600", perm)
	}
}

// TestTwoHandlesOneFile writes through two stores opened on the same file
// at once (the daemon and a CLI command, say): immediate transactions and
// the busy timeout queue them instead of failing with SQLITE_BUSY.
func TestTwoHandlesOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	var stores []*sqlite.Store
	for i := 0; i < 2; i++ {
		s, err := sqlite.Open(ctx, path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	errs := make(chan error, 2)
	for i, s := range stores {
		go func() {
			for page := 0; page < 10; page++ {
				var chs []adapter.Change
				for j := 0; j < 50; j++ {
					id := fmt.Sprintf("%d-%d-%d", i, page, j)
					chs = append(chs, adapter.Change{Kind: adapter.ChangeUpsert, Contact: &domain.Contact{
						Ref: domain.ExternalRef{Platform: "woocommerce", ObjectType: "contact", ID: id}, Emails: []string{id + "@example.com"}}})
				}
				if _, err := s.ApplyPage(ctx, "woocommerce", "", "contact", chs, nil, fmt.Sprint(page)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n, err := stores[0].CountProfiles(ctx); err != nil || n != 1000 {
		t.Errorf("CountProfiles = %d, %v; want 1000", n, err)
	}
}

func BenchmarkEachProfile(b *testing.B) { storetest.BenchmarkEachProfile(b, open) }

func TestCDNOW(t *testing.T) { storetest.RunCDNOW(t, open) }

func BenchmarkUpsertProfilesOneByOne(b *testing.B) {
	storetest.BenchmarkUpsertProfilesOneByOne(b, open)
}

// TestUpgradeKeepsOutboundDeliveries opens a database from before the
// store owned outbound_deliveries (its rows in milliseconds): migration
// 0005 keeps the rows and converts their times.
func TestUpgradeKeepsOutboundDeliveries(t *testing.T) {
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SeedBeforeDeliveries(t, db, sqlstore.Migrations("sqlite"), sqlstore.QuestionRebind, "id INTEGER PRIMARY KEY AUTOINCREMENT")
	db.Close()
	s, err := sqlite.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckUpgradedDeliveries(t, s)
}

// BenchmarkIngest compares ApplyPage with prepared inserts of the same
// records (see storetest.BenchmarkIngest).
func BenchmarkIngest(b *testing.B) {
	storetest.BenchmarkIngest(b, open, storetest.PreparedInsertBaseline(sqlstore.QuestionRebind))
}

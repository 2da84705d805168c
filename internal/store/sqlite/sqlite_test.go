package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/internal/store/sqlstore"
	"github.com/segconn/connector/internal/store/storetest"
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
	storetest.BenchmarkBaselineRowInserts(b, s.SQLDB(), sqlstore.QuestionRebind)
}

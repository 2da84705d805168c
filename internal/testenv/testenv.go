// Package testenv finds the resources tests need from outside the
// repository, the public data sets (a folder named shared beside the
// checkout, or $SEGCONN_SHARED) and the local PostgreSQL server, and holds
// the helpers that keep tests free of fixed sleeps (Eventually, Clock).
// When a resource is missing a test skips with a message that says what is
// missing, except under CI=true, where it fails: CI must never pass by
// skipping. Its tests also check that no doc cites a file outside the
// repository.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it under CI, naming what is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a required resource is missing: "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

// RepoRoot returns the directory holding go.mod, searching upwards from the
// working directory of the test.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getting working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above %s", dir)
		}
		dir = parent
	}
}

// The variables are not CONNECTOR_-prefixed: that prefix belongs to the
// configuration, which rejects unknown keys.

// SharedFile returns the path of a file in the shared data folder (named
// shared, beside the checkout), e.g. SharedFile(t, "data/cdnow/CDNOW_master.txt"). The
// environment variable SEGCONN_SHARED overrides the shared folder.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	root := os.Getenv("SEGCONN_SHARED")
	if root == "" {
		root = filepath.Join(RepoRoot(t), "..", "shared")
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		Unavailable(t, "%s not found (the shared data sets live in ../shared beside the checkout, or set SEGCONN_SHARED): %v", rel, err)
	}
	return p
}

// PostgresDSN returns the DSN of the test PostgreSQL server
// (SEGCONN_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/test)
// after checking that it accepts TCP connections; it skips or, under CI,
// fails when it does not.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SEGCONN_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := dial(ctx, "127.0.0.1:5432"); err != nil && os.Getenv("SEGCONN_TEST_POSTGRES") == "" {
		Unavailable(t, "PostgreSQL is not reachable at 127.0.0.1:5432: %v", err)
	}
	return dsn
}

// PostgresSchema returns the name of a new schema for the test alone,
// prefix and a random suffix, and drops it when the test ends, whether
// or not anything created it (a test may skip first).
func PostgresSchema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

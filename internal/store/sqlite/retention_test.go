package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/internal/store/storetest"
)

// fileSize is the database file plus its write-ahead log.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestPruningBoundsTheFile simulates eight days of write-back (1,000
// records a day, each item carrying a 2 KB payload) on two stores: one
// never pruned, one pruned daily to a two-day window and checkpointed. The
// pruned file stays a fraction of the other, and a checkpoint empties the
// write-ahead log.
func TestPruningBoundsTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a few tens of megabytes")
	}
	ctx := context.Background()
	payload := []byte(strings.Repeat("x", 2048))
	run := func(prune bool) int64 {
		clock := storetest.NewClock()
		path := filepath.Join(t.TempDir(), sqlite.FileName)
		s, err := sqlite.Open(ctx, path, store.Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for day := range 8 {
			items := make([]store.OutboxItem, 1000)
			for i := range items {
				items[i] = store.OutboxItem{Platform: "hubspot", Key: strconv.Itoa(day) + "/" + strconv.Itoa(i), Payload: payload}
			}
			if err := s.OutboxEnqueue(ctx, items); err != nil {
				t.Fatal(err)
			}
			for {
				c, err := s.OutboxClaim(ctx, "hubspot", "", 500, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if len(c) == 0 {
					break
				}
				ids := make([]int64, len(c))
				for i, it := range c {
					ids[i] = it.ID
				}
				if err := s.OutboxDone(ctx, ids); err != nil {
					t.Fatal(err)
				}
			}
			if prune {
				if _, err := s.Prune(ctx, store.Prune{OutboxBefore: clock.Now().Add(-48 * time.Hour)}); err != nil {
					t.Fatal(err)
				}
				if err := s.Checkpoint(ctx); err != nil {
					t.Fatal(err)
				}
				if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
					t.Fatalf("day %d: the write-ahead log holds %d bytes after a checkpoint", day, fi.Size())
				}
			}
			clock.Advance(24 * time.Hour)
		}
		return fileSize(t, path)
	}
	kept, pruned := run(false), run(true)
	t.Logf("after 8 days of 1,000 write-backs a day: %.1f MB never pruned, %.1f MB pruned to 2 days", float64(kept)/1e6, float64(pruned)/1e6)
	if pruned*2 > kept {
		t.Fatalf("pruned store is %d bytes, the unpruned one %d: want under half", pruned, kept)
	}
}

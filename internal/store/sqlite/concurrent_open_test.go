package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
)

// TestOpenTogether opens two stores on one new file at once, as a daemon
// and a CLI command started together do, ten times over: both come up,
// River's tables included.
func TestOpenTogether(t *testing.T) {
	for round := 0; round < 10; round++ {
		path := filepath.Join(t.TempDir(), sqlite.FileName)
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := sqlite.Open(context.Background(), path, store.Options{})
				if err != nil {
					t.Errorf("round %d, store %d: %v", round, i, err)
					return
				}
				s.Close()
			}()
		}
		wg.Wait()
	}
}

package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/testenv"
)

// TestGroupCommitAnswersOnlyAfterCommit: many concurrent requests; each
// returns only once a commit holding all its events happened, commits
// are shared, and every event is committed exactly once.
func TestGroupCommitAnswersOnlyAfterCommit(t *testing.T) {
	var mu sync.Mutex
	committed := map[string]int{}
	commits := 0
	release := make(chan struct{})
	first := true
	g := newGroupCommit(func(_ context.Context, items []store.InboxItem) error {
		mu.Lock()
		wait := first
		first = false
		mu.Unlock()
		if wait {
			<-release // hold the first commit so the others pile up
		}
		mu.Lock()
		defer mu.Unlock()
		commits++
		for _, it := range items {
			committed[it.EventID]++
		}
		return nil
	})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := []string{fmt.Sprintf("e%d-a", i), fmt.Sprintf("e%d-b", i)}
			err := g.store(context.Background(), []store.InboxItem{{Platform: "p", EventID: ids[0]}, {Platform: "p", EventID: ids[1]}})
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if committed[id] != 1 {
					err = errors.Join(err, fmt.Errorf("request answered with event %s committed %d times", id, committed[id]))
				}
			}
			errs <- err
		}()
	}
	// Release the first commit only once many requests wait behind it, so
	// the test does not depend on how the scheduler interleaves them.
	testenv.Eventually(t, 10*time.Second, "half the requests waiting behind the first commit", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.pending) >= n/2
	})
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(committed) != 2*n {
		t.Fatalf("%d events committed, want %d", len(committed), 2*n)
	}
	if commits >= n {
		t.Errorf("%d commits for %d requests: nothing was shared", commits, n)
	}
	t.Logf("%d requests in %d commits", n, commits)
}

// TestGroupCommitErrorReachesEveryRequestOfTheGroup: a failed commit is
// reported to every request it held (none is acknowledged), and a leader
// whose own request is cancelled still commits the others'.
func TestGroupCommitErrorReachesEveryRequestOfTheGroup(t *testing.T) {
	boom := errors.New("disk full")
	var calls int
	g := newGroupCommit(func(ctx context.Context, items []store.InboxItem) error {
		calls++
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if len(items) > 0 && items[0].EventID == "bad" {
			return boom
		}
		return nil
	})
	if err := g.store(context.Background(), []store.InboxItem{{EventID: "bad"}}); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the commit's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.store(ctx, []store.InboxItem{{EventID: "ok"}}); err != nil {
		t.Fatalf("a cancelled leader's commit failed: %v", err)
	}
	if calls != 2 {
		t.Fatalf("%d commits, want 2", calls)
	}
}

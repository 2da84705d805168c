package salesforce

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startFake(t testing.TB, opts salesforcefake.Options) *salesforcefake.Fake {
	t.Helper()
	f := salesforcefake.New(opts)
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// baseConfig points the connector at the fake with fast retries.
func baseConfig(f *salesforcefake.Fake) adapter.Config {
	o := f.Options()
	return adapter.Config{
		"base_url": f.URL(),
		"auth": map[string]any{
			"client_id": o.ClientID, "client_secret": o.ClientSecret, "refresh_token": o.RefreshToken,
		},
		"organization_id": o.OrgID,
		"bulk":            map[string]any{"threshold": 0, "poll_interval": "1ms"},
		"rate":            map[string]any{"requests_per_second": 10000, "burst": 1000},
		"http":            map[string]any{"retry_wait_min": "1ms", "retry_wait_max": "5ms"},
	}
}

func merge(dst adapter.Config, src map[string]any) adapter.Config {
	for k, v := range src {
		if sub, ok := v.(map[string]any); ok {
			if cur, ok := dst[k].(map[string]any); ok {
				for kk, vv := range sub {
					cur[kk] = vv
				}
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func newConn(t testing.TB, f *salesforcefake.Fake, extra map[string]any) (*Connector, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	c := New(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := c.Configure(context.Background(), merge(baseConfig(f), extra)); err != nil {
		t.Fatalf("configuring: %v", err)
	}
	return c, logs
}

// collector is a PageSink that keeps every page.
type collector struct {
	pages   []adapter.Page
	changes []adapter.Change
	cursor  string
	// failAfter makes the sink fail once this many pages were stored.
	failAfter int
}

func (col *collector) sink(_ context.Context, p adapter.Page) error {
	if col.failAfter > 0 && len(col.pages) == col.failAfter {
		return errStop
	}
	col.pages = append(col.pages, p)
	col.changes = append(col.changes, p.Changes...)
	col.cursor = p.Cursor
	return nil
}

type stopErr struct{}

func (stopErr) Error() string { return "sink stopped" }

var errStop = stopErr{}

func pullAll(t testing.TB, c *Connector, object, cursor string, pageSize int) *collector {
	t.Helper()
	col := &collector{cursor: cursor}
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: object, Cursor: cursor, PageSize: pageSize}, col.sink); err != nil {
		t.Fatalf("pulling %s: %v", object, err)
	}
	return col
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

type ctxType = context.Context

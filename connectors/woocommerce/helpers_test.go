package woocommerce

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t.UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a goroutine-safe log sink.
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

// baseConfig is a config for a fake at url with fast retries and a budget
// that never binds unless a test sets one.
func baseConfig(url string) adapter.Config {
	return adapter.Config{
		"base_url":        url,
		"consumer_key":    "ck_test",
		"consumer_secret": "cs_test",
		"rate_limit":      map[string]any{"requests_per_second": 100000, "burst": 1000},
		"retry":           map[string]any{"max": 6, "wait_min": "1ms", "wait_max": "5ms", "max_retry_after": "10ms"},
	}
}

// start runs a fake over plain HTTP and a connector configured for it.
func start(t testing.TB, fo woocommercefake.Options, tweak func(adapter.Config), opts ...Option) (*woocommercefake.Fake, *Connector) {
	t.Helper()
	f := woocommercefake.New(fo)
	url := f.Start()
	t.Cleanup(f.Close)
	cfg := baseConfig(url)
	if tweak != nil {
		tweak(cfg)
	}
	if fo.Now != nil {
		opts = append([]Option{WithClock(fo.Now)}, opts...) // sign with the store's clock
	}
	// Every request is checked against WooCommerce's v3 spec (a test's
	// own WithTransport, given later, replaces the check).
	opts = append([]Option{WithTransport(newSpecValidator(t, nil))}, opts...)
	c := New(slog.New(slog.DiscardHandler), opts...)
	if err := c.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return f, c
}

// genOrders builds n orders for customers 1..nCustomers (0 = guest).
func genOrders(n, nCustomers int, created time.Time) []woocommercefake.Order {
	out := make([]woocommercefake.Order, n)
	for i := range out {
		cust := i % (nCustomers + 1)
		email := fmt.Sprintf("guest%d@example.com", i)
		if cust > 0 {
			email = fmt.Sprintf("c%d@example.com", cust)
		}
		out[i] = woocommercefake.Order{
			Status:            []string{"processing", "completed", "completed", "on-hold", "cancelled"}[i%5],
			Currency:          "EUR",
			DateCreatedGMT:    created.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05"),
			Total:             fmt.Sprintf("%d.%02d", 10+i%90, i%100),
			CustomerID:        cust,
			CustomerUserAgent: []string{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", ""}[i%3],
			Billing:           woocommercefake.Billing{Email: email, Country: "DE"},
			LineItems: []woocommercefake.LineItem{{ID: i + 1, Name: "Widget", ProductID: 7, Quantity: 1,
				Subtotal: "10.00", Total: "10.00", SKU: "W-1", Price: "10"}},
		}
	}
	return out
}

// store collects pulled changes as the host's store would.
type store struct {
	upserts map[string]adapter.Change
	deletes map[string]bool
	emitted map[string]int // id|modified → times emitted
	quar    []adapter.Rejected
	pages   int
	cursor  string
}

func newStore() *store {
	return &store{upserts: map[string]adapter.Change{}, deletes: map[string]bool{}, emitted: map[string]int{}}
}

func (s *store) sink(ctx context.Context, p adapter.Page) error {
	s.pages++
	for _, ch := range p.Changes {
		id := ch.Ref.ID
		switch ch.Kind {
		case adapter.ChangeDelete:
			delete(s.upserts, id)
			s.deletes[id] = true
			s.emitted["del|"+id]++
		default:
			s.upserts[id] = ch
			delete(s.deletes, id)
			s.emitted[id+"|"+ch.Ref.LastModified.Format(time.RFC3339)]++
		}
	}
	s.quar = append(s.quar, p.Quarantined...)
	s.cursor = p.Cursor
	return nil
}

func (s *store) dups() []string {
	var d []string
	for k, n := range s.emitted {
		if n > 1 {
			d = append(d, fmt.Sprintf("%s×%d", k, n))
		}
	}
	return d
}

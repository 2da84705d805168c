package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/internal/testenv"
)

const secret = "whsec_0123456789abcdef"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// receiver is an httptest server that verifies and records deliveries and
// answers with the statuses queued in fail (then 200).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	batches  []Batch
	headers  []http.Header
	verrs    []error
	fail     []int
	always   int // answer every request with this status when non-zero
	clock    func() time.Time
	received chan struct{}
}

func newReceiver(t *testing.T, clock func() time.Time) *receiver {
	r := &receiver{clock: clock, received: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	var b Batch
	if err := json.Unmarshal(body, &b); err != nil {
		r.verrs = append(r.verrs, fmt.Errorf("decoding body: %w", err))
	}
	r.verrs = append(r.verrs, Verify(secret, req.Header, body, r.clock(), DefaultTolerance))
	r.batches = append(r.batches, b)
	r.headers = append(r.headers, req.Header.Clone())
	status := http.StatusOK
	if r.always != 0 {
		status = r.always
	} else if len(r.fail) > 0 {
		status, r.fail = r.fail[0], r.fail[1:]
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":%d}`, status)
	r.received <- struct{}{}
}

func (r *receiver) snapshot() ([]Batch, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.verrs {
		if err != nil {
			panic(fmt.Sprintf("receiver could not verify a delivery: %v", err))
		}
	}
	return append([]Batch(nil), r.batches...), append([]http.Header(nil), r.headers...)
}

// openSQLite opens a store on the SQLite file and its queue; the store
// closes when the test ends.
func openSQLite(t testing.TB, path string) *StoreQueue {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewStoreQueue(st)
}

func openPostgres(t *testing.T) *StoreQueue {
	t.Helper()
	return postgresSchema(t)()
}

// postgresSchema names a schema of the test's own and returns a function
// that opens a new store (a new pool) on it, as a restarted process would.
func postgresSchema(t *testing.T) func() *StoreQueue {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	schema := testenv.PostgresSchema(t, dsn, "outbound")
	return func() *StoreQueue {
		st, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema, MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return NewStoreQueue(st)
	}
}

func events(n int, typ string) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = Event{Type: typ, Segment: "rfm:champions", SegmentKind: "rfm",
			ProfileID: fmt.Sprintf("p%04d", i), Email: fmt.Sprintf("c%d@example.com", i),
			OccurredAt: t0.Add(time.Duration(i) * time.Second)}
	}
	return out
}

func newDispatcher(t *testing.T, q Queue, eps ...Endpoint) *Dispatcher {
	t.Helper()
	d, err := New(Options{Queue: q, Endpoints: eps, Now: func() time.Time { return t0 },
		Backoff: Backoff{Initial: time.Second, Max: time.Minute, Jitter: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestVerify(t *testing.T) {
	body := []byte(`{"events":[]}`)
	ts := t0.Unix()
	h := http.Header{}
	h.Set(HeaderTimestamp, fmt.Sprint(ts))
	h.Set(HeaderSignature, SignatureHeader(secret, ts, body))
	if err := Verify(secret, h, body, t0.Add(time.Minute), DefaultTolerance); err != nil {
		t.Fatalf("valid delivery rejected: %v", err)
	}
	cases := []struct {
		name   string
		secret string
		header func() http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"tampered body", secret, func() http.Header { return h }, []byte(`{"events":[{}]}`), t0, ErrBadSignature},
		{"wrong secret", "whsec_somebody_else", func() http.Header { return h }, body, t0, ErrBadSignature},
		{"stale timestamp", secret, func() http.Header { return h }, body, t0.Add(6 * time.Minute), ErrStaleTimestamp},
		{"future timestamp", secret, func() http.Header { return h }, body, t0.Add(-6 * time.Minute), ErrStaleTimestamp},
		{"no signature", secret, func() http.Header { c := h.Clone(); c.Del(HeaderSignature); return c }, body, t0, ErrNoSignature},
		{"other scheme only", secret, func() http.Header { c := h.Clone(); c.Set(HeaderSignature, "v0=abcd"); return c }, body, t0, ErrNoSignature},
		{"bad timestamp", secret, func() http.Header { c := h.Clone(); c.Set(HeaderTimestamp, "yesterday"); return c }, body, t0, ErrBadTimestamp},
		{"timestamp swapped", secret, func() http.Header { c := h.Clone(); c.Set(HeaderTimestamp, fmt.Sprint(ts+1)); return c }, body, t0, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.secret, c.header(), c.body, c.now, DefaultTolerance)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
	t.Run("rotation", func(t *testing.T) {
		c := h.Clone()
		c.Set(HeaderSignature, SignatureHeader("whsec_new_secret_value", ts, body)+", "+SignatureHeader(secret, ts, body))
		if err := Verify(secret, c, body, t0, DefaultTolerance); err != nil {
			t.Fatalf("old secret among rotated signatures rejected: %v", err)
		}
	})
}

func TestFromConfig(t *testing.T) {
	eps, err := FromConfig([]config.Outbound{{URL: "https://hooks.example.com/in", Secret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	if eps[0].MaxAttempts != DefaultMaxAttempts || eps[0].BatchSize != DefaultBatchSize {
		t.Fatalf("defaults not applied: %+v", eps[0])
	}
	_, err = FromConfig([]config.Outbound{
		{URL: "https://a.example.com/", Secret: secret},
		{URL: "ftp://b.example.com/", Secret: "short", Events: []string{"segment.entered", "segment.moved"}, MaxAttempts: -1, BatchSize: 5000},
		{URL: "https://a.example.com/", Secret: secret},
	})
	for _, want := range []string{
		"outbound_webhooks[1].url: scheme must be http or https",
		"outbound_webhooks[1].secret: must be at least 16 characters",
		`outbound_webhooks[1].events[1]: unknown event "segment.moved"`,
		"outbound_webhooks[1].max_attempts: must be positive, got -1",
		"outbound_webhooks[1].batch_size: must be between 1 and 1000, got 5000",
		"outbound_webhooks[2].url: same URL as outbound_webhooks[0]",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\ndoes not contain %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "short") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

// queueSuite runs the delivery behaviour against one database.
func queueSuite(t *testing.T, open func(t *testing.T) *StoreQueue) {
	ctx := context.Background()

	t.Run("batches signed and in order", func(t *testing.T) {
		q := open(t)
		rcv := newReceiver(t, fixedClock(t0))
		d := newDispatcher(t, q, Endpoint{URL: rcv.URL, Secret: secret, BatchSize: 100, MaxAttempts: 3})
		n, err := d.Publish(ctx, events(250, EventEntered))
		if err != nil || n != 250 {
			t.Fatalf("Publish = %d, %v", n, err)
		}
		// Publishing the same changes again (a job re-run) adds nothing.
		if n, err := d.Publish(ctx, events(250, EventEntered)); err != nil || n != 0 {
			t.Fatalf("re-Publish = %d, %v; want 0 new", n, err)
		}
		st, err := d.RunOnce(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Batches != 3 || st.Delivered != 250 {
			t.Fatalf("stats %+v, want 3 batches / 250 delivered", st)
		}
		batches, headers := rcv.snapshot()
		sizes := []int{}
		next := 0
		for i, b := range batches {
			sizes = append(sizes, len(b.Events))
			if headers[i].Get(HeaderDelivery) != b.DeliveryID || b.Attempt != 1 {
				t.Errorf("batch %d: delivery header %q body %q attempt %d", i, headers[i].Get(HeaderDelivery), b.DeliveryID, b.Attempt)
			}
			for _, e := range b.Events {
				if want := fmt.Sprintf("p%04d", next); e.ProfileID != want || e.Type != EventEntered || e.ID == "" {
					t.Fatalf("event %d is %+v, want profile %s", next, e, want)
				}
				next++
			}
		}
		if fmt.Sprint(sizes) != "[100 100 50]" {
			t.Fatalf("batch sizes %v, want [100 100 50]", sizes)
		}
		if p, _ := Pending(ctx, q, "", 0); len(p) != 0 {
			t.Fatalf("%d deliveries still pending", len(p))
		}
		if st, _ := d.RunOnce(ctx, t0.Add(time.Hour)); st.Batches != 0 {
			t.Fatalf("delivered events sent again: %+v", st)
		}
	})

	t.Run("retry then success", func(t *testing.T) {
		q := open(t)
		rcv := newReceiver(t, fixedClock(t0))
		rcv.fail = []int{500, 503}
		d := newDispatcher(t, q, Endpoint{URL: rcv.URL, Secret: secret, MaxAttempts: 5})
		if _, err := d.Publish(ctx, events(3, EventLeft)); err != nil {
			t.Fatal(err)
		}
		st, _ := d.RunOnce(ctx, t0)
		if st.Failed != 3 || st.Delivered != 0 {
			t.Fatalf("first run %+v, want 3 failed", st)
		}
		p, _ := Pending(ctx, q, "", 0)
		if len(p) != 3 || p[0].Attempts != 1 || !p[0].NextAttemptAt.Equal(t0.Add(time.Second)) || !strings.Contains(p[0].LastError, "500") {
			t.Fatalf("after first failure: %+v", p[0])
		}
		// Not due yet: nothing is sent, and new events wait behind the batch.
		if _, err := d.Publish(ctx, events(5, EventEntered)[3:]); err != nil {
			t.Fatal(err)
		}
		if st, _ := d.RunOnce(ctx, t0.Add(500*time.Millisecond)); st.Batches != 0 {
			t.Fatalf("sent before the backoff elapsed: %+v", st)
		}
		st, _ = d.RunOnce(ctx, t0.Add(time.Second))
		if st.Failed != 5 {
			t.Fatalf("second run %+v, want 5 failed (503)", st)
		}
		p, _ = Pending(ctx, q, "", 0)
		// Retry-After: 30 outweighs the 2s backoff.
		if want := t0.Add(31 * time.Second); !p[0].NextAttemptAt.Equal(want) {
			t.Fatalf("next attempt %s, want %s (Retry-After)", p[0].NextAttemptAt, want)
		}
		rcv.clock = fixedClock(t0.Add(31 * time.Second))
		st, _ = d.RunOnce(ctx, t0.Add(31*time.Second))
		if st.Delivered != 5 {
			t.Fatalf("third run %+v, want 5 delivered", st)
		}
		batches, headers := rcv.snapshot()
		if len(batches) != 3 {
			t.Fatalf("%d requests, want 3", len(batches))
		}
		if batches[1].DeliveryID != batches[2].DeliveryID || headers[2].Get(HeaderAttempt) != "3" || batches[0].Attempt != 1 {
			t.Fatalf("retries not identified: ids %s %s attempt header %q", batches[1].DeliveryID, batches[2].DeliveryID, headers[2].Get(HeaderAttempt))
		}
	})

	t.Run("dead letter after max attempts", func(t *testing.T) {
		q := open(t)
		down := newReceiver(t, fixedClock(t0))
		down.always = http.StatusInternalServerError
		up := newReceiver(t, fixedClock(t0))
		d := newDispatcher(t, q,
			Endpoint{URL: down.URL + "/hook?token=abc", Secret: secret, MaxAttempts: 3, BatchSize: 10},
			Endpoint{URL: up.URL, Secret: secret, MaxAttempts: 3, Events: []string{EventLeft}})
		if _, err := d.Publish(ctx, append(events(4, EventEntered), events(2, EventLeft)...)); err != nil {
			t.Fatal(err)
		}
		var total Stats
		for i := range 6 {
			now := t0.Add(time.Duration(i) * time.Hour)
			down.clock, up.clock = fixedClock(now), fixedClock(now)
			st, err := d.RunOnce(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			total.add(st)
		}
		if got, _ := down.snapshot(); len(got) != 3 {
			t.Fatalf("down receiver got %d requests, want exactly 3", len(got))
		}
		// The healthy endpoint, subscribed to segment.left only, was not held up.
		if got, _ := up.snapshot(); len(got) != 1 || len(got[0].Events) != 2 {
			t.Fatalf("healthy receiver got %+v", got)
		}
		dead, err := DeadLetters(ctx, q, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 6 || total.Dead != 6 {
			t.Fatalf("%d dead letters (stats %+v), want 6", len(dead), total)
		}
		for _, dl := range dead {
			if dl.Attempts != 3 || !strings.Contains(dl.LastError, "500 Internal Server Error") || strings.Contains(dl.LastError, "token=abc") {
				t.Fatalf("dead letter %+v", dl)
			}
		}
		var out strings.Builder
		if err := WriteTable(&out, dead); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "abc") || !strings.Contains(out.String(), "dead") {
			t.Fatalf("listing:\n%s", out.String())
		}
		counts, _ := q.Counts(ctx)
		if len(counts) != 2 {
			t.Fatalf("counts %+v", counts)
		}
		// Fixed receiver: re-queued dead letters go out.
		down.mu.Lock()
		down.always = 0
		down.mu.Unlock()
		if n, err := q.Requeue(ctx, nil, t0.Add(10*time.Hour)); err != nil || n != 6 {
			t.Fatalf("Requeue = %d, %v", n, err)
		}
		down.clock = fixedClock(t0.Add(10 * time.Hour))
		st, _ := d.RunOnce(ctx, t0.Add(10*time.Hour))
		if st.Delivered != 6 {
			t.Fatalf("after requeue %+v, want 6 delivered", st)
		}
		if n, _ := q.Purge(ctx, t0.Add(11*time.Hour)); n != 8 {
			t.Fatalf("purged %d, want 8", n)
		}
	})

	t.Run("concurrent dispatchers deliver once", func(t *testing.T) {
		q := open(t)
		rcv := newReceiver(t, fixedClock(t0))
		ep := Endpoint{URL: rcv.URL, Secret: secret, BatchSize: 7}
		d1 := newDispatcher(t, q, ep)
		d2 := newDispatcher(t, q, ep)
		if _, err := d1.Publish(ctx, events(200, EventEntered)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, d := range []*Dispatcher{d1, d2, d1, d2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.RunOnce(ctx, t0); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// Sweep whatever a claimer backed off from.
		if _, err := d1.RunOnce(ctx, t0); err != nil {
			t.Fatal(err)
		}
		batches, _ := rcv.snapshot()
		seen := map[string]int{}
		for _, b := range batches {
			for _, e := range b.Events {
				seen[e.ProfileID]++
			}
		}
		if len(seen) != 200 {
			t.Fatalf("%d distinct events delivered, want 200", len(seen))
		}
		for p, n := range seen {
			if n != 1 {
				t.Fatalf("%s delivered %d times", p, n)
			}
		}
	})
}

func TestSQLite(t *testing.T) {
	queueSuite(t, func(t *testing.T) *StoreQueue { return openSQLite(t, filepath.Join(t.TempDir(), "q.db")) })
}

func TestPostgres(t *testing.T) {
	queueSuite(t, openPostgres)
}

// TestRestartSQLiteFile publishes into a file, "crashes" (closes the
// database, one batch claimed in flight), reopens it and delivers.
func TestRestartSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connector.db")
	testRestart(t, func() *StoreQueue { return openSQLite(t, path) })
}

// TestRestartPostgres does the same with a new pool on the same schema.
func TestRestartPostgres(t *testing.T) {
	testRestart(t, postgresSchema(t))
}

func testRestart(t *testing.T, open func() *StoreQueue) {
	ctx := context.Background()
	rcv := newReceiver(t, fixedClock(t0))
	ep := Endpoint{URL: rcv.URL, Secret: secret, BatchSize: 4, MaxAttempts: 5}

	q1 := open()
	d1 := newDispatcher(t, q1, ep)
	if _, err := d1.Publish(ctx, events(10, EventEntered)); err != nil {
		t.Fatal(err)
	}
	inFlight, err := q1.Claim(ctx, ep.URL, t0, time.Minute, 4)
	if err != nil || len(inFlight) != 4 {
		t.Fatalf("Claim = %d, %v", len(inFlight), err)
	}
	if err := q1.d.(store.Store).Close(); err != nil {
		t.Fatal(err)
	}

	q2 := open()
	d2 := newDispatcher(t, q2, ep)
	if st, _ := d2.RunOnce(ctx, t0.Add(time.Second)); st.Batches != 0 {
		t.Fatalf("delivered while the dead process's lease held: %+v", st)
	}
	later := t0.Add(2 * time.Minute)
	rcv.clock = fixedClock(later)
	st, err := d2.RunOnce(ctx, later)
	if err != nil || st.Delivered != 10 {
		t.Fatalf("after restart: %+v, %v; want 10 delivered", st, err)
	}
	batches, _ := rcv.snapshot()
	if batches[0].Attempt != 2 || len(batches[0].Events) != 4 || batches[0].Events[0].ProfileID != "p0000" {
		t.Fatalf("the interrupted batch should go first as attempt 2: %+v", batches[0])
	}
}

// TestRun drives the real loop with the real clock: Publish wakes it.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q := openSQLite(t, filepath.Join(t.TempDir(), "q.db"))
	rcv := newReceiver(t, time.Now)
	d, err := New(Options{Queue: q, Endpoints: []Endpoint{{URL: rcv.URL, Secret: secret}}, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	if _, err := d.Publish(ctx, events(3, EventEntered)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rcv.received:
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery within 30s of Publish")
	}
	batches, _ := rcv.snapshot()
	if len(batches) != 1 || len(batches[0].Events) != 3 {
		t.Fatalf("got %+v", batches)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	ctx := context.Background()
	target := newReceiver(t, fixedClock(t0))
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	q := openSQLite(t, filepath.Join(t.TempDir(), "q.db"))
	d := newDispatcher(t, q, Endpoint{URL: redirect.URL, Secret: secret, MaxAttempts: 2})
	if _, err := d.Publish(ctx, events(1, EventEntered)); err != nil {
		t.Fatal(err)
	}
	st, _ := d.RunOnce(ctx, t0)
	if st.Failed != 1 {
		t.Fatalf("stats %+v, want the redirect to count as a failure", st)
	}
	if got, _ := target.snapshot(); len(got) != 0 {
		t.Fatal("the signed body followed a redirect")
	}
}

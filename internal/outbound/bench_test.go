package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

// The benchmarks move 1,000 events per op in batches of 100 to a receiver
// that answers 200. BenchmarkBarePost is the baseline: the same signed
// batches posted directly, with no queue. The ratio of the two is the cost
// of durability (publish, claim, mark delivered in SQLite).

const benchEvents = 1000

func benchReceiver(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

func BenchmarkBarePost(b *testing.B) {
	srv := benchReceiver(b)
	evs := events(benchEvents, EventEntered)
	for i := range evs {
		evs[i].ID = evs[i].deriveID()
	}
	client := &http.Client{Timeout: 10 * time.Second}
	b.ResetTimer()
	for range b.N {
		for lo := 0; lo < benchEvents; lo += 100 {
			batch := evs[lo : lo+100]
			body, _ := json.Marshal(Batch{DeliveryID: deliveryID(batch), Attempt: 1, SentAt: t0, Events: batch})
			req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
			req.Header.Set(HeaderSignature, SignatureHeader(secret, t0.Unix(), body))
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.ReportMetric(float64(b.N*benchEvents)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkQueuedSQLite(b *testing.B) {
	srv := benchReceiver(b)
	ctx := context.Background()
	q := openSQLite(b, filepath.Join(b.TempDir(), "q.db"))
	d, err := New(Options{Queue: q, Endpoints: []Endpoint{{URL: srv.URL, Secret: secret, BatchSize: 100}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		evs := events(benchEvents, EventEntered)
		for j := range evs {
			evs[j].Segment = fmt.Sprintf("seg%d", i) // new events every op
		}
		if _, err := d.Publish(ctx, evs); err != nil {
			b.Fatal(err)
		}
		st, err := d.RunOnce(ctx, time.Now())
		if err != nil || st.Delivered != benchEvents {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(b.N*benchEvents)/b.Elapsed().Seconds(), "events/s")
}

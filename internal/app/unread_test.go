package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
)

// TestUnreadableWriteAnswersAreRetriedNotParked: HubSpot applies list
// membership writes but its answers arrive cut short (a proxy truncates
// them). Whether the writes took effect is unknown, so the items are
// retried, not parked as refused; once answers arrive whole, the next
// write leaves HubSpot exactly in the computed state with nothing parked.
func TestUnreadableWriteAnswersAreRetriedNotParked(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end write-back against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 120, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	hs, _ := sb.Endpoint(sandbox.HubSpot)
	target, err := url.Parse(hs.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	var garble atomic.Bool
	var garbled atomic.Int32
	garble.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !garble.Load() || !strings.HasSuffix(resp.Request.URL.Path, "/memberships/add-and-remove") || resp.StatusCode != http.StatusOK {
			return nil
		}
		// The platform applied the write; its answer is cut short.
		garbled.Add(1)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cut := `{"recordsIdsAdded":["10`
		resp.Body = io.NopCloser(strings.NewReader(cut))
		resp.ContentLength = int64(len(cut))
		resp.Header.Set("Content-Length", strconv.Itoa(len(cut)))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	l := sb.ConnectorConfig(t.TempDir())
	l.Config.Platforms[sandbox.HubSpot]["base_url"] = front.URL
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	var offset atomic.Int64
	env, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(),
		app.Options{StoreNow: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })

	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	if garbled.Load() == 0 {
		t.Fatal("no list write was answered cut short; the test needs some")
	}
	stats, err := env.Store.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats[store.OutboxFailed] != 0 {
		parked, _ := env.FailedWriteback(ctx, "", 3)
		t.Fatalf("%d items parked as refused after answers that could not be read, e.g. %+v", stats[store.OutboxFailed], parked)
	}
	if stats[store.OutboxPending] == 0 {
		t.Fatalf("nothing waits for a retry after %d unreadable answers: %v", garbled.Load(), stats)
	}

	garble.Store(false)
	offset.Store(int64(time.Hour)) // the retries are due
	if _, err := env.Drain(ctx, sandbox.HubSpot); err != nil {
		t.Fatal(err)
	}
	stats, _ = env.Store.OutboxStats(ctx)
	if stats[store.OutboxFailed]+stats[store.OutboxPending]+stats[store.OutboxSuperseded] != 0 {
		t.Fatalf("write-back not settled after the retry: %v", stats)
	}
	if probs, _ := apptest.PlatformState(t, env, sb); len(probs) > 0 {
		t.Fatalf("%d values differ after the retry, e.g.:\n%s", len(probs), strings.Join(probs[:min(5, len(probs))], "\n"))
	}
}

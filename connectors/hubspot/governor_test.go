package hubspot

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"
)

// TestWebhookWorkGoesFirst: while a webhook's fetch waits, a pull's
// request does not go out, however long it waits. It runs in a synctest
// bubble: time is fake, so "ten token intervals" pass exactly and at once.
func TestWebhookWorkGoesFirst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, webhookWorkGoesFirst)
}

func webhookWorkGoesFirst(t *testing.T) {
	release, highEntered := make(chan struct{}), make(chan struct{})
	var lowEntered atomic.Bool
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("X-Kind") == "high" {
			close(highEntered)
			<-release // the webhook fetch is still in flight
		} else {
			lowEntered.Store(true)
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	g := &governor{base: base, limiter: rate.NewLimiter(50, 1), shared: &sharedBudget{}, now: time.Now}
	send := func(ctx context.Context, kind string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://hubspot.invalid/", nil)
		req.Header.Set("X-Kind", kind)
		if _, err := g.RoundTrip(req); err != nil {
			t.Error(err)
		}
	}
	highDone := make(chan struct{})
	go func() { send(withPriority(context.Background()), "high"); close(highDone) }()
	<-highEntered
	lowDone := make(chan struct{})
	go func() { send(context.Background(), "low"); close(lowDone) }()
	// Ten token intervals of fake time: without priority the pull's
	// request would be sent by now.
	time.Sleep(200 * time.Millisecond)
	synctest.Wait()
	if lowEntered.Load() {
		t.Error("a pull request went out while webhook work was waiting")
	}
	close(release)
	<-highDone
	<-lowDone
	if !lowEntered.Load() {
		t.Fatal("the pull request never went out")
	}
}

// TestBackgroundCallsLeaveAReserve: a burst of list calls (background)
// never empties the bucket, so a property write that comes during it
// finds a slot at once. It runs in a synctest bubble, so the 300 ms and
// the refill in them are exact.
func TestBackgroundCallsLeaveAReserve(t *testing.T) {
	t.Parallel()
	synctest.Test(t, backgroundCallsLeaveAReserve)
}

func backgroundCallsLeaveAReserve(t *testing.T) {
	var sent atomic.Int64
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	// 20 requests a second with a burst of 10: background calls leave 5.
	lim := rate.NewLimiter(20, 10)
	g := &governor{base: base, limiter: lim, shared: &sharedBudget{}, now: time.Now}
	send := func(ctx context.Context) {
		req, _ := http.NewRequestWithContext(ctx, "PUT", "http://hubspot.invalid/", nil)
		if _, err := g.RoundTrip(req); err != nil && ctx.Err() == nil {
			t.Error(err)
		}
	}
	ctx, cancel := context.WithCancel(inBackground(context.Background()))
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for range 30 {
		wg.Go(func() { send(ctx) }) // list calls, many more than the bucket holds
	}
	time.Sleep(300 * time.Millisecond)
	synctest.Wait()
	// Fake time makes the count exact: six calls while the bucket holds at
	// least the reserve of 5 (10 down to 5), then one per token refilled
	// (20/s for 300 ms).
	if n := sent.Load(); n != 6+6 {
		t.Fatalf("%d background calls went out in 300ms; want 12: 6 above the reserve plus 6 refilled", n)
	}
	if tokens := lim.Tokens(); tokens < 4 {
		t.Fatalf("background calls left %.1f tokens; want the reserve of 5", tokens)
	}
	start := time.Now()
	send(withPriority(context.Background()))
	if waited := time.Since(start); waited != 0 {
		t.Fatalf("the priority call waited %v behind background calls", waited)
	}
}

package hubspot

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestWebhookWorkGoesFirst(t *testing.T) {
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
	// Ten token intervals: without priority the pull's request would be sent by now.
	time.Sleep(200 * time.Millisecond)
	if lowEntered.Load() {
		t.Fatal("a pull request went out while webhook work was waiting")
	}
	close(release)
	<-highDone
	<-lowDone
	if !lowEntered.Load() {
		t.Fatal("the pull request never went out")
	}
}

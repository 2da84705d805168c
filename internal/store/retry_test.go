package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

func TestRetryPolicies(t *testing.T) {
	plain := fmt.Errorf("boom")
	for attempts := 0; attempts < 40; attempts++ {
		// The schedules the inbox and the outbox used before they shared
		// store.Backoff: 1s<<n and 5s<<n, each up to 10 minutes.
		wantInbox := 10 * time.Minute
		if attempts < 10 {
			wantInbox = min(time.Second<<attempts, 10*time.Minute)
		}
		if got := store.InboxRetry().After(plain, attempts+1); got != wantInbox {
			t.Errorf("inbox after attempt %d: %v, want %v", attempts, got, wantInbox)
		}
		wantOutbox := min(5*time.Second<<min(attempts, 7), 10*time.Minute)
		if got := store.OutboxRetry().After(plain, attempts+1); got != wantOutbox {
			t.Errorf("outbox after attempt %d: %v, want %v", attempts, got, wantOutbox)
		}
	}
	auth := adapter.Errorf(adapter.KindAuth, "token expired")
	if got := store.OutboxRetry().After(auth, 1); got != 15*time.Minute {
		t.Errorf("outbox after an auth failure: %v, want 15m", got)
	}
	if got := store.InboxRetry().After(auth, 1); got != time.Second {
		t.Errorf("inbox after an auth failure: %v, want the plain schedule (1s)", got)
	}
	limited := adapter.RateLimited(42*time.Second, plain)
	for _, p := range []store.RetryPolicy{store.InboxRetry(), store.OutboxRetry()} {
		if got := p.After(limited, 9); got != 42*time.Second {
			t.Errorf("after a rate limit asking for 42s: %v", got)
		}
	}
	b := store.DeliveriesBackoff()
	for n := 1; n < 30; n++ {
		base := min(b.Initial<<min(n-1, 20), b.Max)
		got := b.Delay(n)
		if lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2); got < lo || got > hi {
			t.Errorf("deliveries after failure %d: %v, want %v ±20%%", n, got, base)
		}
	}
}

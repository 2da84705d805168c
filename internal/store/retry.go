package store

import (
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Backoff is the one retry schedule of the store's three lease queues
// (the webhook inbox, the write-back outbox and the outbound deliveries):
// Initial after the first failure, growing by Multiplier up to Max, with
// an optional random spread. The schedule itself is cenkalti/backoff's
// exponential back-off, a well-kept implementation of exactly this.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64 // < 1 means 2
	// Jitter is the randomisation factor (0.2 = ±20%); 0 means none.
	Jitter float64
}

// Delay is the wait after the given number of failed attempts (1 = the
// first failure).
func (b Backoff) Delay(failures int) time.Duration {
	mult := b.Multiplier
	if mult < 1 {
		mult = 2
	}
	eb := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(b.Initial),
		backoff.WithMaxInterval(b.Max),
		backoff.WithMultiplier(mult),
		backoff.WithRandomizationFactor(max(b.Jitter, 0)),
		backoff.WithMaxElapsedTime(0),
	)
	d := eb.NextBackOff()
	// Past 64 doublings every schedule sits at Max.
	for i := 1; i < min(failures, 64); i++ {
		d = eb.NextBackOff()
	}
	return d
}

// RetryPolicy decides when a lease queue's failed item is due again.
type RetryPolicy struct {
	Backoff Backoff
	// AuthPause, when set, is the wait after an authentication failure:
	// retrying sooner cannot help until a person fixes the credentials.
	AuthPause time.Duration
}

// After is the wait before the next attempt of an item that failed with
// err for the failures-th time. A wait the platform asked for (an HTTP
// Retry-After) wins.
func (p RetryPolicy) After(err error, failures int) time.Duration {
	if d := adapter.RetryAfterOf(err); d > 0 {
		return d
	}
	if p.AuthPause > 0 && adapter.KindOf(err) == adapter.KindAuth {
		return p.AuthPause
	}
	return p.Backoff.Delay(failures)
}

// InboxRetry is the policy of the webhook inbox: 1s, 2s, 4s … up to 10
// minutes.
func InboxRetry() RetryPolicy {
	return RetryPolicy{Backoff: Backoff{Initial: time.Second, Max: 10 * time.Minute}}
}

// OutboxRetry is the policy of the write-back outbox: 5s, 10s, 20s … up
// to 10 minutes, and 15 minutes after an authentication failure.
func OutboxRetry() RetryPolicy {
	return RetryPolicy{Backoff: Backoff{Initial: 5 * time.Second, Max: 10 * time.Minute}, AuthPause: 15 * time.Minute}
}

// DeliveriesBackoff is the default schedule of outbound deliveries: 5s,
// doubling up to an hour, spread ±20% so that receivers coming back are
// not hit by every replica at once.
func DeliveriesBackoff() Backoff {
	return Backoff{Initial: 5 * time.Second, Max: time.Hour, Multiplier: 2, Jitter: 0.2}
}

package testenv

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// errNotYet is what Eventually's condition says while it does not hold.
var errNotYet = errors.New("")

// Eventually polls cond until it returns true and fails t (naming what)
// if it has not within the given time. Polls start 1 ms apart and back off
// to 50 ms, so a condition that holds at once costs nothing and a slow one
// does not spin. Use it instead of a fixed sleep followed by a check; for
// "this must not happen" checks use Consistently, or testing/synctest
// where no sockets are involved, whose fake clock makes the wait exact.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	Await(t, within, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// Await is Eventually for a check that can say why it does not hold yet:
// it polls check until it returns nil, and fails t naming what and the
// last error check returned (the state the wait ended in).
func Await(t testing.TB, within time.Duration, what string, check func() error) {
	t.Helper()
	AwaitEvery(t, within, 0, what, check)
}

// AwaitEvery is Await polling every interval instead of backing off from
// 1 ms, for a check that is expensive or that the system under test sees
// (each look plans write-back, say), so it keeps the cadence it had.
func AwaitEvery(t testing.TB, within, every time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	wait := time.Millisecond
	if every > 0 {
		wait = every
	}
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err.Error() == "" {
				t.Fatalf("%s did not happen within %v", what, within)
			}
			t.Fatalf("%s did not happen within %v: %v", what, within, err)
		}
		time.Sleep(wait)
		if every == 0 {
			wait = min(2*wait, 50*time.Millisecond)
		}
	}
}

// Consistently checks that cond holds, polling it for the whole of the
// given time, and fails t (naming what) the first time it does not. It is
// the bounded form of "this never happens": the wait is as long as the
// window in which the unwanted thing would show, and no longer.
func Consistently(t testing.TB, during time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(during)
	wait := time.Millisecond
	for {
		if !cond() {
			t.Fatalf("%s stopped holding after %v", what, time.Since(start).Round(time.Millisecond))
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(min(wait, time.Until(deadline)+time.Millisecond))
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// Settle waits until cond has held without a break for stable, polling
// it, and fails t (naming what) if that has not happened within the given
// time. It is for "wait until the system is quiet": a queue that is empty
// now may fill again a moment later, so one true poll is not enough.
func Settle(t testing.TB, within, stable time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	poll := min(max(stable/4, time.Millisecond), 50*time.Millisecond)
	var since time.Time // when cond last began to hold; zero while it does not
	for {
		now := time.Now()
		switch {
		case !cond():
			since = time.Time{}
		case since.IsZero():
			since = now
		}
		if !since.IsZero() && now.Sub(since) >= stable {
			return
		}
		if now.After(deadline) {
			t.Fatalf("%s did not hold for %v within %v", what, stable, within)
		}
		time.Sleep(poll)
	}
}

// Clock is a clock for fakes and clients under test that runs with the
// wall clock but can be stepped forward, so a test reaches "a later
// millisecond" or "an hour later" without sleeping. The zero value runs
// with the wall clock. It is safe for concurrent use.
type Clock struct {
	offset atomic.Int64 // nanoseconds added to the wall clock
}

// Now returns the wall-clock time plus every Advance so far.
func (c *Clock) Now() time.Time {
	return time.Now().Add(time.Duration(c.offset.Load()))
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.offset.Add(int64(d))
}

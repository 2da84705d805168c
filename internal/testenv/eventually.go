package testenv

import (
	"sync/atomic"
	"testing"
	"time"
)

// Eventually polls cond until it returns true and fails t (naming what)
// if it has not within the given time. Polls start 1 ms apart and back off
// to 50 ms, so a condition that holds at once costs nothing and a slow one
// does not spin. Use it instead of a fixed sleep followed by a check; for
// "this must not happen" checks with no sockets involved, prefer
// testing/synctest, whose fake clock makes the wait exact.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %v", what, within)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
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

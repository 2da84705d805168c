package testenv_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
)

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	testenv.Eventually(t, 5*time.Second, "the third poll", func() bool { return calls.Add(1) >= 3 })
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3 (it must stop polling once true)", n)
	}
}

func TestEventuallyFailsNamingWhatDidNotHappen(t *testing.T) {
	t.Parallel()
	fatal := fatalOf(t, func(tb testing.TB) {
		testenv.Eventually(tb, 20*time.Millisecond, "the impossible", func() bool { return false })
	})
	if want := "the impossible did not happen within 20ms"; fatal != want {
		t.Fatalf("Fatalf message %q, want %q", fatal, want)
	}
}

func TestClockAdvancesWithoutSleeping(t *testing.T) {
	t.Parallel()
	var c testenv.Clock
	before := c.Now()
	c.Advance(time.Hour)
	if d := c.Now().Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Fatalf("after Advance(1h) the clock moved %v", d)
	}
}

// fatalOf runs f with a recorder standing in for t and returns the
// message f failed with ("" if it did not).
func fatalOf(t *testing.T, f func(testing.TB)) string {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(rec)
	}()
	<-done
	return rec.fatal
}

// recorder captures Fatalf and ends the goroutine as t.Fatalf would.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestAwaitFailsWithTheLastState(t *testing.T) {
	t.Parallel()
	n := 0
	fatal := fatalOf(t, func(tb testing.TB) {
		testenv.Await(tb, 20*time.Millisecond, "the queue to drain", func() error {
			n++
			return fmt.Errorf("%d left", 10-min(n, 3))
		})
	})
	if want := "the queue to drain did not happen within 20ms: 7 left"; fatal != want {
		t.Fatalf("Fatalf message %q, want %q", fatal, want)
	}
}

func TestConsistentlyHoldsForTheWholeWindow(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	start := time.Now()
	testenv.Consistently(t, 30*time.Millisecond, "nothing sent", func() bool { calls.Add(1); return true })
	if time.Since(start) < 30*time.Millisecond || calls.Load() < 2 {
		t.Fatalf("returned after %v and %d checks: the window was not watched", time.Since(start), calls.Load())
	}
}

func TestConsistentlyFailsWhenTheConditionBreaks(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	fatal := fatalOf(t, func(tb testing.TB) {
		testenv.Consistently(tb, 5*time.Second, "no request sent", func() bool { return calls.Add(1) < 3 })
	})
	if !strings.HasPrefix(fatal, "no request sent stopped holding after ") {
		t.Fatalf("Fatalf message %q", fatal)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3 (it must stop at the first failure)", n)
	}
}

func TestSettleWaitsForAnUnbrokenRun(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	// True, false, then true for good: the first true poll must not count.
	testenv.Settle(t, 5*time.Second, 20*time.Millisecond, "quiet", func() bool { return calls.Add(1) != 2 })
	if n := calls.Load(); n < 4 {
		t.Fatalf("cond called %d times: the run after the break was not watched", n)
	}
	fatal := fatalOf(t, func(tb testing.TB) {
		testenv.Settle(tb, 30*time.Millisecond, time.Second, "never quiet", func() bool { return false })
	})
	if want := "never quiet did not hold for 1s within 30ms"; fatal != want {
		t.Fatalf("Fatalf message %q, want %q", fatal, want)
	}
}

func TestAwaitEveryKeepsItsCadence(t *testing.T) {
	t.Parallel()
	var looks []time.Time
	testenv.AwaitEvery(t, 5*time.Second, 20*time.Millisecond, "the third look", func() error {
		looks = append(looks, time.Now())
		if len(looks) < 3 {
			return fmt.Errorf("look %d", len(looks))
		}
		return nil
	})
	for i := 1; i < len(looks); i++ {
		if d := looks[i].Sub(looks[i-1]); d < 20*time.Millisecond {
			t.Fatalf("looks %d and %d were %v apart, want at least the 20ms asked", i, i+1, d)
		}
	}
}

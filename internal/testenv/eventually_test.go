package testenv_test

import (
	"fmt"
	"runtime"
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
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		testenv.Eventually(rec, 20*time.Millisecond, "the impossible", func() bool { return false })
	}()
	<-done
	if want := "the impossible did not happen within 20ms"; rec.fatal != want {
		t.Fatalf("Fatalf message %q, want %q", rec.fatal, want)
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

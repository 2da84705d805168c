package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// testLock: a named lock is held by one holder at a time, a waiter gives
// up when its context ends, and other names do not wait.
func testLock(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	unlock, err := s.Lock(ctx, "segments")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Lock(ctx, "other")
	if err != nil {
		t.Fatalf("a lock of another name waited on segments: %v", err)
	}
	other()

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if u, err := s.Lock(short, "segments"); err == nil {
		u()
		t.Fatal("a second holder took the segments lock while it was held")
	}

	got := make(chan time.Time, 1)
	go func() {
		u, err := s.Lock(ctx, "segments")
		if err != nil {
			t.Error(err)
			got <- time.Time{}
			return
		}
		got <- time.Now()
		u()
	}()
	time.Sleep(50 * time.Millisecond)
	released := time.Now()
	unlock()
	select {
	case at := <-got:
		if at.Before(released) {
			t.Fatal("the waiter took the lock before it was released")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter never took the lock after it was released")
	}
}
